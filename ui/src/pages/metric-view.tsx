// The metric page's body (lazy, with uPlot): one large chart of a metric over several runs.
import { useMemo } from "preact/hooks";
import { ChartControls, settingsFromUrl } from "../chart-grid";
import { type Line, MetricChart } from "../charts";
import { route } from "../router";
import { SeriesLoader } from "../series";

export function MetricView({ metric, lines }: { metric: string; lines: Line[] }) {
  const settings = settingsFromUrl(route.value.query);
  const loader = useMemo(() => new SeriesLoader(settings.x, 2000), [settings.x, lines.map((l) => l.runId).join()]);
  return (
    <>
      <ChartControls settings={settings} />
      <section class="chart-card big" data-testid="chart" data-key={metric}>
        <h3>{metric}</h3>
        <MetricChart metric={metric} lines={lines} settings={settings} loader={loader} height={440} />
      </section>
    </>
  );
}
