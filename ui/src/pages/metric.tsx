// MLflow's metric page: #/metric?runs=[...]&metric="<key>"&experiments=[...]&x_axis=...
import { useEffect, useState } from "preact/hooks";
import { type Run, get } from "../api";
import { ErrorBox, Spinner } from "../components/common";
import { plural } from "../format";
import { lazy } from "../lazy";
import { jsonParam, route } from "../router";

const MetricView = lazy(() => import("./metric-view").then((m) => m.MetricView));

export function MetricPage() {
  const q = route.value.query;
  const runIds = jsonParam<string[]>(q, "runs", []);
  const metric = jsonParam<string>(q, "metric", "");
  const experiments = jsonParam<string[]>(q, "experiments", []);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    Promise.all(runIds.map((id) => get<{ run: Run }>("runs/get", { run_id: id }).then((r) => r.run))).then(setRuns, setError);
  }, [runIds.join()]);
  // Only the runs that logged the metric are charted and counted; the link may name others.
  const logged = (runs ?? []).filter((r) => r.data.metrics?.some((m) => m.key === metric));
  const lines = logged.map((r) => ({ runId: r.info.run_id, label: r.info.run_name || r.info.run_id }));
  const without = runs ? runs.length - logged.length : 0;
  const experimentId = experiments[0] ?? runs?.[0]?.info.experiment_id;
  return (
    <main class="page" data-testid="metric-page">
      <div class="crumbs">
        <a href="#/experiments">Experiments</a> /{" "}
        {experimentId && <a href={`#/experiments/${experimentId}`}>experiment {experimentId}</a>}
        {runs?.length === 1 && (
          <>
            {" "}/ <a href={`#/experiments/${runs[0].info.experiment_id}/runs/${runs[0].info.run_id}`}>{runs[0].info.run_name || runs[0].info.run_id}</a>
          </>
        )}
      </div>
      <div class="page-head">
        <h1 class="mono" data-testid="metric-title">{metric}</h1>
        {runs && (
          <span class="sub" data-testid="metric-runs">
            {plural(logged.length, "run")}
            {without > 0 && ` (${without} more without ${metric})`}
          </span>
        )}
      </div>
      <ErrorBox error={error} />
      {runs ? <MetricView metric={metric} lines={lines} /> : !error && <Spinner />}
    </main>
  );
}
