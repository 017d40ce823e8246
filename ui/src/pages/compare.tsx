// Compare runs (MLflow's #/compare-runs?runs=[...]&experiments=[...]): a diff table of params,
// metrics and tags with "only differences", parallel coordinates, a scatter plot and overlaid
// metric charts.
import { useEffect, useMemo, useState } from "preact/hooks";
import { type RunColumns, tracklet } from "../api";
import { ErrorBox, Spinner } from "../components/common";
import { type Axis, ParallelCoordinates, Scatter } from "../components/parcoords";
import { fmtNumber } from "../format";
import { LazyChartGrid } from "../lazy";
import { jsonParam, route, setQuery } from "../router";

const MAX_AXES = 10;
const MAX_CHART_RUNS = 10;
const DEFER_TABLE_RUNS = 50;

async function loadRuns(runIds: string[], experiments: string[]): Promise<RunColumns> {
  const chunks: string[][] = [];
  for (let i = 0; i < runIds.length; i += 500) chunks.push(runIds.slice(i, i + 500));
  // All pages at once (a 1,000-run comparison is two requests side by side).
  const pages = await Promise.all(
    chunks.map((chunk) =>
      tracklet<RunColumns>("runs/search-columns", {
        experiment_ids: experiments,
        filter: `attributes.run_id IN (${chunk.map((id) => `'${id.replace(/'/g, "")}'`).join(", ")})`,
        max_results: 500,
        run_view_type: "ALL",
      }),
    ),
  );
  if (pages.length === 1) return pages[0];
  const columns: RunColumns["columns"] = {};
  const n = pages.reduce((s, p) => s + p.n, 0);
  let at = 0;
  for (const p of pages) {
    for (const [k, v] of Object.entries(p.columns)) {
      const col = (columns[k] ??= new Array(n).fill(null));
      v.forEach((x, j) => (col[at + j] = x));
    }
    at += p.n;
  }
  return { n, columns };
}

function differs(values: (string | number | null)[]): boolean {
  return values.some((v) => v !== values[0]);
}

export function ComparePage() {
  const q = route.value.query;
  const runIds = jsonParam<string[]>(q, "runs", []);
  const experiments = jsonParam<string[]>(q, "experiments", []);
  const onlyDiff = q.get("diff") === "1";
  const [data, setData] = useState<RunColumns | null>(null);
  const [error, setError] = useState<unknown>(null);
  // The plots first: with many runs the diff table (a column a run) is most of the rendering,
  // so it mounts after the frame that shows them.
  const [tableShown, setTableShown] = useState(false);
  useEffect(() => {
    if (!data) return;
    if (runIds.length <= DEFER_TABLE_RUNS) return setTableShown(true);
    let timer = 0;
    const frame = requestAnimationFrame(() => (timer = window.setTimeout(() => setTableShown(true), 0)));
    return () => (cancelAnimationFrame(frame), clearTimeout(timer));
  }, [data]);
  useEffect(() => {
    if (!experiments.length) {
      setError(new Error("The link names no experiments (experiments=[...])"));
      return;
    }
    loadRuns(runIds, experiments).then(setData, setError);
  }, [runIds.join(), experiments.join()]);

  const order = useMemo(() => {
    if (!data) return [] as number[];
    const at = new Map((data.columns.run_id as string[]).map((id, i) => [id, i]));
    return runIds.map((id) => at.get(id)).filter((i): i is number => i !== undefined);
  }, [data]);
  if (error) return <main class="page"><ErrorBox error={error} /></main>;
  if (!data) return <main class="page"><Spinner /></main>;
  const cols = data.columns;
  const pick = (name: string) => order.map((i) => cols[name][i]);
  const labels = order.map((i) => (cols.run_name[i] as string) || (cols.run_id[i] as string));
  const names = Object.keys(cols);
  const params = names.filter((n) => n.startsWith("params.")).sort();
  const metrics = names.filter((n) => n.startsWith("metrics.")).sort();
  const tags = names.filter((n) => n.startsWith("tags.") && !n.startsWith("tags.mlflow.")).sort();
  const axesNames = [...params.filter((p) => differs(pick(p))), ...metrics].slice(0, MAX_AXES);
  const axes: Axis[] = axesNames.map((n) => ({ name: n.replace(/^\w+\./, ""), values: pick(n) }));
  const scatterX = q.get("sx") ?? axesNames[0] ?? "";
  const scatterY = q.get("sy") ?? metrics[0] ?? axesNames[1] ?? "";
  const section = (title: string, rows: string[]) => {
    const shown = rows.filter((r) => !onlyDiff || differs(pick(r)));
    if (!shown.length) return null;
    return (
      <>
        <tr class="section">
          <th colSpan={order.length + 1}>{title}</th>
        </tr>
        {shown.map((r) => {
          const values = pick(r);
          const diff = differs(values);
          return (
            <tr data-testid="diff-row" data-key={r}>
              <td class="key">{r.replace(/^\w+\./, "")}</td>
              {values.map((v) => (
                <td class={diff ? "differs" : ""}>{r.startsWith("metrics.") ? fmtNumber(v) : (v ?? "")}</td>
              ))}
            </tr>
          );
        })}
      </>
    );
  };
  const experimentId = experiments[0];
  const chartLines = order.slice(0, MAX_CHART_RUNS).map((i, j) => ({ runId: cols.run_id[i] as string, label: labels[j] }));
  return (
    <main class="page" data-testid="compare-page">
      <div class="crumbs">
        <a href="#/experiments">Experiments</a> / <a href={`#/experiments/${experimentId}`}>experiment {experimentId}</a> /
      </div>
      <div class="page-head">
        <h1>Comparing {order.length} runs</h1>
      </div>
      <section class="card">
        <div class="toolbar">
          <h2 style={{ margin: 0 }}>Parallel coordinates</h2>
          <span class="muted">drag along an axis to filter; click it to clear</span>
        </div>
        {axes.length ? <ParallelCoordinates axes={axes} labels={labels} /> : <p class="muted">Nothing to plot.</p>}
      </section>
      <div class="compare-row">
        <section class="card">
          <div class="toolbar">
            <h2 style={{ margin: 0 }}>Scatter</h2>
            <select aria-label="X" data-testid="scatter-x" value={scatterX} onChange={(e) => setQuery({ sx: (e.target as HTMLSelectElement).value })}>
              {[...params, ...metrics].map((n) => <option value={n}>{n}</option>)}
            </select>
            <span class="muted">vs</span>
            <select aria-label="Y" data-testid="scatter-y" value={scatterY} onChange={(e) => setQuery({ sy: (e.target as HTMLSelectElement).value })}>
              {[...params, ...metrics].map((n) => <option value={n}>{n}</option>)}
            </select>
          </div>
          {scatterX && scatterY && (
            <Scatter
              x={{ name: scatterX, values: pick(scatterX) }}
              y={{ name: scatterY, values: pick(scatterY) }}
              labels={labels}
            />
          )}
        </section>
      </div>
      <section class="card">
        <div class="toolbar">
          <h2 style={{ margin: 0 }}>Differences</h2>
          <label class="check">
            <input type="checkbox" data-testid="only-diff" checked={onlyDiff} onChange={(e) => setQuery({ diff: (e.target as HTMLInputElement).checked ? "1" : undefined })} />
            Only differences
          </label>
        </div>
        {!tableShown ? <Spinner /> : <div style={{ overflow: "auto" }}>
          <table class="list diff" data-testid="diff-table">
            <thead>
              <tr>
                <th>Run</th>
                {order.map((i, j) => (
                  <th>
                    <a href={`#/experiments/${cols.experiment_id[i]}/runs/${cols.run_id[i]}`}>{labels[j]}</a>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {section("Parameters", params)}
              {section("Metrics", metrics)}
              {section("Tags", tags)}
            </tbody>
          </table>
        </div>}
      </section>
      <h2 style={{ marginTop: "18px" }}>Metrics{order.length > MAX_CHART_RUNS ? ` (first ${MAX_CHART_RUNS} runs)` : ""}</h2>
      <LazyChartGrid keys={metrics.map((m) => m.slice(8))} lines={chartLines} />
    </main>
  );
}
