// The runs table: every run of the experiment in a windowed grid (no "load more"), with a filter
// box, server-side sort from the headers, a column picker, group by, nested runs, selection for
// compare, CSV export and live refresh. All view state lives in the URL.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, type Experiment, type Keys, eventsUrl, get, keysPath, tracklet } from "../api";
import { ErrorBox } from "../components/common";
import { FilterBox, quoteKey } from "../components/filterbox";
import { ROW_HEIGHT, WindowedGrid } from "../components/grid";
import { fmtDuration, fmtNumber, fmtTime, plural } from "../format";
import { navigate, route, setQuery } from "../router";
import { useMarks } from "../run-marks";
import { type Cell, type DisplayRow, RunsLoader, type Table, displayRows, firstPageNow, firstTable, toCsv } from "../runs-data";

const DEFAULT_COLUMNS = 24;
const WIDTH = { select: 84, name: 260, experiment: 160, start: 178, duration: 90, status: 100, value: 130 };

function label(name: string): [string, string] {
  const at = name.indexOf(".");
  return [name.slice(0, at), name.slice(at + 1)];
}

function parseOrder(order: string): { column: string; desc: boolean } | null {
  const m = /^(.*) (ASC|DESC)$/.exec(order);
  return m ? { column: m[1], desc: m[2] === "DESC" } : null;
}

function orderTerm(column: string, desc: boolean): string {
  const [kind, key] = label(column);
  const term = kind === "attributes" ? `attributes.${key}` : `${kind}.${quoteKey(key)}`;
  return `${term} ${desc ? "DESC" : "ASC"}`;
}

/** The runs table of one experiment, or of several (then with an Experiment column). */
export function RunsView({ experimentIds }: { experimentIds: string[] }) {
  const experimentId = experimentIds.join(",");
  const multi = experimentIds.length > 1;
  const names = useExperimentNames(multi ? experimentIds : []);
  const marks = useMarks(experimentIds);
  const q = route.value.query;
  const filter = q.get("filter") ?? "";
  const order = q.get("order") ?? "";
  const groupBy = q.get("group") ?? "";
  const colsParam = q.get("cols");
  const sort = parseOrder(order);
  const orderBy = sort ? [orderTerm(sort.column, sort.desc)] : [];
  // The first rows in the first render when index.html's bootstrap has them already.
  const [table, setTable] = useState<Table | null>(() => {
    const first = firstPageNow({ experimentIds, filter, orderBy });
    return first ? firstTable(first) : null;
  });
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [keys, setKeys] = useState<Keys | null>(null);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [focus, setFocus] = useState(-1);
  const [picker, setPicker] = useState(false);
  const [version, setVersion] = useState(0);
  const marked = useRef(false);

  // Which query the table holds in full; "loading" is known at render time (tests, spinners).
  const queryKey = [experimentId, filter, order, version].join("\n");
  const [loadedKey, setLoadedKey] = useState("");
  const loader = useRef<RunsLoader | null>(null);
  const keysAsked = useRef("");
  useEffect(() => {
    setComplete(false);
    const current = new RunsLoader({ experimentIds, filter, orderBy }, (t, done) => {
      setTable(t);
      setComplete(done);
      if (done) setLoadedKey(queryKey);
      setError(null);
      if (!marked.current) {
        marked.current = true;
        requestAnimationFrame(() => performance.mark("tl:first-rows"));
      }
      // The keys once the rows are in (the server then counts them from its snapshot).
      const keysKey = experimentId + "\n" + version;
      if ((done || current.hasSnapshot) && keysAsked.current !== keysKey) {
        keysAsked.current = keysKey;
        tracklet<Keys>(keysPath(experimentIds)).then(setKeys, () => {});
      }
    });
    loader.current = current;
    current.start().catch((e) => {
      if (loader.current !== current) return;
      setError(e);
      setComplete(true);
      setLoadedKey(queryKey);
    });
    return () => current.stop();
  }, [experimentId, filter, order, version]);

  // Live refresh: one EventSource for the experiments; a burst of changes reloads once.
  useEffect(() => {
    const source = new EventSource(eventsUrl({ experiment_id: experimentIds }));
    let timer = 0;
    source.addEventListener("runs", () => {
      clearTimeout(timer);
      timer = window.setTimeout(() => setVersion((v) => v + 1), 500);
    });
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, [experimentId]);

  const available = useMemo(() => {
    if (!table) return [] as string[];
    return Object.keys(table.columns).filter((c) => /^(metrics|params|tags)\./.test(c));
  }, [table]);
  const shown = useMemo(() => {
    if (colsParam !== null) return colsParam.split(",").filter(Boolean).map(decodeURIComponent);
    return available.filter((c) => !c.startsWith("tags.")).slice(0, DEFAULT_COLUMNS);
  }, [colsParam, available]);

  const rows = useMemo(
    () => (table ? displayRows(table, expanded, groupBy, collapsed, marks.pinned) : []),
    [table, expanded, groupBy, collapsed, marks.pinned.size, [...marks.pinned].join()],
  );
  const runCount = table ? table.n - table.context.size : 0;

  const open = (r: DisplayRow | undefined) => {
    if (r?.kind === "run" && table)
      navigate(`/experiments/${table.columns.experiment_id[r.index]}/runs/${table.columns.run_id[r.index]}`);
  };
  // The key handler reads the latest rows and focus through a ref (keys can come faster than
  // effects re-subscribe).
  const latest = useRef({ rows, focus, open });
  latest.current = { rows, focus, open };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || e.ctrlKey || e.metaKey || e.altKey) return;
      const now = latest.current;
      let next = now.focus;
      if (e.key === "j") next = Math.min(now.rows.length - 1, now.focus + 1);
      else if (e.key === "k") next = Math.max(0, now.focus - 1);
      else if (e.key === "Enter" && now.focus >= 0) now.open(now.rows[now.focus]);
      if (next !== now.focus) {
        latest.current = { ...now, focus: next };
        setFocus(next);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const setColumns = (names: string[]) => setQuery({ cols: names.map(encodeURIComponent).join(",") });
  const clickHeader = (column: string) => {
    if (!sort || sort.column !== column) setQuery({ order: `${column} DESC` });
    else if (sort.desc) setQuery({ order: `${column} ASC` });
    else setQuery({ order: undefined });
  };
  const exportCsv = () => {
    if (!table) return;
    const columns = ["run_id", "run_name", ...(multi ? ["experiment_id"] : []), "status", "start_time", "end_time", ...shown];
    const blob = new Blob([toCsv(table, rows, columns)], { type: "text/csv" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `runs-${experimentIds.join("-")}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const compare = [...selected];

  const headCell = (column: string, width: number, text: string, extra = "") => {
    const active = sort?.column === column;
    return (
      <div
        class={"cell " + extra}
        style={{ width: width + "px" }}
        role="columnheader"
        data-column={column}
        aria-sort={active ? (sort!.desc ? "descending" : "ascending") : "none"}
        title={`Sort by ${column}`}
        onClick={() => clickHeader(column)}
      >
        {text}
        {active && <span class="sort">{sort!.desc ? "↓" : "↑"}</span>}
      </div>
    );
  };
  const header = (
    <div class="grid-head" role="row">
      <div class="cell pin" style={{ width: WIDTH.select + WIDTH.name + "px", display: "flex", gap: 0, padding: 0 }}>
        <div class="cell" style={{ width: WIDTH.select + "px" }} />
        {headCell("attributes.run_name", WIDTH.name - 20, "Run name")}
      </div>
      {multi && (
        <div class="cell" style={{ width: WIDTH.experiment + "px" }} role="columnheader" data-column="experiment">
          Experiment
        </div>
      )}
      {headCell("attributes.start_time", WIDTH.start, "Created")}
      <div class="cell" style={{ width: WIDTH.duration + "px" }} role="columnheader">
        Duration
      </div>
      {headCell("attributes.status", WIDTH.status, "Status")}
      {shown.map((c) => {
        const [kind, key] = label(c);
        const active = sort?.column === c;
        return (
          <div
            class={"cell" + (kind === "metrics" ? " num" : "")}
            style={{ width: WIDTH.value + "px" }}
            role="columnheader"
            data-column={c}
            aria-sort={active ? (sort!.desc ? "descending" : "ascending") : "none"}
            title={c}
            onClick={() => clickHeader(c)}
          >
            <span class="kind">{kind === "metrics" ? "▲" : kind === "params" ? "◆" : "#"}</span>
            {key}
            {active && <span class="sort">{sort!.desc ? "↓" : "↑"}</span>}
          </div>
        );
      })}
    </div>
  );

  const renderRow = (i: number, top: number) => {
    const r = rows[i];
    const style = { top: top + "px", height: ROW_HEIGHT + "px" };
    if (r.kind === "group") {
      return (
        <div
          class="grid-row group"
          role="row"
          style={style}
          data-testid="group-row"
          data-value={r.value}
          data-count={r.count}
          onClick={() => {
            const next = new Set(collapsed);
            if (next.has(r.value)) next.delete(r.value);
            else next.add(r.value);
            setCollapsed(next);
          }}
        >
          <div class="cell pin" style={{ width: "460px" }}>
            <span class="expander">{r.collapsed ? "▸" : "▾"}</span>
            {groupBy.replace(/^\w+\./, "")} = {r.value} <span class="muted">({r.count.toLocaleString("en-US")} runs)</span>
          </div>
        </div>
      );
    }
    const t = table!;
    const c = t.columns;
    if (t.loaded && !t.loaded[r.index]) {
      return (
        <div class="grid-row" role="row" style={style} data-testid="run-row-pending">
          <div class="cell pin muted" style={{ width: WIDTH.select + WIDTH.name + "px" }}>
            …
          </div>
        </div>
      );
    }
    const id = c.run_id[r.index] as string;
    const name = (c.run_name[r.index] as string) || id;
    const runExperiment = String(c.experiment_id[r.index] ?? experimentIds[0]);
    const isPinned = marks.pinned.has(id);
    const isHidden = marks.hidden.has(id);
    const isOpen = expanded.has(id) || (t.context.has(r.index) && r.children > 0);
    const cellValue = (col: string): Cell => c[col]?.[r.index] ?? null;
    return (
      <div
        class={
          "grid-row" +
          (i === focus ? " focused" : "") +
          (t.context.has(r.index) ? " context" : "") +
          (r.pinned ? " pinned" : "") +
          (isHidden ? " hidden-run" : "")
        }
        role="row"
        style={style}
        data-testid="run-row"
        data-run-id={id}
        data-depth={r.depth}
        data-pinned={r.pinned ? "1" : undefined}
        data-hidden={isHidden ? "1" : undefined}
        onClick={() => setFocus(i)}
      >
        <div class="cell pin" style={{ width: WIDTH.select + WIDTH.name + "px", display: "flex", padding: 0 }}>
          <div class="cell" style={{ width: WIDTH.select + "px" }}>
            <input
              type="checkbox"
              aria-label={"Select " + name}
              checked={selected.has(id)}
              onClick={(e) => e.stopPropagation()}
              onChange={() => {
                const next = new Set(selected);
                if (next.has(id)) next.delete(id);
                else next.add(id);
                setSelected(next);
              }}
            />
            <button
              class={"ghost mark" + (isPinned ? " on" : "")}
              data-testid="pin-run"
              aria-pressed={isPinned}
              title={isPinned ? "Unpin" : "Pin to the top"}
              onClick={(e) => {
                e.stopPropagation();
                marks.togglePin(id, runExperiment);
              }}
            >
              {isPinned ? "★" : "☆"}
            </button>
            <button
              class={"ghost mark" + (isHidden ? " on" : "")}
              data-testid="hide-run"
              aria-pressed={isHidden}
              title={isHidden ? "Show in charts" : "Hide from charts"}
              onClick={(e) => {
                e.stopPropagation();
                marks.toggleHidden(id, runExperiment);
              }}
            >
              {isHidden ? "◌" : "◉"}
            </button>
          </div>
          <div class="cell" style={{ width: WIDTH.name - 20 + "px", paddingLeft: 4 + r.depth * 18 + "px" }}>
            {r.children > 0 ? (
              <button
                class="expander"
                data-testid="expander"
                aria-expanded={isOpen}
                aria-label={(isOpen ? "Collapse " : "Expand ") + name}
                onClick={(e) => {
                  e.stopPropagation();
                  const next = new Set(expanded);
                  if (next.has(id)) next.delete(id);
                  else next.add(id);
                  setExpanded(next);
                }}
              >
                {isOpen ? "▾" : "▸"}
              </button>
            ) : (
              <span class="expander" />
            )}
            <a href={`#/experiments/${runExperiment}/runs/${id}`} data-testid="run-link" title={name}>
              {name}
            </a>
          </div>
        </div>
        {multi && (
          <div class="cell" style={{ width: WIDTH.experiment + "px" }} data-column="experiment" title={names[runExperiment] ?? runExperiment}>
            <a href={`#/experiments/${runExperiment}`}>{names[runExperiment] ?? runExperiment}</a>
          </div>
        )}
        <div class="cell" style={{ width: WIDTH.start + "px" }}>
          {fmtTime(c.start_time[r.index] as number)}
        </div>
        <div class="cell" style={{ width: WIDTH.duration + "px" }}>
          {fmtDuration(c.start_time[r.index] as number, c.end_time[r.index] as number)}
        </div>
        <div class="cell" style={{ width: WIDTH.status + "px" }}>
          <span class={"dot status-" + String(c.status[r.index]).toLowerCase()} />
          {String(c.status[r.index]).toLowerCase()}
        </div>
        {shown.map((col) => {
          const v = cellValue(col);
          const isMetric = col.startsWith("metrics.");
          return (
            <div class={"cell" + (isMetric ? " num" : "")} style={{ width: WIDTH.value + "px" }} data-column={col} title={v === null ? "" : String(v)}>
              {isMetric ? fmtNumber(v) : (v ?? "")}
            </div>
          );
        })}
      </div>
    );
  };

  return (
    <>
      <div class="toolbar">
        <FilterBox
          value={filter}
          keys={keys}
          onApply={(f) => {
            setError(null);
            setQuery({ filter: f || undefined });
          }}
        />
        <label class="check">
          Group by
          <select
            data-testid="group-by"
            value={groupBy}
            onChange={(e) => setQuery({ group: (e.target as HTMLSelectElement).value || undefined })}
          >
            <option value="">None</option>
            {available
              .filter((c) => !c.startsWith("metrics."))
              .map((c) => (
                <option value={c}>{c}</option>
              ))}
          </select>
        </label>
        <div class="rel">
          <button data-testid="columns-button" onClick={() => setPicker(!picker)}>
            Columns ({shown.length})
          </button>
          {picker && <ColumnPicker available={available} shown={shown} onChange={setColumns} onClose={() => setPicker(false)} />}
        </div>
        <button onClick={exportCsv} data-testid="export-csv">
          Export CSV
        </button>
        {compare.length >= 2 && (
          <a
            class="button primary"
            data-testid="compare-runs"
            href={`#/compare-runs?runs=${encodeURIComponent(JSON.stringify(compare))}&experiments=${encodeURIComponent(JSON.stringify(experimentIds))}`}
          >
            Compare {compare.length}
          </a>
        )}
      </div>
      {error !== null && (
        <div class="error" role="alert" data-testid="filter-error">
          {error instanceof ApiError ? error.message : String(error)}
        </div>
      )}
      <div class="grid-wrap" data-loading={loadedKey === queryKey ? undefined : "1"}>
        {table ? (
          <WindowedGrid
            count={rows.length}
            header={header}
            row={renderRow}
            focus={focus}
            testid="runs-grid"
            onRange={(first, last) => {
              // Display rows to the table's rows (pinned ones sit above their place).
              let lo = Infinity;
              let hi = -1;
              for (let i = first; i < last; i++) {
                const r = rows[i];
                if (r?.kind === "run" && !r.pinned) (lo = Math.min(lo, r.index)), (hi = Math.max(hi, r.index));
              }
              if (hi >= 0) loader.current?.want(lo, hi + 1);
            }}
          />
        ) : error ? (
          <ErrorBox error={null} />
        ) : (
          <div class="spinner">Loading runs…</div>
        )}
        <div class="footer-bar">
          <span data-testid="run-count">
            {table ? plural(runCount, "run") : ""}
          </span>
          {table && !complete && <span>loading all…</span>}
          {selected.size > 0 && <span>{selected.size} selected</span>}
          <span class="spacer" />
          <span>
            <kbd>/</kbd> filter · <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Enter</kbd> open
          </span>
        </div>
      </div>
    </>
  );
}

/** Experiment id -> name, for the Experiment column. */
function useExperimentNames(ids: string[]): Record<string, string> {
  const [names, setNames] = useState<Record<string, string>>({});
  const key = ids.join(",");
  useEffect(() => {
    if (!ids.length) return;
    let live = true;
    Promise.all(
      ids.map((id) =>
        get<{ experiment: Experiment }>("experiments/get", { experiment_id: id }).then(
          (r) => [id, r.experiment.name] as const,
          () => [id, id] as const,
        ),
      ),
    ).then((found) => live && setNames(Object.fromEntries(found)));
    return () => {
      live = false;
    };
  }, [key]);
  return names;
}

function ColumnPicker(props: { available: string[]; shown: string[]; onChange: (names: string[]) => void; onClose: () => void }) {
  const [text, setText] = useState("");
  const shown = new Set(props.shown);
  const groups: [string, string][] = [
    ["metrics.", "Metrics"],
    ["params.", "Parameters"],
    ["tags.", "Tags"],
  ];
  const toggle = (name: string) => {
    if (shown.has(name)) props.onChange(props.shown.filter((n) => n !== name));
    else props.onChange([...props.shown, name]);
  };
  return (
    <div class="picker card" data-testid="column-picker">
      <div class="toolbar">
        <input placeholder="Find a column" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button class="ghost" onClick={props.onClose}>
          ✕
        </button>
      </div>
      {groups.map(([prefix, title]) => {
        const names = props.available.filter((n) => n.startsWith(prefix) && n.toLowerCase().includes(text.toLowerCase()));
        if (!names.length) return null;
        return (
          <>
            <h4>{title}</h4>
            {names.map((n) => (
              <label>
                <input type="checkbox" data-column={n} checked={shown.has(n)} onChange={() => toggle(n)} />
                {n.slice(prefix.length)}
              </label>
            ))}
          </>
        );
      })}
    </div>
  );
}
