// Settings: the theme (system / light / dark).
import { type ThemeChoice, setTheme, theme } from "../theme";

export function SettingsPage() {
  const choices: [ThemeChoice, string][] = [
    ["system", "System (follow the OS)"],
    ["light", "Light"],
    ["dark", "Dark"],
  ];
  return (
    <main class="page narrow-page" data-testid="settings-page">
      <h1>Settings</h1>
      <fieldset class="card">
        <legend>Theme</legend>
        {choices.map(([value, label]) => (
          <label class="radio">
            <input
              type="radio"
              name="theme"
              value={value}
              data-testid={"theme-" + value}
              checked={theme.value === value}
              onChange={() => setTheme(value)}
            />
            {label}
          </label>
        ))}
      </fieldset>
    </main>
  );
}
