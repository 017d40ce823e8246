// Display helpers shared by the pages.

export function fmtTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms === 0) return "";
  const d = new Date(Number(ms));
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtDuration(start?: number | null, end?: number | null): string {
  if (!start || !end) return "";
  let s = Math.max(0, (Number(end) - Number(start)) / 1000);
  if (s < 60) return `${s.toFixed(1)}s`;
  s = Math.round(s);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

// "1 run", "1,204 runs".
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString("en-US")} ${noun}${count === 1 ? "" : "s"}`;
}

const NON_FINITE: Record<string, string> = { NaN: "NaN", Infinity: "Inf", "-Infinity": "-Inf" };

/** A metric value for display: non-finite ones (MLflow's JSON strings "NaN", "Infinity",
 * "-Infinity", or numbers) read "NaN", "Inf" and "-Inf", never blank. */
export function fmtNumber(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return NON_FINITE[v] ?? v;
  const n = Number(v);
  if (!Number.isFinite(n)) return NON_FINITE[String(n)];
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return n.toExponential(4);
  return String(Number(n.toPrecision(6)));
}

export function fmtBytes(n: number | undefined): string {
  if (n === undefined || n === null) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A number from MLflow's JSON, where non-finite values are the strings "NaN", "Infinity". */
export function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (v === "NaN" || v === null || v === undefined) return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return Number(v);
}
