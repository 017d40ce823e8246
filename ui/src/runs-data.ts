// The runs table's model: columnar runs from the server, turned into display rows (nested runs
// under their parents, or groups by a column's value) without copying the columns.
import { type RunColumns, tracklet } from "./api";

export type Cell = string | number | null;
export type DisplayRow =
  | { kind: "run"; index: number; depth: number; children: number }
  | { kind: "group"; value: string; count: number; collapsed: boolean };

export interface Table {
  n: number;
  columns: Record<string, Cell[]>;
  /** Runs shown only as the parents of matching children (not matched themselves). */
  context: Set<number>;
}

export const FIRST_PAGE = 200;
const ALL = 50_000;

function concat(pages: RunColumns[]): Table {
  if (pages.length === 1) return { n: pages[0].n, columns: pages[0].columns, context: new Set() };
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
  return { n, columns, context: new Set() };
}

function append(table: Table, extra: RunColumns): Table {
  const merged = concat([{ n: table.n, columns: table.columns }, extra]);
  for (let i = 0; i < extra.n; i++) merged.context.add(table.n + i);
  for (const i of table.context) merged.context.add(i);
  return merged;
}

export interface Query {
  experimentIds: string[];
  filter: string;
  orderBy: string[];
}

function body(q: Query, max: number, token?: string) {
  return {
    experiment_ids: q.experimentIds,
    filter: q.filter,
    order_by: q.orderBy,
    max_results: max,
    page_token: token,
  };
}

/** The first page of runs (fast first rows), then every run; ``onData`` sees both. */
export async function loadRuns(q: Query, onData: (t: Table, complete: boolean) => void, live: () => boolean) {
  const first = await tracklet<RunColumns>("runs/search-columns", body(q, FIRST_PAGE));
  if (!live()) return;
  if (!first.next_page_token) {
    onData(await withParents(q, concat([first])), true);
    return;
  }
  onData(concat([first]), false);
  const pages: RunColumns[] = [];
  let token: string | undefined;
  do {
    const page = await tracklet<RunColumns>("runs/search-columns", body(q, ALL, token));
    if (!live()) return;
    pages.push(page);
    token = page.next_page_token ?? undefined;
  } while (token);
  onData(await withParents(q, concat(pages)), true);
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
): DisplayRow[] {
  const ids = table.columns.run_id as string[];
  const parents = (table.columns.parent_run_id ?? []) as (string | null)[];
  const rows: DisplayRow[] = [];
  if (groupBy) {
    const groups = new Map<string, number[]>();
    const values = table.columns[groupBy] ?? [];
    for (let i = 0; i < table.n; i++) {
      if (table.context.has(i)) continue;
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
    if (seen.has(i)) return;
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
