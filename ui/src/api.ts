// The only way the UI talks to the server: its JSON API, by paths relative to the page, so the
// UI works at "/" and under --static-prefix alike.
import { type Answer, type Boot, MLFLOW, type Started, TRACKLET, bootKey } from "./boot-requests";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/** A request index.html's bootstrap started (boot.ts) if it is this one: taken once. */
function takeBoot(url: string, init?: RequestInit): Started | undefined {
  const boot = (window as { __tlBoot?: Boot }).__tlBoot;
  if (!boot) return undefined;
  const key = bootKey(init?.method ?? "GET", url, init?.body as string | undefined);
  const found = boot[key];
  delete boot[key];
  return found;
}
// The bootstrap guessed the first page's requests: another page makes its own.
window.addEventListener("hashchange", () => delete (window as { __tlBoot?: Boot }).__tlBoot, { once: true });

/** True when the bootstrap started this POST (then ``post`` gets its answer). */
export function booted(path: string, body: unknown, base = TRACKLET): boolean {
  const boot = (window as { __tlBoot?: Boot }).__tlBoot;
  return !!boot && bootKey("POST", base + path, JSON.stringify(body)) in boot;
}

/** The bootstrap's answer to this POST if it has arrived (parsed JSON), without taking it:
 * a page can draw it in its first render, and its request then gets the same answer. */
export function bootAnswer<T>(path: string, body: unknown, base = TRACKLET): T | undefined {
  const boot = (window as { __tlBoot?: Boot }).__tlBoot;
  return boot?.[bootKey("POST", base + path, JSON.stringify(body))]?.value as T | undefined;
}

type Decode = (body: ArrayBuffer) => unknown;

async function load(url: string, init?: RequestInit, decode?: Decode): Promise<Answer> {
  const r = await fetch(url, init);
  const answer: Answer = { ok: r.ok, status: r.status, statusText: r.statusText, text: "" };
  if (r.ok && decode) answer.value = decode(await r.arrayBuffer());
  else answer.text = await r.text();
  return answer;
}

async function request<T>(url: string, init?: RequestInit, decode?: Decode): Promise<T> {
  const started = takeBoot(url, init);
  if (started?.value !== undefined) return started.value as T;
  let answer: Answer;
  try {
    answer = await (started ? started.answer.catch(() => load(url, init, decode)) : load(url, init, decode));
  } catch (e) {
    throw new ApiError(`Cannot reach the server (${String(e)})`, 0, "NETWORK");
  }
  if (answer.ok && answer.value !== undefined) return answer.value as T;
  const text = answer.text;
  let body: unknown = {};
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { message: text };
    }
  }
  if (!answer.ok) {
    const b = body as { message?: string; error_code?: string };
    throw new ApiError(b.message ?? answer.statusText, answer.status, b.error_code ?? "");
  }
  return body as T;
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? "?" + s : "";
}

export function get<T>(path: string, params: Record<string, string | number | undefined | null> = {}) {
  return request<T>(MLFLOW + path + query(params));
}

export function post<T>(path: string, body: unknown, base = MLFLOW): Promise<T> {
  return request<T>(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** A POST to tracklet's UI routes whose ok answer is binary, read by ``decode``. */
export function trackletBinary<T>(path: string, body: unknown, decode: (body: ArrayBuffer) => T): Promise<T> {
  const init = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  return request<T>(TRACKLET + path, init, decode);
}

export function tracklet<T>(path: string, body?: unknown): Promise<T> {
  if (body === undefined) return request<T>(TRACKLET + path);
  return post<T>(path, body, TRACKLET);
}

/** The live-events URL; a list value repeats its parameter (several experiments). */
export function eventsUrl(params: Record<string, string | string[]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
  return TRACKLET + "events?" + q.toString();
}

/** The experiment-keys path for these experiments (the parameter repeated). */
export const keysPath = (experimentIds: string[]) =>
  "experiments/keys?" + experimentIds.map((id) => "experiment_ids=" + encodeURIComponent(id)).join("&");

export function artifactUrl(runId: string, path: string): string {
  return "get-artifact" + query({ path, run_uuid: runId });
}

// ---- entity shapes (MLflow's JSON) ----
export interface Tag {
  key: string;
  value: string;
}
export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: string;
  creation_time?: number;
  last_update_time?: number;
  tags?: Tag[];
}
export interface Metric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}
export interface RunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  status: string;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage: string;
}
export interface DatasetInput {
  dataset: { name: string; digest: string; source_type?: string; source?: string; schema?: string };
  tags?: Tag[];
}
export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: Tag[]; tags?: Tag[] };
  inputs?: { dataset_inputs?: DatasetInput[]; model_inputs?: { model_id: string }[] };
  outputs?: { model_outputs?: { model_id: string; step: number }[] };
}
export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}
export interface LoggedModel {
  info: {
    model_id: string;
    name: string;
    experiment_id: string;
    source_run_id?: string;
    status?: string;
    creation_timestamp_ms?: number;
    last_updated_timestamp_ms?: number;
    artifact_uri?: string;
    model_type?: string;
    tags?: Tag[];
  };
  data?: { params?: Tag[]; metrics?: (Metric & { run_id?: string })[] };
}

/** Columnar runs: column name -> values, one value per run (tracklet's search-columns). */
export interface RunColumns {
  n: number;
  columns: Record<string, (string | number | null)[]>;
  next_page_token?: string | null;
}

export interface Series {
  run_id: string;
  key: string;
  n_total: number;
  n_in_range: number;
  sampled: boolean;
  x: number[];
  y: (number | string)[];
  band: { x: number[]; min: number[]; max: number[] } | null;
  last_step: number | null;
  last_timestamp: number | null;
}

export interface Keys {
  metrics: { key: string; runs: number }[];
  params: { key: string; runs: number }[];
  tags: { key: string; runs: number }[];
}
