export function ComparePage() {
  return <main class="page">Compare</main>;
}
