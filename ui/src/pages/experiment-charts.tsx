// The experiment's chart grid: every metric key over the newest runs (or the runs picked in
// the URL), one chart per key, sections by "/" prefix, mounted lazily.
import { useEffect, useState } from "preact/hooks";
import { type Keys, type RunColumns, tracklet } from "../api";
import { ErrorBox, Spinner } from "../components/common";
import { LazyChartGrid } from "../lazy";
import { loadMarks } from "../run-marks";

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
    // Pinned runs first, then the newest; hidden runs (the runs table's eye) left out.
    const { pinned, hidden } = loadMarks(experimentId);
    const search = (filter: string, max: number) =>
      tracklet<RunColumns>("runs/search-columns", { experiment_ids: [experimentId], filter, max_results: max });
    const ids = pinned.map((id) => `'${id.replace(/'/g, "")}'`).join(", ");
    Promise.all([search("", RUNS + hidden.length), pinned.length ? search(`attributes.run_id IN (${ids})`, pinned.length) : null]).then(
      ([newest, pins]) => {
        const lines: { runId: string; label: string }[] = [];
        const seen = new Set(hidden);
        for (const r of [pins, newest]) {
          if (!r) continue;
          (r.columns.run_id as string[]).forEach((id, i) => {
            if (seen.has(id) || lines.length >= RUNS + pinned.length) return;
            seen.add(id);
            lines.push({ runId: id, label: (r.columns.run_name[i] as string) || id });
          });
        }
        setRuns(lines.slice(0, Math.max(RUNS, pinned.length)));
      },
      setError,
    );
  }, [experimentId]);
  if (error) return <ErrorBox error={error} />;
  if (!keys || !runs) return <Spinner />;
  return (
    <>
      <p class="muted">The pinned and newest runs ({runs.length}, hidden ones left out), one chart per metric.</p>
      <LazyChartGrid keys={keys} lines={runs} search />
    </>
  );
}
