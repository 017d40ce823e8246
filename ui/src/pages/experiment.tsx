// One experiment: the runs table (default), the chart grid and logged models, under tabs.
import { useEffect, useState } from "preact/hooks";
import { type Experiment, get } from "../api";
import { ErrorBox, Tabs } from "../components/common";
import { ExperimentCharts } from "./experiment-charts";
import { ModelsList, ModelPage } from "./models";
import { RunsView } from "./runs";
import { TracesView } from "./traces";
import { jsonParam, route } from "../router";

export function useExperiment(experimentId: string): [Experiment | null, unknown] {
  const [experiment, setExperiment] = useState<Experiment | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<{ experiment: Experiment }>("experiments/get", { experiment_id: experimentId }).then(
      (r) => setExperiment(r.experiment),
      setError,
    );
  }, [experimentId]);
  return [experiment, error];
}

export function ExperimentPage(props: { experimentId: string; section: string; rest: (string | undefined)[] }) {
  const [experiment, error] = useExperiment(props.experimentId);
  const { experimentId, section } = props;
  if (section === "models" && props.rest[0]) return <ModelPage experimentId={experimentId} modelId={props.rest[0]} />;
  const tab = section === "charts" || section === "models" || section === "traces" ? section : "runs";
  return (
    <main class={tab === "runs" ? "page fill" : "page"} data-testid="experiment-page">
      <div class="crumbs">
        <a href="#/experiments">Experiments</a> /
      </div>
      <div class="page-head">
        <h1 data-testid="experiment-title">{experiment?.name ?? "…"}</h1>
        <span class="sub mono">ID {experimentId}</span>
        {experiment?.lifecycle_stage === "deleted" && <span class="badge">deleted</span>}
      </div>
      <ErrorBox error={error} />
      <Tabs
        base={`#/experiments/${experimentId}`}
        active={tab}
        tabs={[
          ["runs", "Runs"],
          ["charts", "Charts"],
          ["models", "Models"],
          ["traces", "Traces"],
        ]}
      />
      {tab === "runs" && <RunsView experimentIds={[experimentId]} />}
      {tab === "charts" && <ExperimentCharts experimentId={experimentId} />}
      {tab === "models" && <ModelsList experimentId={experimentId} />}
      {tab === "traces" && <TracesView experimentId={experimentId} traceId={props.rest[0]} />}
    </main>
  );
}

/** Runs across experiments, MLflow's ``#/compare-experiments/s?experiments=[...]``: one runs
 * table over all of them, with an Experiment column. */
export function CompareExperimentsPage() {
  const ids = jsonParam<unknown>(route.value.query, "experiments", []);
  const experimentIds = Array.isArray(ids) ? ids.map(String) : [];
  if (!experimentIds.length) {
    return (
      <main class="page">
        <h1>No experiments</h1>
        <p>
          Pick experiments in the <a href="#/experiments">list</a>.
        </p>
      </main>
    );
  }
  return (
    <main class="page fill" data-testid="compare-experiments-page">
      <div class="crumbs">
        <a href="#/experiments">Experiments</a> /
      </div>
      <div class="page-head">
        <h1>Runs of {experimentIds.length} experiments</h1>
      </div>
      <RunsView experimentIds={experimentIds} />
    </main>
  );
}
