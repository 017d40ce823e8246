// The app shell: top bar, theme, and the hash-route switch.
import { render } from "preact";
import "uplot/dist/uPlot.min.css";
import "./app.css";
import { ShortcutHelp, shortcutsOpen } from "./components/shortcuts";
import { route } from "./router";
import { type ThemeChoice, setTheme, theme } from "./theme";
import { ExperimentsPage } from "./pages/experiments";
import { CompareExperimentsPage, ExperimentPage } from "./pages/experiment";
import { RunPage, RunRedirect } from "./pages/run";
import { MetricPage } from "./pages/metric";
import { ComparePage } from "./pages/compare";
import { SettingsPage } from "./pages/settings";
import { RegistryPage } from "./pages/registry";

function Page() {
  const { path } = route.value;
  const [first, id, section, runId, ...rest] = path;
  if (!first || (first === "experiments" && !id)) return <ExperimentsPage />;
  if (first === "experiments" && section === "runs" && runId) {
    return <RunPage experimentId={id} runId={runId} tab={rest} />;
  }
  if (first === "experiments") return <ExperimentPage experimentId={id} section={section ?? "runs"} rest={[runId, ...rest]} />;
  if (first === "runs" && id) return <RunRedirect runId={id} />;
  if (first === "metric") return <MetricPage />;
  if (first === "compare-runs") return <ComparePage />;
  if (first === "compare-experiments") return <CompareExperimentsPage />;
  if (first === "settings") return <SettingsPage />;
  if (first === "models") return <RegistryPage />;
  return (
    <main class="page">
      <h1>Not found</h1>
      <p>
        No page at <code>#{"/" + path.join("/")}</code>. <a href="#/experiments">Experiments</a>
      </p>
    </main>
  );
}

function TopBar() {
  const first = route.value.path[0] ?? "experiments";
  const cycle: ThemeChoice[] = ["system", "light", "dark"];
  return (
    <header class="topbar">
      <a class="brand" href="#/experiments">
        <span class="logo" aria-hidden="true">◆</span> tracklet
      </a>
      <nav>
        <a href="#/experiments" class={first === "experiments" ? "active" : ""}>
          Experiments
        </a>
        <a href="#/models" class={first === "models" ? "active" : ""} data-testid="nav-models">
          Models
        </a>
        <a href="#/settings" class={first === "settings" ? "active" : ""}>
          Settings
        </a>
      </nav>
      <span class="spacer" />
      <button
        class="ghost"
        data-testid="theme-toggle"
        title="Theme (system / light / dark)"
        onClick={() => setTheme(cycle[(cycle.indexOf(theme.value) + 1) % cycle.length])}
      >
        {theme.value === "dark" ? "☾ Dark" : theme.value === "light" ? "☀ Light" : "◐ System"}
      </button>
      <button class="ghost" title="Keyboard shortcuts (?)" onClick={() => (shortcutsOpen.value = true)}>
        ?
      </button>
    </header>
  );
}

function App() {
  return (
    <>
      <TopBar />
      <Page />
      <ShortcutHelp />
    </>
  );
}

render(<App />, document.getElementById("app")!);
