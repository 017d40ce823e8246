// Traces: an experiment's list (MLflow's trace search language, newest first, paged) and one
// trace's page: the span tree beside a timeline, and the chosen span's inputs, outputs,
// attributes and events. MLflow's routes: #/experiments/<id>/traces[/<trace_id>].
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, type Tag } from "../api";
import { ErrorBox, KeyValueTable, Spinner, StatusBadge } from "../components/common";
import { fmtTime, plural } from "../format";
import { route, setQuery } from "../router";

const V3 = "ajax-api/3.0/mlflow/";
const PAGE = 100;

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(V3 + path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(body.message ?? response.statusText, response.status, body.error_code ?? "");
  return body as T;
}

interface TraceInfo {
  trace_id: string;
  request_time: string;
  execution_duration?: string;
  state: string;
  request_preview?: string;
  response_preview?: string;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
}
interface AnyValue {
  string_value?: string;
  int_value?: string;
  double_value?: number;
  bool_value?: boolean;
  array_value?: { values?: AnyValue[] };
  kvlist_value?: { values?: { key: string; value: AnyValue }[] };
}
interface Span {
  span_id: string;
  parent_span_id?: string;
  name: string;
  start_time_unix_nano: string;
  end_time_unix_nano?: string;
  attributes?: { key: string; value: AnyValue }[];
  events?: { name: string; time_unix_nano: string; attributes?: { key: string; value: AnyValue }[] }[];
  status?: { code?: string; message?: string };
}

function plain(v: AnyValue | undefined): unknown {
  if (!v) return null;
  if (v.string_value !== undefined) return v.string_value;
  if (v.int_value !== undefined) return Number(v.int_value);
  if (v.double_value !== undefined) return v.double_value;
  if (v.bool_value !== undefined) return v.bool_value;
  if (v.array_value) return (v.array_value.values ?? []).map(plain);
  if (v.kvlist_value) return Object.fromEntries((v.kvlist_value.values ?? []).map((kv) => [kv.key, plain(kv.value)]));
  return null;
}

/** A value for display: JSON pretty-printed (strings holding JSON too), else as text. */
function pretty(value: unknown): string {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

const seconds = (duration?: string) => (duration ? Number(duration.replace(/s$/, "")) : NaN);
const fmtSeconds = (s: number) => (!Number.isFinite(s) ? "" : s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`);

export function TracesView({ experimentId, traceId }: { experimentId: string; traceId?: string }) {
  if (traceId) return <TracePage experimentId={experimentId} traceId={traceId} />;
  return <TracesList experimentId={experimentId} />;
}

function TracesList({ experimentId }: { experimentId: string }) {
  const filter = route.value.query.get("tfilter") ?? "";
  const [text, setText] = useState(filter);
  const [traces, setTraces] = useState<TraceInfo[] | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const search = (pageToken?: string) =>
    call<{ traces?: TraceInfo[]; next_page_token?: string }>("traces/search", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } }],
        filter: filter || undefined,
        max_results: PAGE,
        order_by: ["timestamp_ms DESC"],
        page_token: pageToken,
      }),
    });
  useEffect(() => {
    setTraces(null);
    search().then((r) => {
      setTraces(r.traces ?? []);
      setToken(r.next_page_token ?? null);
      setError(null);
    }, (e) => (setError(e), setTraces([])));
  }, [experimentId, filter]);
  const more = () =>
    token &&
    search(token).then((r) => {
      setTraces([...(traces ?? []), ...(r.traces ?? [])]);
      setToken(r.next_page_token ?? null);
    }, setError);
  return (
    <div data-testid="traces">
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ tfilter: text || undefined });
        }}
      >
        <input
          class="filter"
          placeholder="trace.status = 'OK' and tags.topic = 'x'"
          value={text}
          data-testid="traces-filter"
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={error} />
      {!traces ? (
        <Spinner />
      ) : !traces.length ? (
        <p class="muted">No traces{filter ? " match" : ""}.</p>
      ) : (
        <>
          <table class="list" data-testid="traces-table">
            <thead>
              <tr>
                <th>Trace</th>
                <th>Request</th>
                <th>Response</th>
                <th>Time</th>
                <th>Duration</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {traces.map((t) => (
                <tr data-testid="trace-row" data-trace-id={t.trace_id}>
                  <td class="mono">
                    <a href={`#/experiments/${experimentId}/traces/${t.trace_id}`}>{t.trace_id}</a>
                  </td>
                  <td class="trace-io" data-testid="trace-request" title={t.request_preview ?? ""}>
                    <div>{t.request_preview ?? ""}</div>
                  </td>
                  <td class="trace-io" data-testid="trace-response" title={t.response_preview ?? ""}>
                    <div>{t.response_preview ?? ""}</div>
                  </td>
                  <td>{fmtTime(Date.parse(t.request_time))}</td>
                  <td>{fmtSeconds(seconds(t.execution_duration))}</td>
                  <td>
                    <StatusBadge status={t.state} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {token && (
            <button onClick={more} data-testid="more-traces">
              More traces
            </button>
          )}
        </>
      )}
    </div>
  );
}

interface Node {
  span: Span;
  depth: number;
  start: number;
  end: number;
}

/** Spans in tree order (children after their parent, by start time), with their depth. */
function spanTree(spans: Span[]): Node[] {
  const ns = (s?: string) => (s ? Number(BigInt(s) / 1000n) / 1000 : NaN); // ms
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const s of spans) {
    if (s.parent_span_id && ids.has(s.parent_span_id)) {
      const list = children.get(s.parent_span_id) ?? [];
      list.push(s);
      children.set(s.parent_span_id, list);
    } else roots.push(s);
  }
  const byStart = (a: Span, b: Span) => ns(a.start_time_unix_nano) - ns(b.start_time_unix_nano);
  const out: Node[] = [];
  const visit = (s: Span, depth: number) => {
    const start = ns(s.start_time_unix_nano);
    out.push({ span: s, depth, start, end: s.end_time_unix_nano ? ns(s.end_time_unix_nano) : start });
    for (const c of (children.get(s.span_id) ?? []).sort(byStart)) visit(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) visit(r, 0);
  return out;
}

function TracePage({ experimentId, traceId }: { experimentId: string; traceId: string }) {
  const [trace, setTrace] = useState<{ trace_info: TraceInfo; spans: Span[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [chosen, setChosen] = useState(0);
  useEffect(() => {
    call<{ trace: { trace_info: TraceInfo; spans?: Span[] } }>(`traces/get?trace_id=${encodeURIComponent(traceId)}`).then(
      (r) => setTrace({ trace_info: r.trace.trace_info, spans: r.trace.spans ?? [] }),
      setError,
    );
  }, [traceId]);
  const nodes = useMemo(() => (trace ? spanTree(trace.spans) : []), [trace]);
  const t0 = nodes.length ? Math.min(...nodes.map((n) => n.start)) : 0;
  const total = nodes.length ? Math.max(...nodes.map((n) => n.end)) - t0 || 1 : 1;
  const node = nodes[chosen];
  const attrs = Object.fromEntries((node?.span.attributes ?? []).map((a) => [a.key, plain(a.value)]));
  const info = trace?.trace_info;
  const tags: Tag[] = Object.entries(info?.tags ?? {}).map(([key, value]) => ({ key, value }));
  return (
    <div data-testid="trace-page">
      <div class="crumbs">
        <a href={`#/experiments/${experimentId}/traces`}>Traces</a> /
      </div>
      <h2 class="mono" data-testid="trace-id">
        {traceId}
      </h2>
      <ErrorBox error={error} />
      {!trace || !info ? (
        !error && <Spinner />
      ) : (
        <>
          <p>
            <StatusBadge status={info.state} /> {fmtTime(Date.parse(info.request_time))} · {fmtSeconds(seconds(info.execution_duration))} ·{" "}
            {plural(nodes.length, "span")}
          </p>
          <div class="trace-layout">
            <div class="span-tree" role="tree" data-testid="span-tree">
              {nodes.map((n, i) => (
                <div
                  role="treeitem"
                  aria-selected={i === chosen}
                  class={"span-row" + (i === chosen ? " chosen" : "")}
                  data-testid="span-row"
                  data-depth={n.depth}
                  data-name={n.span.name}
                  onClick={() => setChosen(i)}
                >
                  <span class="span-name" style={{ paddingLeft: 6 + n.depth * 16 + "px" }}>
                    {n.span.name}
                  </span>
                  <span class="span-bar-track">
                    <span
                      class={"span-bar" + (n.span.status?.code === "STATUS_CODE_ERROR" ? " error" : "")}
                      data-testid="span-bar"
                      style={{ left: ((n.start - t0) / total) * 100 + "%", width: Math.max(0.5, ((n.end - n.start) / total) * 100) + "%" }}
                    />
                  </span>
                  <span class="span-ms">{(n.end - n.start).toFixed(1)} ms</span>
                </div>
              ))}
            </div>
            {node && (
              <div class="span-detail" data-testid="span-detail">
                <h3>{node.span.name}</h3>
                <p class="muted">
                  {String(attrs["mlflow.spanType"] ?? "").replace(/^"|"$/g, "")} {node.span.status?.code?.replace("STATUS_CODE_", "")}{" "}
                  {node.span.status?.message}
                </p>
                <h4>Inputs</h4>
                <pre data-testid="span-inputs">{attrs["mlflow.spanInputs"] === undefined ? "" : pretty(attrs["mlflow.spanInputs"])}</pre>
                <h4>Outputs</h4>
                <pre data-testid="span-outputs">{attrs["mlflow.spanOutputs"] === undefined ? "" : pretty(attrs["mlflow.spanOutputs"])}</pre>
                <h4>Attributes</h4>
                <KeyValueTable
                  testid="span-attributes"
                  rows={Object.entries(attrs)
                    .filter(([k]) => k !== "mlflow.spanInputs" && k !== "mlflow.spanOutputs")
                    .map(([k, v]) => [k, <span class="mono">{pretty(v)}</span>])}
                />
                {(node.span.events ?? []).length > 0 && (
                  <>
                    <h4>Events</h4>
                    <KeyValueTable
                      testid="span-events"
                      rows={(node.span.events ?? []).map((e) => [e.name, <pre>{pretty(Object.fromEntries((e.attributes ?? []).map((a) => [a.key, plain(a.value)])))}</pre>])}
                    />
                  </>
                )}
              </div>
            )}
          </div>
          <h3>Tags</h3>
          <KeyValueTable testid="trace-tags" rows={tags.map((t) => [t.key, t.value])} />
          <h3>Metadata</h3>
          <KeyValueTable testid="trace-metadata" rows={Object.entries(info.trace_metadata ?? {}).map(([k, v]) => [k, v])} />
        </>
      )}
    </div>
  );
}
