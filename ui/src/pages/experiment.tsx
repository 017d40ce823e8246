// One experiment: the runs table (default), charts and logged models tabs.
export function ExperimentPage(props: { experimentId: string; section: string; rest: (string | undefined)[] }) {
  return <main class="page">Experiment {props.experimentId}</main>;
}
