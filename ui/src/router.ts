// Hash routes, MLflow's URL shapes: #/experiments/<id>/runs/<run_id>, #/metric?..., ...
import { signal } from "@preact/signals";

export interface Route {
  path: string[];
  query: URLSearchParams;
}

function parse(): Route {
  const hash = location.hash.replace(/^#\/?/, "");
  const at = hash.indexOf("?");
  const path = (at < 0 ? hash : hash.slice(0, at)).split("/").filter(Boolean).map(decodeURIComponent);
  return { path, query: new URLSearchParams(at < 0 ? "" : hash.slice(at + 1)) };
}

export const route = signal<Route>(parse());
window.addEventListener("hashchange", () => (route.value = parse()));

/** The hash for a path and query (empty values are left out). */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  const s = q.toString().replace(/\+/g, "%20");
  return "#" + path + (s ? "?" + s : "");
}

export function navigate(path: string, query: Record<string, string | undefined> = {}): void {
  location.hash = href(path, query).slice(1);
}

/** Changes the query of the current route in place (view state; no new history entry). */
export function setQuery(changes: Record<string, string | undefined>): void {
  const current = route.value;
  const merged: Record<string, string | undefined> = {};
  current.query.forEach((v, k) => (merged[k] = v));
  Object.assign(merged, changes);
  const h = href("/" + current.path.map(encodeURIComponent).join("/"), merged);
  history.replaceState(null, "", h);
  route.value = parse();
}

/** A query value MLflow writes as JSON (runs=["a","b"], metric="loss"); plain text otherwise. */
export function jsonParam<T>(query: URLSearchParams, name: string, fallback: T): T {
  const raw = query.get(name);
  if (raw === null) return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return raw as unknown as T;
  }
}
