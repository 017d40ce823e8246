// The series' binary answer (server/ui/series_binary.py): a uint32 header length, the JSON
// header, padding to 8 bytes, then each series' float64 columns x, y (and min, max with a band),
// read in place instead of parsed from JSON text.
import type { Series } from "./api";

interface Meta extends Omit<Series, "x" | "y" | "band"> {
  n: number;
  band: boolean;
  /** x values start + i * stride (no x column then). */
  x_run?: [number, number];
}

export function decodeSeries(buffer: ArrayBuffer): Series[] {
  const size = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, size))) as { series: Meta[] };
  let at = 4 + size + ((8 - ((4 + size) % 8)) % 8);
  // Float64Array reads the platform's order: little-endian, as the wire, in every browser.
  const column = (n: number): number[] => {
    const values = Array.from(new Float64Array(buffer, at, n));
    at += 8 * n;
    return values;
  };
  return header.series.map(({ n, band, x_run, ...meta }) => {
    const x = x_run ? Array.from({ length: n }, (_, i) => x_run[0] + i * x_run[1]) : column(n);
    const y = column(n);
    return { ...meta, x, y, band: band ? { x, min: column(n), max: column(n) } : null };
  });
}
