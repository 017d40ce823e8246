// The run page (MLflow's tabs): overview (facts, description, params, latest metrics, tags,
// datasets, models, parent/children), model metrics and system metrics as chart grids, and
// artifacts. A running run refreshes live over SSE: status, metrics and charts.
import { useEffect, useMemo, useState } from "preact/hooks";
import { type Run, type RunColumns, eventsUrl, get, post, tracklet } from "../api";
import { ArtifactsView } from "../components/artifacts";
import { ErrorBox, KeyValueTable, Spinner, StatusBadge, Tabs } from "../components/common";
import { fmtDuration, fmtNumber, fmtTime } from "../format";
import { LazyChartGrid } from "../lazy";
import { renderMarkdown } from "../markdown";
import { navigate } from "../router";
import { useExperiment } from "./experiment";

const NOTE = "mlflow.note.content";

function tagsOf(run: Run): Record<string, string> {
  return Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
}

export function RunRedirect({ runId }: { runId: string }) {
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<{ run: Run }>("runs/get", { run_id: runId }).then(
      (r) => navigate(`/experiments/${r.run.info.experiment_id}/runs/${runId}`),
      setError,
    );
  }, [runId]);
  return <main class="page">{error ? <ErrorBox error={error} /> : <Spinner />}</main>;
}

export function RunPage(props: { experimentId: string; runId: string; tab: string[] }) {
  const { experimentId, runId } = props;
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [refresh, setRefresh] = useState<Record<string, number>>({});
  const [experiment] = useExperiment(experimentId);

  useEffect(() => {
    get<{ run: Run }>("runs/get", { run_id: runId }).then((r) => (setRun(r.run), setError(null)), setError);
  }, [runId, version]);
  // A metrics tab: the chart code loads beside the run rather than after it.
  useEffect(() => {
    if (/metrics$/.test(props.tab[0] ?? "")) void import("../chart-grid");
  }, []);

  // Live: one EventSource while the page is open; new points redraw their charts.
  useEffect(() => {
    const source = new EventSource(eventsUrl({ run_id: runId }));
    source.addEventListener("runs", () => setVersion((v) => v + 1));
    source.addEventListener("metrics", (e) => {
      const changed = JSON.parse((e as MessageEvent).data).metrics as { key: string }[];
      setRefresh((r) => {
        const next = { ...r };
        for (const m of changed) next[m.key] = (next[m.key] ?? 0) + 1;
        return next;
      });
      setVersion((v) => v + 1);
    });
    return () => source.close();
  }, [runId]);

  const tab = props.tab[0] ?? "overview";
  const base = `#/experiments/${experimentId}/runs/${runId}`;
  if (error && !run) return <main class="page"><ErrorBox error={error} /></main>;
  if (!run) return <main class="page"><Spinner /></main>;
  const tags = tagsOf(run);
  const name = run.info.run_name || tags["mlflow.runName"] || runId;
  const metricKeys = (run.data.metrics ?? []).map((m) => m.key).sort();
  const modelKeys = metricKeys.filter((k) => !k.startsWith("system/"));
  const systemKeys = metricKeys.filter((k) => k.startsWith("system/"));
  const lines = [{ runId, label: name }];
  return (
    <main class="page" data-testid="run-page">
      <div class="crumbs">
        <a href="#/experiments">Experiments</a> / <a href={`#/experiments/${experimentId}`}>{experiment?.name ?? `experiment ${experimentId}`}</a> /
      </div>
      <div class="page-head">
        <h1 data-testid="run-title">{name}</h1>
        <StatusBadge status={run.info.status} />
      </div>
      <Tabs
        base={base}
        active={tab === "artifactPath" ? "artifacts" : tab}
        tabs={[
          ["overview", "Overview"],
          ["model-metrics", `Model metrics (${modelKeys.length})`],
          ["system-metrics", `System metrics (${systemKeys.length})`],
          ["artifacts", "Artifacts"],
        ]}
      />
      {tab === "overview" && <Overview run={run} tags={tags} onChange={() => setVersion((v) => v + 1)} />}
      {tab === "model-metrics" && <LazyChartGrid keys={modelKeys} lines={lines} refresh={refresh} search />}
      {tab === "system-metrics" && <LazyChartGrid keys={systemKeys} lines={lines} refresh={refresh} search />}
      {(tab === "artifacts" || tab === "artifactPath") && (
        <ArtifactsView runId={runId} initial={tab === "artifactPath" ? props.tab.slice(1).join("/") : undefined} />
      )}
    </main>
  );
}

function Overview({ run, tags, onChange }: { run: Run; tags: Record<string, string>; onChange: () => void }) {
  const info = run.info;
  const parent = tags["mlflow.parentRunId"];
  const [children, setChildren] = useState<RunColumns | null>(null);
  useEffect(() => {
    tracklet<RunColumns>("runs/search-columns", {
      experiment_ids: [info.experiment_id],
      filter: `tags.mlflow.parentRunId = '${info.run_id}'`,
      max_results: 100,
    }).then(setChildren, () => setChildren(null));
  }, [info.run_id]);
  const params = [...(run.data.params ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const metrics = [...(run.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const userTags = (run.data.tags ?? []).filter((t) => !t.key.startsWith("mlflow.")).sort((a, b) => a.key.localeCompare(b.key));
  const datasets = run.inputs?.dataset_inputs ?? [];
  const models = run.outputs?.model_outputs ?? [];
  const metricLink = (key: string) =>
    `#/metric?runs=${encodeURIComponent(JSON.stringify([info.run_id]))}&metric=${encodeURIComponent(JSON.stringify(key))}&experiments=${encodeURIComponent(JSON.stringify([info.experiment_id]))}`;
  return (
    <div class="overview">
      <section class="card">
        <h2>About this run</h2>
        <dl class="facts" data-testid="facts">
          <dt>Run ID</dt>
          <dd class="mono">{info.run_id}</dd>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={info.status} />
          </dd>
          <dt>Started</dt>
          <dd>{fmtTime(info.start_time)}</dd>
          <dt>Duration</dt>
          <dd>{fmtDuration(info.start_time, info.end_time) || (info.status === "RUNNING" ? "running" : "")}</dd>
          {tags["mlflow.user"] && (
            <>
              <dt>User</dt>
              <dd>{tags["mlflow.user"]}</dd>
            </>
          )}
          {tags["mlflow.source.name"] && (
            <>
              <dt>Source</dt>
              <dd class="mono">{tags["mlflow.source.name"]}</dd>
            </>
          )}
          {parent && (
            <>
              <dt>Parent run</dt>
              <dd>
                <a href={`#/experiments/${info.experiment_id}/runs/${parent}`} data-testid="parent-link" class="mono">
                  {parent}
                </a>
              </dd>
            </>
          )}
          {children && children.n > 0 && (
            <>
              <dt>Child runs</dt>
              <dd data-testid="children">
                {(children.columns.run_id as string[]).map((id, i) => (
                  <div>
                    <a href={`#/experiments/${info.experiment_id}/runs/${id}`}>{(children.columns.run_name[i] as string) || id}</a>
                  </div>
                ))}
              </dd>
            </>
          )}
          <dt>Artifacts</dt>
          <dd class="mono">{info.artifact_uri}</dd>
        </dl>
      </section>
      <Description run={run} text={tags[NOTE] ?? ""} onSaved={onChange} />
      <section class="card">
        <h2>Parameters ({params.length})</h2>
        <KeyValueTable testid="params" rows={params.map((p) => [p.key, p.value])} empty="No parameters." />
      </section>
      <section class="card">
        <h2>Metrics ({metrics.length})</h2>
        <KeyValueTable
          testid="metrics"
          headers={["Name", "Latest value"]}
          rows={metrics.map((m) => [<a href={metricLink(m.key)}>{m.key}</a>, <span title={String(m.value)} data-value={String(m.value)}>{fmtNumber(m.value)}</span>])}
          empty="No metrics."
        />
      </section>
      <TagsCard runId={info.run_id} tags={userTags} onChange={onChange} />
      {(datasets.length > 0 || models.length > 0) && (
        <section class="card">
          <h2>Inputs and outputs</h2>
          {datasets.length > 0 && (
            <KeyValueTable
              testid="datasets"
              headers={["Dataset", "Digest"]}
              rows={datasets.map((d) => [
                `${d.dataset.name}${d.tags?.find((t) => t.key === "mlflow.data.context") ? " (" + d.tags!.find((t) => t.key === "mlflow.data.context")!.value + ")" : ""}`,
                d.dataset.digest,
              ])}
            />
          )}
          {models.length > 0 && (
            <KeyValueTable
              testid="logged-models"
              headers={["Logged model", "Step"]}
              rows={models.map((m) => [<a href={`#/experiments/${info.experiment_id}/models/${m.model_id}`}>{m.model_id}</a>, String(m.step)])}
            />
          )}
        </section>
      )}
    </div>
  );
}

function Description({ run, text, onSaved }: { run: Run; text: string; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(text);
  const [error, setError] = useState<unknown>(null);
  const html = useMemo(() => renderMarkdown(text), [text]);
  const save = async () => {
    try {
      await post("runs/set-tag", { run_id: run.info.run_id, key: NOTE, value: draft });
      setEditing(false);
      setError(null);
      onSaved();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="card">
      <div class="toolbar">
        <h2 style={{ margin: 0 }}>Description</h2>
        <span class="spacer" />
        {!editing && (
          <button class="small" data-testid="edit-description" onClick={() => (setDraft(text), setEditing(true))}>
            Edit
          </button>
        )}
      </div>
      {editing ? (
        <>
          <textarea class="description" data-testid="description-input" value={draft} onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} />
          <ErrorBox error={error} />
          <div class="actions">
            <button onClick={() => setEditing(false)}>Cancel</button>
            <button class="primary" data-testid="save-description" onClick={save}>
              Save
            </button>
          </div>
        </>
      ) : text ? (
        <div class="markdown" data-testid="description" dangerouslySetInnerHTML={{ __html: html }} />
      ) : (
        <p class="muted">No description.</p>
      )}
    </section>
  );
}

function TagsCard({ runId, tags, onChange }: { runId: string; tags: { key: string; value: string }[]; onChange: () => void }) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError(null);
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="card">
      <h2>Tags ({tags.length})</h2>
      <KeyValueTable
        testid="tags"
        rows={tags.map((t) => [
          t.key,
          <span class="tag-value">
            <span data-value={t.value}>{t.value}</span>
            <button class="ghost small" title={`Delete tag ${t.key}`} data-testid="delete-tag" onClick={() => act(() => post("runs/delete-tag", { run_id: runId, key: t.key }))}>
              ✕
            </button>
          </span>,
        ])}
        empty="No tags."
      />
      <form
        class="toolbar"
        style={{ marginTop: "10px" }}
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) act(() => post("runs/set-tag", { run_id: runId, key: key.trim(), value })).then(() => (setKey(""), setValue("")));
        }}
      >
        <input placeholder="Tag name" value={key} data-testid="tag-key" onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        <input placeholder="Value" value={value} data-testid="tag-value" onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        <button type="submit" data-testid="add-tag">
          Add tag
        </button>
      </form>
      <ErrorBox error={error} />
    </section>
  );
}
