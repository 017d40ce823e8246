// Experiments list: name search, sort, create, rename, delete, restore, "show deleted".
import { useEffect, useState } from "preact/hooks";
import { type Experiment, post } from "../api";
import { Dialog, ErrorBox, Spinner } from "../components/common";
import { fmtTime } from "../format";
import { route, setQuery } from "../router";

async function searchAll(filter: string, viewType: string, order: string): Promise<Experiment[]> {
  const out: Experiment[] = [];
  let token: string | undefined;
  do {
    const page = await post<{ experiments?: Experiment[]; next_page_token?: string }>(
      "experiments/search",
      { max_results: 1000, filter, view_type: viewType, order_by: [order], page_token: token },
    );
    out.push(...(page.experiments ?? []));
    token = page.next_page_token || undefined;
  } while (token);
  return out;
}

const ORDERS: [string, string][] = [
  ["last_update_time DESC", "Last updated"],
  ["creation_time DESC", "Newest"],
  ["name ASC", "Name A–Z"],
  ["name DESC", "Name Z–A"],
];

type Editing = { kind: "create" } | { kind: "rename"; experiment: Experiment } | null;

export function ExperimentsPage() {
  const q = route.value.query;
  const search = q.get("q") ?? "";
  const showDeleted = q.get("deleted") === "1";
  const order = q.get("order") ?? ORDERS[0][0];
  const [text, setText] = useState(search);
  const [rows, setRows] = useState<Experiment[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<Editing>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    const filter = search ? `name ILIKE '%${search.replace(/'/g, "\\'")}%'` : "";
    searchAll(filter, showDeleted ? "ALL" : "ACTIVE_ONLY", order).then(
      (r) => live && (setRows(r), setError(null)),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [search, showDeleted, order, version]);

  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError(null);
      setVersion((v) => v + 1);
    } catch (e) {
      setError(e);
    }
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const compare = [...selected];

  return (
    <main class="page" data-testid="experiments-page">
      <div class="page-head">
        <h1>Experiments</h1>
        <button class="primary" data-testid="create-experiment" onClick={() => setEditing({ kind: "create" })}>
          + New experiment
        </button>
      </div>
      <div class="toolbar">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setQuery({ q: text || undefined });
          }}
        >
          <input
            type="search"
            placeholder="Search experiments by name"
            data-testid="experiment-search"
            data-shortcut-focus
            value={text}
            onInput={(e) => {
              const v = (e.target as HTMLInputElement).value;
              setText(v);
              setQuery({ q: v || undefined });
            }}
          />
        </form>
        <label class="check">
          <input
            type="checkbox"
            data-testid="show-deleted"
            checked={showDeleted}
            onChange={(e) => setQuery({ deleted: (e.target as HTMLInputElement).checked ? "1" : undefined })}
          />
          Show deleted
        </label>
        <select
          aria-label="Sort"
          value={order}
          onChange={(e) => setQuery({ order: (e.target as HTMLSelectElement).value })}
        >
          {ORDERS.map(([v, l]) => (
            <option value={v}>{l}</option>
          ))}
        </select>
        <span class="spacer" />
        {compare.length >= 2 && (
          <a
            class="button"
            data-testid="compare-experiments"
            href={`#/compare-experiments/s?experiments=${encodeURIComponent(JSON.stringify(compare))}`}
          >
            Compare {compare.length}
          </a>
        )}
      </div>
      <ErrorBox error={error} />
      {rows === null ? (
        <Spinner />
      ) : (
        <table class="list" data-testid="experiments-table">
          <thead>
            <tr>
              <th class="narrow" />
              <th>Name</th>
              <th>ID</th>
              <th>Created</th>
              <th>Last updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => {
              const deleted = e.lifecycle_stage === "deleted";
              return (
                <tr data-testid="experiment-row" data-id={e.experiment_id} class={deleted ? "deleted" : ""}>
                  <td class="narrow">
                    <input
                      type="checkbox"
                      aria-label={"Select " + e.name}
                      checked={selected.has(e.experiment_id)}
                      onChange={() => toggle(e.experiment_id)}
                    />
                  </td>
                  <td>
                    <a href={`#/experiments/${e.experiment_id}`} class="strong" data-testid="experiment-name">
                      {e.name}
                    </a>
                    {deleted && <span class="badge muted-badge">deleted</span>}
                  </td>
                  <td class="mono">{e.experiment_id}</td>
                  <td>{fmtTime(e.creation_time)}</td>
                  <td>{fmtTime(e.last_update_time)}</td>
                  <td class="row-actions">
                    {deleted ? (
                      <button
                        data-testid="restore"
                        onClick={() => act(() => post("experiments/restore", { experiment_id: e.experiment_id }))}
                      >
                        Restore
                      </button>
                    ) : (
                      <>
                        <button data-testid="rename" onClick={() => setEditing({ kind: "rename", experiment: e })}>
                          Rename
                        </button>
                        <button
                          class="danger"
                          data-testid="delete"
                          onClick={() => act(() => post("experiments/delete", { experiment_id: e.experiment_id }))}
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
            {!rows.length && (
              <tr>
                <td colSpan={6} class="muted">
                  No experiments{search ? ` match “${search}”` : ""}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {editing && (
        <NameDialog
          title={editing.kind === "create" ? "New experiment" : "Rename experiment"}
          initial={editing.kind === "rename" ? editing.experiment.name : ""}
          onClose={() => setEditing(null)}
          onSave={async (name) => {
            if (editing.kind === "create") await post("experiments/create", { name });
            else await post("experiments/update", { experiment_id: editing.experiment.experiment_id, new_name: name });
            setEditing(null);
            setVersion((v) => v + 1);
          }}
        />
      )}
    </main>
  );
}

function NameDialog(props: {
  title: string;
  initial: string;
  onClose: () => void;
  onSave: (name: string) => Promise<void>;
}) {
  const [name, setName] = useState(props.initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={props.title} onClose={props.onClose} testid="name-dialog">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          try {
            await props.onSave(name.trim());
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label class="field">
          Name
          <input
            data-testid="name-input"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" data-testid="save" disabled={busy || !name.trim()}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
