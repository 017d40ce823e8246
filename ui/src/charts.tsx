// Metric charts on uPlot (Canvas 2D): many runs per chart, step / wall / relative x, log y,
// EMA smoothing, a min/max band where the server reduced the data, drag-zoom that asks the
// server for the points of the zoomed range, a hover readout and a crosshair synced across
// charts. Loaded lazily: pages without charts never download uPlot.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import type { Series } from "./api";
import { fmtNumber, num } from "./format";
import { type SeriesLoader, type XKind, ema, fetchSeries } from "./series";
import { effectiveTheme } from "./theme";

export const PALETTE = ["#2463eb", "#e8590c", "#2f9e44", "#c2255c", "#7048e8", "#0c8599", "#e67700", "#5c940d", "#d6336c", "#495057"];

export interface ChartSettings {
  x: XKind;
  log: boolean;
  smooth: number;
  band: boolean;
}

export interface Line {
  runId: string;
  label: string;
}

const X_LABEL: Record<XKind, string> = { step: "Step", wall: "Time", relative: "Relative time (s)" };

function xValues(s: Series, x: XKind): number[] {
  if (x === "wall") return s.x.map((v) => v / 1000);
  if (x === "relative") return s.x.map((v) => v / 1000);
  return s.x;
}

function yValues(s: Series, log: boolean): (number | null)[] {
  return s.y.map((v) => {
    const n = num(v);
    if (!Number.isFinite(n)) return null;
    return log && n <= 0 ? null : n;
  });
}

interface Built {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  bands: uPlot.Band[];
  sampled: boolean;
  points: number;
}

function build(all: Series[], lines: Line[], settings: ChartSettings, dark: boolean): Built {
  const tables: uPlot.AlignedData[] = [];
  const series: uPlot.Series[] = [{ label: X_LABEL[settings.x] }];
  const bands: uPlot.Band[] = [];
  let sampled = false;
  let points = 0;
  let index = 1;
  all.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const xs = xValues(s, settings.x);
    const ys = yValues(s, settings.log);
    const cols: (number | null)[][] = [];
    points += xs.length;
    sampled ||= s.sampled;
    const label = lines[i]?.label ?? s.run_id;
    if (settings.band && s.sampled && s.band) {
      const lo = s.band.min.map((v) => (settings.log && num(v) <= 0 ? null : num(v)));
      const hi = s.band.max.map((v) => (settings.log && num(v) <= 0 ? null : num(v)));
      cols.push(hi, lo);
      series.push(
        { label: label + " max", stroke: color + "55", width: 0, points: { show: false } },
        { label: label + " min", stroke: color + "55", width: 0, points: { show: false } },
      );
      bands.push({ series: [index, index + 1], fill: color + (dark ? "40" : "30") });
      index += 2;
    }
    if (settings.smooth > 0) {
      cols.push(ys);
      series.push({ label: label + " (raw)", stroke: color + "44", width: 1, points: { show: false } });
      index++;
      cols.push(ema(ys, settings.smooth));
      series.push({ label, stroke: color, width: 1.6, points: { show: false } });
      index++;
    } else {
      cols.push(ys);
      series.push({ label, stroke: color, width: 1.4, points: { show: xs.length < 2 } });
      index++;
    }
    tables.push([xs, ...cols] as uPlot.AlignedData);
  });
  const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
  return { data, series, bands, sampled, points };
}

/** Compact tick labels: 1.5M, 250k, 0.001, 1e-7. */
export function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e15 || (a > 0 && a < 1e-4)) return v.toExponential(0);
  if (a >= 1e9) return Number((v / 1e9).toPrecision(4)) + "G";
  if (a >= 1e6) return Number((v / 1e6).toPrecision(4)) + "M";
  if (a >= 1e4) return Number((v / 1e3).toPrecision(4)) + "k";
  return fmtNumber(v);
}

function axisColors(dark: boolean) {
  return { stroke: dark ? "#8c96a8" : "#667085", grid: dark ? "#2a303b" : "#e6e9ef" };
}

/** One chart: ``lines`` (runs) of metric ``metric``, data from ``loader`` (batched). */
export function MetricChart(props: {
  metric: string;
  lines: Line[];
  settings: ChartSettings;
  loader: SeriesLoader;
  height?: number;
  big?: boolean;
  refresh?: number;
  /** The chart's width if the caller measured it (saves a layout per chart in a grid). */
  width?: number;
}) {
  const { metric, lines, settings, loader } = props;
  const box = useRef<HTMLDivElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Series the loader has already are drawn in the first render.
  const [full, setFull] = useState<Series[] | null>(() => {
    const known = lines.map((l) => loader.peek(l.runId, metric));
    return known.every((s) => s !== undefined) ? (known as Series[]) : null;
  });
  const [zoom, setZoom] = useState<{ range: [number, number]; series: Series[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const dark = effectiveTheme.value === "dark";
  const shown = zoom?.series ?? full;

  useEffect(() => {
    let live = true;
    setZoom(null);
    if (full && !props.refresh && full.every((s, i) => s === loader.peek(lines[i].runId, metric))) return;
    Promise.all(lines.map((l) => loader.load(l.runId, metric, !!props.refresh))).then(
      (s) => live && (setFull(s), setError(null)),
      (e) => live && setError(String(e?.message ?? e)),
    );
    return () => {
      live = false;
    };
  }, [metric, lines.map((l) => l.runId).join(), loader, props.refresh]);

  // Before paint: the chart shows in the frame its data arrived in.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !shown) return;
    const built = build(shown, lines, settings, dark);
    const colors = axisColors(dark);
    const width = Math.max(200, plot.current || !props.width ? el.clientWidth : props.width);
    let drawn = false;
    const opts: uPlot.Options = {
      width,
      height: props.height ?? 220,
      series: built.series,
      bands: built.bands,
      legend: { show: false },
      scales: {
        x: { time: settings.x === "wall" },
        y: settings.log ? { distr: 3, log: 10 } : {},
      },
      axes: [
        { stroke: colors.stroke, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid } },
        {
          stroke: colors.stroke,
          grid: { stroke: colors.grid, width: 1 },
          ticks: { stroke: colors.grid },
          size: (_u, values) => (values ? Math.max(36, Math.max(...values.map((v) => v.length)) * 7 + 16) : 36),
          values: (_u, ticks) => ticks.map(fmtTick),
        },
      ],
      cursor: { sync: { key: "tl-charts" }, drag: { x: true, y: false, setScale: false } },
      hooks: {
        draw: [
          () => {
            if (!drawn) {
              drawn = true;
              performance.mark("tl:chart-drawn:" + metric);
            }
            const u = plot.current;
            if (u) {
              el.dataset.yMin = String(u.scales.y.min);
              el.dataset.yMax = String(u.scales.y.max);
            }
          },
        ],
        setSelect: [
          (u) => {
            if (u.select.width < 2) return;
            const lo = u.posToVal(u.select.left, "x");
            const hi = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            const scale = settings.x === "step" ? 1 : 1000;
            const range: [number, number] = [Math.ceil(lo * scale), Math.floor(hi * scale)];
            fetchSeries(
              lines.map((l) => ({ runId: l.runId, key: metric })),
              settings.x,
              width,
              range,
            ).then(
              (series) => setZoom({ range, series }),
              (e) => setError(String(e?.message ?? e)),
            );
          },
        ],
        setCursor: [
          (u) => {
            const t = tip.current;
            const idx = u.cursor.idx;
            if (!t) return;
            if (idx === null || idx === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
              t.style.display = "none";
              return;
            }
            const xv = u.data[0][idx];
            const parts: string[] = [];
            for (let i = 1; i < u.series.length; i++) {
              const label = u.series[i].label as string;
              const v = u.data[i][idx];
              if (v === null || v === undefined || / (min|max|\(raw\))$/.test(label)) continue;
              parts.push(`${lines.length > 1 ? label + ": " : ""}${String(v)}`);
            }
            const xs = settings.x === "wall" ? new Date(xv * 1000).toISOString().replace("T", " ").slice(0, 19) : String(xv);
            t.textContent = `${settings.x === "step" ? "step " : ""}${xs} → ${parts.join("  ")}`;
            t.style.display = "block";
            t.style.left = Math.min(u.cursor.left + 60, el.clientWidth - 160) + "px";
            t.style.top = Math.max(0, (u.cursor.top ?? 0) - 10) + "px";
          },
        ],
      },
    };
    const u = new uPlot(opts, built.data, el);
    plot.current = u;
    // Tests and benchmarks read the plot (scales, data) from its element.
    (el as HTMLElement & { uplot?: uPlot }).uplot = u;
    el.dataset.x = settings.x;
    if (zoom) u.setScale("x", { min: zoom.range[0] / (settings.x === "step" ? 1 : 1000), max: zoom.range[1] / (settings.x === "step" ? 1 : 1000) });
    el.dataset.sampled = String(built.sampled);
    el.dataset.points = String(built.points);
    el.dataset.band = String(built.bands.length > 0);
    el.dataset.zoomed = zoom ? "1" : "";
    const onDouble = () => setZoom(null);
    el.addEventListener("dblclick", onDouble);
    const resize = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: props.height ?? 220 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      el.removeEventListener("dblclick", onDouble);
      u.destroy();
      plot.current = null;
    };
  }, [shown, settings.x, settings.log, settings.smooth, settings.band, dark]);

  return (
    <div class="chart-body">
      {error && <div class="error">{error}</div>}
      {!shown && !error && <div class="muted chart-wait">Loading…</div>}
      <div class="chart-canvas" ref={box} data-testid="chart-canvas" style={{ position: "relative" }}>
        <div class="chart-tip" ref={tip} data-testid="chart-tip" style={{ display: "none" }} />
      </div>
      {shown && lines.length > 1 && (
        <div class="chart-legend">
          {lines.map(
            (l, i) =>
              shown[i]?.n_total > 0 && (
                <span>
                  <span class="sw" style={{ background: PALETTE[i % PALETTE.length] }} />
                  {l.label}
                </span>
              ),
          )}
        </div>
      )}
      {shown && (
        <div class="chart-meta muted">
          {shown.map((s) => s.n_total).reduce((a, b) => a + b, 0).toLocaleString("en-US")} points
          {shown.some((s) => s.sampled) ? " · reduced (min/max kept)" : ""}
          {zoom ? " · zoomed (double-click to reset)" : ""}
        </div>
      )}
    </div>
  );
}

/** Mounts its children only while the card is near the viewport (told its content width). */
export function LazyCard(props: {
  children: (width: number) => preact.ComponentChildren;
  testid: string;
  chartKey: string;
  big?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const title = useRef<HTMLHeadingElement>(null);
  const [width, setWidth] = useState(0); // 0: not near the viewport
  useLayoutEffect(() => {
    const el = ref.current!;
    // Every card of a grid measures here, before any chart is drawn: one layout for all.
    const near = (yes: boolean) => setWidth(yes ? Math.max(200, title.current!.clientWidth) : 0);
    const box = el.getBoundingClientRect();
    if (box.bottom > -NEAR && box.top < innerHeight + NEAR) near(true);
    const io = new IntersectionObserver((entries) => near(entries[entries.length - 1].isIntersecting), {
      rootMargin: NEAR + "px",
    });
    io.observe(el);
    return () => io.disconnect();
  }, []);
  return (
    <section class={"chart-card" + (props.big ? " big" : "")} ref={ref} data-testid={props.testid} data-key={props.chartKey}>
      <h3 ref={title}>{props.chartKey}</h3>
      {width > 0 ? props.children(width) : null}
    </section>
  );
}

/** How far outside the viewport a chart card is mounted (px). */
const NEAR = 600;
