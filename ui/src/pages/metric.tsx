export function MetricPage() {
  return <main class="page">Metric</main>;
}
