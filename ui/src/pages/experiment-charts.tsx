export function ExperimentCharts(props: { experimentId: string }) {
  return <p class="muted">Charts of experiment {props.experimentId}</p>;
}
