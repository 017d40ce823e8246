export function ModelsList(props: { experimentId: string }) {
  return <p class="muted">Models of {props.experimentId}</p>;
}
export function ModelPage(props: { experimentId: string; modelId: string }) {
  return <main class="page">Model {props.modelId}</main>;
}
