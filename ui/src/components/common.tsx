// Small shared pieces: error box, spinner, dialog, tabs, key-value table.
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div class="error" role="alert" data-testid="error">
      {message}
    </div>
  );
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <div class="spinner" aria-busy="true">
      {label}
    </div>
  );
}

export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  testid?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  // A layout effect: Escape works from the first frame the dialog is visible (a plain effect
  // attached the listener a frame later, so an early Escape was lost).
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") props.onClose();
    };
    window.addEventListener("keydown", onKey);
    ref.current?.querySelector<HTMLElement>("input,textarea,button")?.focus();
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="dialog" role="dialog" aria-label={props.title} ref={ref} data-testid={props.testid}>
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

export function Tabs(props: { tabs: [string, string][]; active: string; base: string }) {
  return (
    <nav class="tabs" role="tablist">
      {props.tabs.map(([id, label]) => (
        <a
          role="tab"
          aria-selected={id === props.active}
          class={id === props.active ? "tab active" : "tab"}
          href={props.base + (id ? "/" + id : "")}
          data-testid={"tab-" + (id || "default")}
        >
          {label}
        </a>
      ))}
    </nav>
  );
}

export function KeyValueTable(props: {
  rows: [ComponentChildren, ComponentChildren][];
  testid: string;
  empty?: string;
  headers?: [string, string];
}) {
  if (!props.rows.length) return <p class="muted">{props.empty ?? "None"}</p>;
  const [k, v] = props.headers ?? ["Name", "Value"];
  return (
    <table class="kv" data-testid={props.testid}>
      <thead>
        <tr>
          <th>{k}</th>
          <th>{v}</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map(([key, value]) => (
          <tr>
            <td class="key">{key}</td>
            <td class="value">{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={"badge status-" + status.toLowerCase()} data-testid="status">
      {status}
    </span>
  );
}
