// Global keyboard shortcuts and the "?" help dialog.
import { signal } from "@preact/signals";
import { Dialog } from "./common";

export const shortcutsOpen = signal(false);

const SHORTCUTS: [string, string][] = [
  ["/", "Focus the filter or search box"],
  ["j / k", "Move the row focus down / up in the runs table"],
  ["Enter", "Open the focused run"],
  ["Esc", "Close dialogs"],
  ["?", "Show this list"],
];

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.isContentEditable);
}

window.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  if (e.key === "?") {
    shortcutsOpen.value = true;
    e.preventDefault();
  } else if (e.key === "/") {
    const box = document.querySelector<HTMLInputElement>("[data-shortcut-focus]");
    if (box) {
      box.focus();
      e.preventDefault();
    }
  }
});

export function ShortcutHelp() {
  if (!shortcutsOpen.value) return null;
  return (
    <Dialog title="Keyboard shortcuts" onClose={() => (shortcutsOpen.value = false)} testid="shortcuts">
      <table class="kv">
        <tbody>
          {SHORTCUTS.map(([k, v]) => (
            <tr>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="actions">
        <button onClick={() => (shortcutsOpen.value = false)}>Close</button>
      </div>
    </Dialog>
  );
}
