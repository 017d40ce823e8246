export function RunPage(props: { experimentId: string; runId: string; tab: string[] }) {
  return <main class="page">Run {props.runId}</main>;
}
export function RunRedirect(props: { runId: string }) {
  return <main class="page">Run {props.runId}</main>;
}
