// Logged models: the experiment's list (search_logged_models, filter in tracklet's language)
// and one model's page (metrics, params, tags, source run, artifacts).
import { useEffect, useState } from "preact/hooks";
import { type LoggedModel, get, post } from "../api";
import { ErrorBox, KeyValueTable, Spinner, StatusBadge } from "../components/common";
import { fmtNumber, fmtTime } from "../format";
import { route, setQuery } from "../router";

export function ModelsList({ experimentId }: { experimentId: string }) {
  const filter = route.value.query.get("mfilter") ?? "";
  const [text, setText] = useState(filter);
  const [models, setModels] = useState<LoggedModel[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    post<{ models?: LoggedModel[] }>("logged-models/search", {
      experiment_ids: [experimentId],
      filter,
      max_results: 1000,
      order_by: [{ field_name: "creation_timestamp", ascending: false }],
    }).then((r) => (setModels(r.models ?? []), setError(null)), setError);
  }, [experimentId, filter]);
  return (
    <div data-testid="models">
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ mfilter: text || undefined });
        }}
      >
        <input class="filter" placeholder="name = 'model' and metrics.acc > 0.9" value={text} data-testid="models-filter" onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={error} />
      {!models ? (
        <Spinner />
      ) : (
        <table class="list" data-testid="models-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Created</th>
              <th>Source run</th>
              <th>Metrics</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr data-testid="model-row" data-id={m.info.model_id}>
                <td>
                  <a class="strong" href={`#/experiments/${experimentId}/models/${m.info.model_id}`}>
                    {m.info.name}
                  </a>
                </td>
                <td>{m.info.status && <StatusBadge status={m.info.status.replace("LOGGED_MODEL_", "")} />}</td>
                <td>{fmtTime(m.info.creation_timestamp_ms)}</td>
                <td>
                  {m.info.source_run_id && (
                    <a class="mono" href={`#/experiments/${experimentId}/runs/${m.info.source_run_id}`}>
                      {m.info.source_run_id.slice(0, 12)}
                    </a>
                  )}
                </td>
                <td class="mono">
                  {(m.data?.metrics ?? [])
                    .slice(0, 4)
                    .map((x) => `${x.key}=${fmtNumber(x.value)}`)
                    .join("  ")}
                </td>
              </tr>
            ))}
            {!models.length && (
              <tr>
                <td colSpan={5} class="muted">
                  No logged models{filter ? " match the filter" : ""}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function ModelPage({ experimentId, modelId }: { experimentId: string; modelId: string }) {
  const [model, setModel] = useState<LoggedModel | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<{ model: LoggedModel }>(`logged-models/${encodeURIComponent(modelId)}`).then((r) => setModel(r.model), setError);
  }, [modelId]);
  if (error) return <main class="page"><ErrorBox error={error} /></main>;
  if (!model) return <main class="page"><Spinner /></main>;
  const info = model.info;
  return (
    <main class="page" data-testid="model-page">
      <div class="crumbs">
        <a href="#/experiments">Experiments</a> / <a href={`#/experiments/${experimentId}/models`}>models</a> /
      </div>
      <div class="page-head">
        <h1 data-testid="model-title">{info.name}</h1>
        {info.status && <StatusBadge status={info.status.replace("LOGGED_MODEL_", "")} />}
      </div>
      <div class="overview">
        <section class="card">
          <h2>About this model</h2>
          <dl class="facts">
            <dt>Model ID</dt>
            <dd class="mono">{info.model_id}</dd>
            <dt>Created</dt>
            <dd>{fmtTime(info.creation_timestamp_ms)}</dd>
            {info.model_type && (
              <>
                <dt>Type</dt>
                <dd>{info.model_type}</dd>
              </>
            )}
            {info.source_run_id && (
              <>
                <dt>Source run</dt>
                <dd>
                  <a class="mono" href={`#/experiments/${experimentId}/runs/${info.source_run_id}`}>
                    {info.source_run_id}
                  </a>
                </dd>
              </>
            )}
            <dt>Artifacts</dt>
            <dd class="mono">{info.artifact_uri}</dd>
          </dl>
        </section>
        <section class="card">
          <h2>Metrics</h2>
          <KeyValueTable testid="model-metrics" rows={(model.data?.metrics ?? []).map((m) => [m.key, fmtNumber(m.value)])} empty="No metrics." />
        </section>
        <section class="card">
          <h2>Parameters</h2>
          <KeyValueTable testid="model-params" rows={(model.data?.params ?? []).map((p) => [p.key, p.value])} empty="No parameters." />
        </section>
        <section class="card">
          <h2>Tags</h2>
          <KeyValueTable
            testid="model-tags"
            rows={(info.tags ?? []).filter((t) => !t.key.startsWith("mlflow.")).map((t) => [t.key, t.value])}
            empty="No tags."
          />
        </section>
      </div>
    </main>
  );
}
