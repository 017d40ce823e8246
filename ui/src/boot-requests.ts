// The requests index.html's bootstrap (boot.ts) may start before the app's modules load, built
// by the same functions the app uses, so that the app's request is byte for byte the one
// started (api.ts hands it over by method, URL and body).

export const MLFLOW = "ajax-api/2.0/mlflow/";
export const TRACKLET = "ajax-api/2.0/tracklet/";
/** The runs table's first request's size (a test's localStorage "tracklet.runsPage" changes it,
 * and then the bootstrap's request is simply not used). */
export const BOOT_PAGE = 200;
/** The chart grids' request width (server columns for M4); see series.ts. */
export const SERIES_WIDTH = 1000;

/** A started request, and its answer read: parsed as ``value`` when it is JSON and ok. */
export interface Answer {
  ok: boolean;
  status: number;
  statusText: string;
  text: string;
  value?: unknown;
}
export interface Started {
  answer: Promise<Answer>;
  /** The answer's parsed JSON once it has arrived (ok answers only). */
  value?: unknown;
}
export type Boot = Record<string, Started>;

export function bootKey(method: string, url: string, body?: string): string {
  return method + " " + url + "\n" + (body ?? "");
}

export interface RunsQuery {
  experimentIds: string[];
  filter: string;
  orderBy: string[];
}

/** runs/search-columns: one keyset page. */
export function searchBody(q: RunsQuery, max: number, token?: string) {
  return {
    experiment_ids: q.experimentIds,
    filter: q.filter,
    order_by: q.orderBy,
    max_results: max,
    page_token: token,
  };
}

/** runs/search-columns: rows ``offset`` to ``offset + limit`` of the query's snapshot. */
export function windowBody(q: RunsQuery, offset: number, limit: number, snapshot?: string) {
  return {
    experiment_ids: q.experimentIds,
    filter: q.filter,
    order_by: q.orderBy,
    window: { offset, limit },
    snapshot: snapshot || undefined,
  };
}

/** metrics/series: the series of a run's model ("model") or system ("system/...") metric keys,
 * the run page's chart grid at its default settings. */
export function runSeriesBody(runId: string, keys: "model" | "system") {
  return { run_id: runId, keys, x: "step", width: SERIES_WIDTH, band: true, format: "binary" };
}

/** The first window the runs table asks for after its first page (which gives the total). */
export const SECOND_WINDOW = (page: number) => 4 * page;
