// Light / dark / system theme: the choice is kept in localStorage and applied as data-theme.
import { signal } from "@preact/signals";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "tracklet.theme";

function stored(): ThemeChoice {
  const v = localStorage.getItem(KEY);
  return v === "light" || v === "dark" ? v : "system";
}

export const theme = signal<ThemeChoice>(stored());
const media = window.matchMedia("(prefers-color-scheme: dark)");

/** The theme in effect ("light" or "dark"), following the OS when the choice is "system". */
export const effectiveTheme = signal<"light" | "dark">("light");

function apply(): void {
  const t = theme.value === "system" ? (media.matches ? "dark" : "light") : theme.value;
  effectiveTheme.value = t;
  document.documentElement.dataset.theme = t;
}

export function setTheme(choice: ThemeChoice): void {
  if (choice === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
  theme.value = choice;
  apply();
}

media.addEventListener("change", apply);
apply();
