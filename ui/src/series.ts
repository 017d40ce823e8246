// Fetching chart data: requests made in the same tick go out as one batched series request
// (up to 100 series each), so a grid of 50 charts costs one round trip.
import { type Series, tracklet } from "./api";

export type XKind = "step" | "wall" | "relative";
export const MAX_BATCH = 100;

export interface SeriesRequest {
  runId: string;
  key: string;
}

interface Pending extends SeriesRequest {
  resolve: (s: Series) => void;
  reject: (e: unknown) => void;
}

export class SeriesLoader {
  private queue: Pending[] = [];
  private scheduled = false;
  private cache = new Map<string, Promise<Series>>();
  requests = 0;

  constructor(
    readonly x: XKind,
    readonly width = 1000,
  ) {}

  /** The series (cached; ``fresh`` asks the server again, e.g. after a live update). */
  load(runId: string, key: string, fresh = false): Promise<Series> {
    const id = runId + "\u0000" + key;
    const known = this.cache.get(id);
    if (known && !fresh) return known;
    const promise = new Promise<Series>((resolve, reject) => {
      this.queue.push({ runId, key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setTimeout(() => this.flush(), 0);
      }
    });
    this.cache.set(id, promise);
    promise.catch(() => this.cache.delete(id));
    return promise;
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) {
      const batch = all.slice(i, i + MAX_BATCH);
      this.requests++;
      fetchSeries(batch, this.x, this.width).then(
        (series) => batch.forEach((p, j) => p.resolve(series[j])),
        (e) => batch.forEach((p) => p.reject(e)),
      );
    }
  }
}

export async function fetchSeries(
  wanted: SeriesRequest[],
  x: XKind,
  width: number,
  range?: [number, number],
): Promise<Series[]> {
  const body: Record<string, unknown> = {
    series: wanted.map((w) => ({ run_id: w.runId, key: w.key })),
    x,
    width: Math.max(1, Math.min(4096, Math.round(width))),
    band: true,
  };
  if (range) {
    body.x_min = range[0];
    body.x_max = range[1];
  }
  const r = await tracklet<{ series: Series[] }>("metrics/series", body);
  return r.series;
}

/** TensorBoard's debiased exponential moving average (weight in [0, 1)). */
export function ema(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    count++;
    return last / (1 - Math.pow(weight, count));
  });
}
