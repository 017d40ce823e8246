// The experiment's chart grid: every metric key over the newest runs (or the runs picked in
// the URL), one chart per key, sections by "/" prefix, mounted lazily.
import { useEffect, useState } from "preact/hooks";
import { type Keys, type RunColumns, tracklet } from "../api";
import { ErrorBox, Spinner } from "../components/common";
import { LazyChartGrid } from "../lazy";

const RUNS = 10;

export function ExperimentCharts({ experimentId }: { experimentId: string }) {
  const [keys, setKeys] = useState<string[] | null>(null);
  const [runs, setRuns] = useState<{ runId: string; label: string }[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    tracklet<Keys>(`experiments/keys?experiment_ids=${encodeURIComponent(experimentId)}`).then(
      (k) => setKeys(k.metrics.map((m) => m.key)),
      setError,
    );
    tracklet<RunColumns>("runs/search-columns", { experiment_ids: [experimentId], max_results: RUNS }).then(
      (r) =>
        setRuns(
          (r.columns.run_id as string[]).map((id, i) => ({ runId: id, label: (r.columns.run_name[i] as string) || id })),
        ),
      setError,
    );
  }, [experimentId]);
  if (error) return <ErrorBox error={error} />;
  if (!keys || !runs) return <Spinner />;
  return (
    <>
      <p class="muted">The newest {runs.length} runs, one chart per metric.</p>
      <LazyChartGrid keys={keys} lines={runs} search />
    </>
  );
}
