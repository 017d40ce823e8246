// The runs table's model: columnar runs from the server, turned into display rows (nested runs
// under their parents, or groups by a column's value) without copying the columns.
import { type RunColumns, bootAnswer, tracklet } from "./api";
import { BOOT_PAGE, type RunsQuery, SECOND_WINDOW, searchBody, windowBody } from "./boot-requests";

export type Cell = string | number | null;
export type DisplayRow =
  | { kind: "run"; index: number; depth: number; children: number; pinned?: boolean }
  | { kind: "group"; value: string; count: number; collapsed: boolean };

export interface Table {
  /** Rows of the whole query; rows not fetched yet hold ``undefined`` in every column. */
  n: number;
  columns: Record<string, Cell[]>;
  /** Runs shown only as the parents of matching children (not matched themselves). */
  context: Set<number>;
  /** 1 where the row has been fetched; null once every row has. */
  loaded: Uint8Array | null;
}

/** Rows of the first request; the second request's (it also learns the total), then the
 * background chunks' are multiples. localStorage "tracklet.runsPage" sets it (tests use a
 * small one to page through a small experiment). */
const PAGE = Math.max(1, Math.min(50_000, Number(localStorage.getItem("tracklet.runsPage")) || BOOT_PAGE));
export const FIRST_PAGE = PAGE;
const SECOND = SECOND_WINDOW(PAGE);
const CHUNK = Math.ceil(12.5 * PAGE);
/** Rows fetched around the view when it is scrolled to rows not fetched yet. */
const AROUND = 150;

interface Window extends RunColumns {
  total: number;
  offset: number;
  snapshot: string;
}

function concat(pages: RunColumns[]): Table {
  if (pages.length === 1) return { n: pages[0].n, columns: pages[0].columns, context: new Set(), loaded: null };
  const n = pages.reduce((s, p) => s + p.n, 0);
  const columns: Record<string, Cell[]> = {};
  let offset = 0;
  for (const page of pages) {
    for (const [name, values] of Object.entries(page.columns)) {
      let column = columns[name];
      if (!column) column = columns[name] = new Array(n).fill(null);
      for (let i = 0; i < values.length; i++) column[offset + i] = values[i];
    }
    offset += page.n;
  }
  return { n, columns, context: new Set(), loaded: null };
}

function append(table: Table, extra: RunColumns): Table {
  const merged = concat([{ n: table.n, columns: table.columns }, extra]);
  for (let i = 0; i < extra.n; i++) merged.context.add(table.n + i);
  for (const i of table.context) merged.context.add(i);
  return merged;
}

export type Query = RunsQuery;

const body = searchBody;

/** The table of a query's first page alone (its other rows, if any, not fetched yet). */
export function firstTable(first: RunColumns): Table {
  const table = concat([first]);
  return first.next_page_token ? { ...table, loaded: new Uint8Array(first.n).fill(1) } : table;
}

/** The first page, if index.html's bootstrap has it already (the first render can show it). */
export function firstPageNow(q: Query): RunColumns | undefined {
  return bootAnswer<RunColumns>("runs/search-columns", body(q, FIRST_PAGE));
}

/**
 * The runs of a query for the windowed table. The first page (keyset, fast) shows the first
 * rows; the second request, a window of the server's snapshot of the whole query, gives the
 * total, so the scrollbar spans every run at once. Then the rest is fetched in chunks in the
 * background, while ``want`` fetches the rows scrolled to first. ``onData`` sees each step
 * (the same Table, filled in place: a new object each time for the view to re-render).
 */
export class RunsLoader {
  private table: Table | null = null;
  private snapshot = "";
  private first: RunColumns | null = null;
  private pending = new Set<number>();
  private wanted = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private q: Query,
    private onData: (t: Table, complete: boolean) => void,
  ) {}

  stop() {
    this.stopped = true;
  }

  /** True once the server's snapshot of the whole query is known (its total, its keys). */
  get hasSnapshot(): boolean {
    return this.snapshot !== "";
  }

  async start(): Promise<void> {
    // The first page (keyset, fast) shows the first rows; then the window, from the server's
    // snapshot of the whole query, gives the total and the rows after them. (Not both at once:
    // the whole query would slow the first page down.)
    const first = await tracklet<RunColumns>("runs/search-columns", body(this.q, FIRST_PAGE));
    if (this.stopped) return;
    if (!first.next_page_token) {
      this.stopped = true; // every run is here; the window's answer is not needed
      this.onData(await withParents(this.q, concat([first])), true);
      return;
    }
    this.first = first;
    this.onData(firstTable(first), false);
    if (!(await this.fetch(first.n, SECOND)) || this.stopped || !this.table?.loaded) return;
    // The view draws the total first, and asks for the rows it is scrolled to (a user who
    // drags the scrollbar to the end at once): those come before the background chunks.
    for (let i = 0; i < 3; i++) await nextFrame();
    const n = this.table.n;
    for (let at = 0; at < n && !this.stopped && this.table?.loaded; ) {
      while (this.wanted.size) await Promise.allSettled([...this.wanted]);
      at = this.firstMissing(at);
      if (at >= n || !this.table?.loaded) break;
      await this.fetch(at, CHUNK);
      at += CHUNK;
    }
  }

  /** The first row from ``at`` not fetched yet (n when there is none). */
  private firstMissing(at: number): number {
    const loaded = this.table?.loaded;
    if (!loaded) return Infinity;
    while (at < loaded.length && loaded[at]) at++;
    return at;
  }

  private fillFirst() {
    const first = this.first!;
    const table = this.table!;
    if (!table.loaded) return;
    const n = Math.min(first.n, table.n);
    for (const [name, values] of Object.entries(first.columns)) {
      const column = this.column(name);
      for (let i = 0; i < n; i++) column[i] = values[i];
    }
    for (const [name, column] of Object.entries(table.columns))
      if (!(name in first.columns)) for (let i = 0; i < n; i++) column[i] = null;
    table.loaded.fill(1, 0, n);
    this.publish();
  }

  /** Fetches the rows ``first`` to ``last`` if some are missing (the view scrolled to them). */
  want(first: number, last: number) {
    const t = this.table;
    if (!t?.loaded || this.isLoaded(first, last)) return;
    const start = Math.max(0, first - AROUND);
    const block = Math.floor(start / 50);
    if (this.pending.has(block)) return;
    this.pending.add(block);
    // (A failed window is left unfetched: scrolling to it again retries.)
    const request = this.fetch(start, last - first + 2 * AROUND).catch(() => null).finally(() => {
      this.pending.delete(block);
      this.wanted.delete(request);
    });
    this.wanted.add(request);
  }

  private isLoaded(first: number, last: number): boolean {
    const loaded = this.table?.loaded;
    if (!loaded) return true;
    for (let i = first; i < last && i < loaded.length; i++) if (!loaded[i]) return false;
    return true;
  }

  private column(name: string): Cell[] {
    const t = this.table!;
    let column = t.columns[name];
    if (!column) {
      column = t.columns[name] = new Array(t.n);
      // Rows fetched already lack this key: missing (null), not unfetched (undefined).
      for (let i = 0; i < t.n; i++) if (t.loaded![i]) column[i] = null;
    }
    return column;
  }

  private async fetch(offset: number, limit: number): Promise<Window | null> {
    const w = await tracklet<Window>("runs/search-columns", windowBody(this.q, offset, limit, this.snapshot));
    if (this.stopped || (this.table && !this.table.loaded)) return null; // stopped, or complete
    const fresh = !this.table || w.snapshot !== this.snapshot;
    if (fresh) {
      // A new snapshot (the first, or this worker had lost ours): start the rows over.
      const n = w.total;
      this.snapshot = w.snapshot;
      const columns: Record<string, Cell[]> = {};
      for (const name of ["run_id", "run_name", "experiment_id", "status", "start_time", "end_time", "parent_run_id"])
        columns[name] = new Array(n);
      this.table = { n, columns, context: new Set(), loaded: new Uint8Array(n) };
    }
    const t = this.table!;
    const names = new Set([...Object.keys(t.columns), ...Object.keys(w.columns)]);
    for (const name of names) {
      const column = this.column(name);
      const values = w.columns[name];
      for (let i = 0; i < w.n; i++) column[offset + i] = values ? values[i] : null;
    }
    t.loaded!.fill(1, offset, offset + w.n);
    if (fresh && this.first) this.fillFirst();
    else this.publish();
    return w;
  }

  private publish() {
    const t = this.table!;
    if (this.isLoaded(0, t.n)) {
      const done: Table = { ...t, loaded: null };
      this.table = done;
      withParents(this.q, done).then((full) => !this.stopped && this.onData(full, true));
    } else {
      this.onData({ ...t }, false);
    }
  }
}

/** After the next frame (or 50 ms, in a hidden tab that draws no frames). */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 50);
    requestAnimationFrame(() => setTimeout(() => (clearTimeout(timer), resolve()), 0));
  });
}

/** Adds the parents of matched children that the filter left out, so children show in place. */
async function withParents(q: Query, table: Table): Promise<Table> {
  const ids = new Set(table.columns.run_id as string[]);
  const missing = new Set<string>();
  for (const p of table.columns.parent_run_id ?? []) if (p && !ids.has(p as string)) missing.add(p as string);
  if (!q.filter || !missing.size || missing.size > 200) return table;
  const list = [...missing].map((id) => `'${id.replace(/'/g, "")}'`).join(", ");
  try {
    const parents = await tracklet<RunColumns>(
      "runs/search-columns",
      body({ ...q, filter: `attributes.run_id IN (${list})` }, missing.size),
    );
    return parents.n ? append(table, parents) : table;
  } catch {
    return table;
  }
}

/** Display rows: nested runs under their parents (expanded ones), or groups by ``groupBy``. */
export function displayRows(
  table: Table,
  expanded: Set<string>,
  groupBy: string,
  collapsedGroups: Set<string>,
  pinned: Set<string> = new Set(),
): DisplayRow[] {
  const ids = table.columns.run_id as string[];
  const parents = (table.columns.parent_run_id ?? []) as (string | null)[];
  const rows: DisplayRow[] = [];
  // Pinned runs first, in the query's order (each shown once: not again below).
  const pinnedAt = new Set<number>();
  if (pinned.size) {
    for (let i = 0; i < table.n; i++) {
      if (ids[i] !== undefined && pinned.has(ids[i]) && !table.context.has(i)) {
        pinnedAt.add(i);
        rows.push({ kind: "run", index: i, depth: 0, children: 0, pinned: true });
      }
    }
  }
  if (table.loaded) {
    // Not every row is here yet: the query's order, flat (trees and groups need every run).
    for (let i = 0; i < table.n; i++) if (!pinnedAt.has(i)) rows.push({ kind: "run", index: i, depth: 0, children: 0 });
    return rows;
  }
  if (groupBy) {
    const groups = new Map<string, number[]>();
    const values = table.columns[groupBy] ?? [];
    for (let i = 0; i < table.n; i++) {
      if (table.context.has(i) || pinnedAt.has(i)) continue;
      const v = values[i] === null || values[i] === undefined ? "(none)" : String(values[i]);
      let g = groups.get(v);
      if (!g) groups.set(v, (g = []));
      g.push(i);
    }
    const keys = [...groups.keys()].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    for (const value of keys) {
      const members = groups.get(value)!;
      const collapsed = collapsedGroups.has(value);
      rows.push({ kind: "group", value, count: members.length, collapsed });
      if (!collapsed) for (const index of members) rows.push({ kind: "run", index, depth: 1, children: 0 });
    }
    return rows;
  }
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  const children = new Map<string, number[]>();
  for (let i = 0; i < table.n; i++) {
    const p = parents[i];
    if (p && index.has(p) && p !== ids[i]) {
      let c = children.get(p);
      if (!c) children.set(p, (c = []));
      c.push(i);
    }
  }
  const seen = new Set<number>();
  const visit = (i: number, depth: number) => {
    if (seen.has(i) || pinnedAt.has(i)) return;
    seen.add(i);
    const kids = children.get(ids[i]) ?? [];
    rows.push({ kind: "run", index: i, depth, children: kids.length });
    const open = expanded.has(ids[i]) || (table.context.has(i) && kids.length > 0);
    if (open) for (const k of kids) visit(k, depth + 1);
  };
  for (let i = 0; i < table.n; i++) {
    const p = parents[i];
    if (!p || !index.has(p) || p === ids[i]) visit(i, 0);
  }
  return rows;
}

export function toCsv(table: Table, rows: DisplayRow[], names: string[]): string {
  const quote = (v: Cell) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  const lines = [names.map(quote).join(",")];
  for (const r of rows) {
    if (r.kind !== "run") continue;
    lines.push(names.map((n) => quote(table.columns[n]?.[r.index] ?? null)).join(","));
  }
  return lines.join("\n") + "\n";
}
