// The runs filter box: tracklet's search language, with key autocomplete after "metrics.",
// "params.", "tags." and "attributes.", and the server's error shown by the caller.
import { useState } from "preact/hooks";
import type { Keys } from "../api";

const ATTRIBUTES = ["run_id", "run_name", "status", "start_time", "end_time", "user_id", "artifact_uri"];
const TOKEN = /(metrics|params|tags|attributes|attribute|metric|param|tag)\.([\w.\-/`]*)$/;

export function quoteKey(key: string): string {
  return /^[A-Za-z_][\w.]*$/.test(key) ? key : "`" + key.replace(/`/g, "") + "`";
}

function suggestions(text: string, caret: number, keys: Keys | null): { start: number; items: string[] } | null {
  const m = TOKEN.exec(text.slice(0, caret));
  if (!m) return null;
  const kind = m[1].replace(/s$/, "");
  const typed = m[2].replace(/`/g, "").toLowerCase();
  const pool =
    kind === "metric"
      ? keys?.metrics.map((k) => k.key)
      : kind === "param"
        ? keys?.params.map((k) => k.key)
        : kind === "tag"
          ? keys?.tags.map((k) => k.key)
          : ATTRIBUTES;
  const items = (pool ?? []).filter((k) => k.toLowerCase().startsWith(typed)).slice(0, 50);
  return { start: caret - m[2].length, items };
}

export function FilterBox(props: { value: string; keys: Keys | null; onApply: (filter: string) => void }) {
  const [text, setText] = useState(props.value);
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  const found = open ? suggestions(text, caret, props.keys) : null;
  const items = found?.items ?? [];

  const insert = (key: string, input: HTMLInputElement) => {
    if (!found) return;
    const quoted = quoteKey(key);
    const next = text.slice(0, found.start) + quoted + text.slice(caret);
    const at = found.start + quoted.length;
    setText(next);
    setOpen(false);
    requestAnimationFrame(() => input.setSelectionRange(at, at));
  };

  return (
    <form
      class="filter-box"
      onSubmit={(e) => {
        e.preventDefault();
        setOpen(false);
        props.onApply(text.trim());
      }}
    >
      <input
        class="filter"
        data-testid="filter"
        data-shortcut-focus
        spellcheck={false}
        autocomplete="off"
        placeholder="metrics.loss < 0.5 and params.lr = '0.01'"
        value={text}
        onInput={(e) => {
          const el = e.currentTarget as HTMLInputElement;
          setText(el.value);
          setCaret(el.selectionStart ?? el.value.length);
          setActive(0);
          setOpen(true);
        }}
        onKeyDown={(e) => {
          const el = e.currentTarget as HTMLInputElement;
          if (!items.length) return;
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            setActive((a) => (a + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length);
          } else if (e.key === "Tab" || (e.key === "Enter" && open)) {
            e.preventDefault();
            insert(items[Math.min(active, items.length - 1)], el);
          } else if (e.key === "Escape") {
            setOpen(false);
            e.stopPropagation();
          }
        }}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
      />
      {items.length > 0 && (
        <div class="suggest" role="listbox" data-testid="suggestions">
          {items.map((k, i) => (
            <div
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                insert(k, (e.currentTarget as HTMLElement).closest("form")!.querySelector("input")!);
              }}
            >
              {k}
            </div>
          ))}
        </div>
      )}
      <button type="submit" data-testid="apply-filter">
        Search
      </button>
      {props.value && (
        <button
          type="button"
          class="ghost"
          onClick={() => {
            setText("");
            props.onApply("");
          }}
        >
          Clear
        </button>
      )}
    </form>
  );
}
