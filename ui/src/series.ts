// Fetching chart data: requests made in the same tick go out as one batched series request
// (up to 100 series each), so a grid of 50 charts costs one round trip.
import { type Series, booted, trackletBinary } from "./api";
import { decodeSeries } from "./series-codec";
import { SERIES_WIDTH, runSeriesBody } from "./boot-requests";

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
  private done = new Map<string, Series>();
  /** Per run and kind of key: the series index.html's bootstrap asked for, by key. */
  private boot = new Map<string, Promise<Map<string, Series>> | null>();
  requests = 0;

  constructor(
    readonly x: XKind,
    readonly width = SERIES_WIDTH,
  ) {}

  /** The series (cached; ``fresh`` asks the server again, e.g. after a live update). */
  load(runId: string, key: string, fresh = false): Promise<Series> {
    const id = runId + "\u0000" + key;
    const known = this.cache.get(id);
    if (known && !fresh) return known;
    const booted = fresh ? null : this.fromBoot(runId, key);
    const promise = booted
      ? booted.then((found) => found.get(key) ?? this.ask(runId, key), () => this.ask(runId, key))
      : this.ask(runId, key);
    this.cache.set(id, promise);
    promise.then(
      (s) => this.cache.get(id) === promise && this.done.set(id, s),
      () => this.cache.delete(id),
    );
    return promise;
  }

  /** The series if it has arrived (the latest asked for), else undefined. */
  peek(runId: string, key: string): Series | undefined {
    return this.done.get(runId + "\u0000" + key);
  }

  /** The run's series the bootstrap started to fetch for this kind of key (a run page's chart
   * grid at its default settings), if it did. */
  private fromBoot(runId: string, key: string): Promise<Map<string, Series>> | null {
    if (this.x !== "step" || this.width !== SERIES_WIDTH) return null;
    const kind = key.startsWith("system/") ? "system" : "model";
    const id = runId + "\u0000" + kind;
    let found = this.boot.get(id);
    if (found === undefined) {
      const body = runSeriesBody(runId, kind);
      found = booted("metrics/series", body)
        ? trackletBinary("metrics/series", body, decodeSeries).then((all) => new Map(all.map((s) => [s.key, s])))
        : null;
      this.boot.set(id, found);
    }
    return found;
  }

  private ask(runId: string, key: string): Promise<Series> {
    return new Promise<Series>((resolve, reject) => {
      this.queue.push({ runId, key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setTimeout(() => this.flush(), 0);
      }
    });
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
    format: "binary",
  };
  if (range) {
    body.x_min = range[0];
    body.x_max = range[1];
  }
  return trackletBinary("metrics/series", body, decodeSeries);
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
