// A grid of metric charts with shared controls (x axis, log, smoothing, band, key search),
// sections by the key's "/" prefix and charts mounted only near the viewport.
import { useEffect, useMemo, useState } from "preact/hooks";
import { type ChartSettings, LazyCard, type Line, MetricChart } from "./charts";
import { route, setQuery } from "./router";
import { SeriesLoader, type XKind } from "./series";

/** Chart settings from the URL: tracklet's names (x, log, smooth, band) or MLflow's metric page
 * names (x_axis, y_axis_scale, line_smoothness). */
export function settingsFromUrl(q: URLSearchParams): ChartSettings {
  const unquote = (v: string | null) => (v ?? "").replace(/^"|"$/g, "");
  const x = q.get("x") ?? unquote(q.get("x_axis"));
  let smooth = Number(q.get("smooth") ?? unquote(q.get("line_smoothness")) ?? 0) || 0;
  if (smooth >= 1) smooth /= 100; // MLflow's slider runs 0..100
  return {
    x: x === "wall" || x === "relative" ? x : "step",
    log: q.get("log") === "1" || unquote(q.get("y_axis_scale")) === "log",
    smooth: Math.min(0.99, Math.max(0, smooth)),
    band: q.get("band") !== "0",
  };
}

export function ChartControls({ settings, search }: { settings: ChartSettings; search?: boolean }) {
  const q = route.value.query;
  const [text, setText] = useState(q.get("keys") ?? "");
  const xs: [XKind, string][] = [
    ["step", "Step"],
    ["relative", "Relative"],
    ["wall", "Wall time"],
  ];
  return (
    <div class="chart-controls">
      {search && (
        <input
          type="search"
          placeholder="Search metrics (regex)"
          data-testid="chart-search"
          data-shortcut-focus
          value={text}
          onInput={(e) => {
            const v = (e.target as HTMLInputElement).value;
            setText(v);
            setQuery({ keys: v || undefined });
          }}
        />
      )}
      <span class="seg" role="group" aria-label="X axis">
        {xs.map(([v, l]) => (
          <button class={settings.x === v ? "on" : ""} data-testid={"x-" + v} onClick={() => setQuery({ x: v === "step" ? undefined : v })}>
            {l}
          </button>
        ))}
      </span>
      <label class="check">
        <input type="checkbox" data-testid="log-y" checked={settings.log} onChange={(e) => setQuery({ log: (e.target as HTMLInputElement).checked ? "1" : undefined })} />
        Log y
      </label>
      <label class="check">
        <input type="checkbox" data-testid="band" checked={settings.band} onChange={(e) => setQuery({ band: (e.target as HTMLInputElement).checked ? undefined : "0" })} />
        Min/max band
      </label>
      <label class="check">
        Smoothing
        <input
          type="range"
          min="0"
          max="0.99"
          step="0.01"
          data-testid="smoothing"
          value={settings.smooth}
          onChange={(e) => {
            const v = Number((e.target as HTMLInputElement).value);
            setQuery({ smooth: v > 0 ? String(v) : undefined });
          }}
        />
        <span class="mono">{settings.smooth.toFixed(2)}</span>
      </label>
    </div>
  );
}

function keyFilter(text: string): (k: string) => boolean {
  if (!text) return () => true;
  try {
    const re = new RegExp(text, "i");
    return (k) => re.test(k);
  } catch {
    const t = text.toLowerCase();
    return (k) => k.toLowerCase().includes(t);
  }
}

/** Charts of ``keys`` over ``lines``; one batched request fetches the first 100 series. */
export function ChartGrid(props: { keys: string[]; lines: Line[]; refresh?: Record<string, number>; search?: boolean }) {
  const q = route.value.query;
  const settings = settingsFromUrl(q);
  const loader = useMemo(() => new SeriesLoader(settings.x), [settings.x, props.lines.map((l) => l.runId).join()]);
  const match = keyFilter(q.get("keys") ?? "");
  const keys = props.keys.filter(match);
  // Prefetch: the whole grid's data in as few requests as the batch size allows.
  useEffect(() => {
    let budget = 100;
    for (const key of keys) for (const l of props.lines) if (budget-- > 0) loader.load(l.runId, key);
  }, [loader, keys.join("\n")]);
  const sections = new Map<string, string[]>();
  for (const k of keys) {
    const at = k.lastIndexOf("/");
    const section = at > 0 ? k.slice(0, at) : "";
    let list = sections.get(section);
    if (!list) sections.set(section, (list = []));
    list.push(k);
  }
  return (
    <div data-testid="chart-grid" data-count={keys.length}>
      <ChartControls settings={settings} search={props.search} />
      {!keys.length && <p class="muted">No metrics{props.keys.length ? " match the search" : ""}.</p>}
      {[...sections.entries()].map(([section, list]) => (
        <div class="chart-section">
          {section && <h2>{section}</h2>}
          <div class="chart-grid">
            {list.map((key) => (
              <LazyCard testid="chart" chartKey={key}>
                {(width) => (
                  <MetricChart metric={key} lines={props.lines} settings={settings} loader={loader} refresh={props.refresh?.[key]} width={width} />
                )}
              </LazyCard>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}
