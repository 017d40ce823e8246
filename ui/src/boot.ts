// The bootstrap, inline in index.html (build.mjs): before the app's modules have loaded it starts
// the requests of the page being opened, so that they travel while the modules download and
// parse: the runs table's first page, then (once that page says there are more) its first
// window, which makes the server take its snapshot of the whole query; a run's metrics tab: the
// run, its charts' series (one request) and the chart code. The app takes each over when it makes
// the very same request (api.ts), once; a new route drops the rest. No localStorage here: its
// first read in a fresh profile can stall.
import { decodeSeries } from "./series-codec";
import {
  BOOT_PAGE,
  type Answer,
  type Boot,
  MLFLOW,
  SECOND_WINDOW,
  type Started,
  TRACKLET,
  bootKey,
  runSeriesBody,
  searchBody,
  windowBody,
} from "./boot-requests";

/** The chart code's module files (build.mjs fills them in). */
declare const CHART_MODULES: string[];

const boot: Boot = {};
(window as { __tlBoot?: Boot }).__tlBoot = boot;

/** Starts the request; ``decode`` reads an ok answer's body (JSON text otherwise). */
function start(url: string, body?: object, then?: (value: unknown) => void, decode?: (body: ArrayBuffer) => unknown): void {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const init: RequestInit & { priority?: string } = { priority: "high" };
  if (text !== undefined) {
    init.method = "POST";
    init.headers = { "Content-Type": "application/json" };
    init.body = text;
  }
  const read = (r: Response): Promise<Answer> => {
    const answer: Answer = { ok: r.ok, status: r.status, statusText: r.statusText, text: "" };
    if (r.ok && decode) return r.arrayBuffer().then((b) => ((answer.value = started.value = decode(b)), answer));
    return r.text().then((t) => {
      answer.text = t;
      if (r.ok) {
        try {
          answer.value = started.value = JSON.parse(t);
        } catch {
          // not JSON: the app's request reads the text
        }
      }
      return answer;
    });
  };
  const started: Started = { answer: fetch(url, init).then(read) };
  started.answer.then((a) => a.value !== undefined && then?.(a.value), () => {});
  boot[bootKey(init.method ?? "GET", url, text)] = started;
}

const hash = location.hash;
const runs = /^#\/experiments\/([^/?]+)(\/runs)?\/?$/.exec(hash);
const metrics = /^#\/experiments\/[^/?]+\/runs\/([^/?]+)\/(model|system)-metrics\/?$/.exec(hash);
if (runs) {
  const q = { experimentIds: [decodeURIComponent(runs[1])], filter: "", orderBy: [] };
  start(TRACKLET + "runs/search-columns", searchBody(q, BOOT_PAGE), (page) => {
    const first = page as { n: number; next_page_token?: string };
    if (first.next_page_token)
      start(TRACKLET + "runs/search-columns", windowBody(q, first.n, SECOND_WINDOW(BOOT_PAGE)));
  });
} else if (metrics) {
  const runId = decodeURIComponent(metrics[1]);
  start(MLFLOW + "runs/get?" + new URLSearchParams({ run_id: runId }).toString());
  start(TRACKLET + "metrics/series", runSeriesBody(runId, metrics[2] as "model" | "system"), undefined, decodeSeries);
  for (const href of CHART_MODULES) {
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = href;
    document.head.appendChild(link);
  }
}
