// Parallel coordinates and scatter plots on Canvas 2D, drawn by hand: one path per colour for
// all polylines (1,000 runs x 10 axes draw in a few ms), brushing by dragging along an axis.
import { useEffect, useRef, useState } from "preact/hooks";
import { fmtNumber } from "../format";
import { effectiveTheme } from "../theme";

export interface Axis {
  name: string;
  values: (number | string | null)[];
}

interface Scale {
  categorical: string[] | null;
  min: number;
  max: number;
}

const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);

/** A metric's NaN or ±Inf (MLflow's JSON strings, or numbers) has no place on an axis: missing. */
function placeable(v: number | string | null): number | string | null {
  if (v === null || (typeof v === "number" ? !Number.isFinite(v) : NON_FINITE.has(v))) return null;
  return v;
}

function scaleOf(raw: Axis): Scale {
  const axis = { ...raw, values: raw.values.map(placeable) };
  const numeric = axis.values.every((v) => v === null || (typeof v === "number" ? true : v.trim() !== "" && !isNaN(Number(v))));
  if (numeric) {
    const nums = axis.values.filter((v) => v !== null).map(Number);
    const min = nums.length ? Math.min(...nums) : 0;
    const max = nums.length ? Math.max(...nums) : 1;
    return { categorical: null, min, max: max === min ? min + 1 : max };
  }
  const cats = [...new Set(axis.values.filter((v) => v !== null).map(String))].sort();
  return { categorical: cats, min: 0, max: Math.max(1, cats.length - 1) };
}

/** Position 0..1 of a value on its axis (null for a missing value). */
function position(scale: Scale, raw: number | string | null): number | null {
  const v = placeable(raw);
  if (v === null) return null;
  const n = scale.categorical ? scale.categorical.indexOf(String(v)) : Number(v);
  return (n - scale.min) / (scale.max - scale.min);
}

function colors() {
  const dark = effectiveTheme.value === "dark";
  return { text: dark ? "#c8cfdb" : "#394150", axis: dark ? "#3a4250" : "#c9ced8", line: dark ? "#6b9cff" : "#2463eb", dim: dark ? "#ffffff14" : "#00000012" };
}

export function ParallelCoordinates(props: { axes: Axis[]; labels: string[]; height?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [brushes, setBrushes] = useState<Record<number, [number, number]>>({});
  const [width, setWidth] = useState(900);
  const height = props.height ?? 360;
  const n = props.labels.length;
  const scales = props.axes.map(scaleOf);
  const pad = { top: 34, bottom: 26, left: 60, right: 60 };
  const innerH = height - pad.top - pad.bottom;
  const xOf = (i: number) => pad.left + (props.axes.length === 1 ? 0 : (i * (width - pad.left - pad.right)) / (props.axes.length - 1));
  const matches = (run: number) =>
    Object.entries(brushes).every(([a, [lo, hi]]) => {
      const p = position(scales[Number(a)], props.axes[Number(a)].values[run]);
      return p !== null && p >= lo && p <= hi;
    });
  const selected = Array.from({ length: n }, (_, i) => i).filter(matches);

  useEffect(() => {
    const el = canvas.current!;
    const observer = new ResizeObserver(() => setWidth(el.parentElement!.clientWidth - 2));
    observer.observe(el.parentElement!);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const el = canvas.current!;
    const ratio = window.devicePixelRatio || 1;
    el.width = width * ratio;
    el.height = height * ratio;
    el.style.width = width + "px";
    el.style.height = height + "px";
    const ctx = el.getContext("2d")!;
    ctx.scale(ratio, ratio);
    const c = colors();
    ctx.clearRect(0, 0, width, height);
    const yOf = (p: number) => pad.top + (1 - p) * innerH;
    const draw = (runs: number[], style: string, lineWidth: number) => {
      ctx.beginPath();
      for (const r of runs) {
        let pen = false;
        props.axes.forEach((axis, a) => {
          const p = position(scales[a], axis.values[r]);
          if (p === null) {
            pen = false;
            return;
          }
          if (pen) ctx.lineTo(xOf(a), yOf(p));
          else ctx.moveTo(xOf(a), yOf(p));
          pen = true;
        });
      }
      ctx.strokeStyle = style;
      ctx.lineWidth = lineWidth;
      ctx.stroke();
    };
    const chosen = new Set(selected);
    draw(Array.from({ length: n }, (_, i) => i).filter((i) => !chosen.has(i)), c.dim, 1);
    draw(selected, c.line + (n > 200 ? "55" : "cc"), n > 200 ? 1 : 1.6);
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    props.axes.forEach((axis, a) => {
      const x = xOf(a);
      ctx.strokeStyle = c.axis;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x, pad.top);
      ctx.lineTo(x, pad.top + innerH);
      ctx.stroke();
      ctx.fillStyle = c.text;
      ctx.fillText(axis.name, x, 16);
      const s = scales[a];
      const top = s.categorical ? s.categorical[s.categorical.length - 1] : fmtNumber(s.max);
      const bottom = s.categorical ? s.categorical[0] : fmtNumber(s.min);
      ctx.fillText(String(top ?? ""), x, pad.top - 4);
      ctx.fillText(String(bottom ?? ""), x, height - 8);
      const b = brushes[a];
      if (b) {
        ctx.fillStyle = c.line + "33";
        ctx.fillRect(x - 8, yOf(b[1]), 16, yOf(b[0]) - yOf(b[1]));
      }
    });
    // Benchmarks and tests read how many polylines the canvas holds now.
    el.dataset.drawn = String(n);
  }, [props.axes, width, brushes, effectiveTheme.value]);

  // Brushing: press on an axis and drag; a click without a drag clears that axis's brush.
  const drag = useRef<{ axis: number; from: number } | null>(null);
  const toP = (y: number) => Math.min(1, Math.max(0, 1 - (y - pad.top) / innerH));
  return (
    <canvas
      ref={canvas}
      data-testid="parcoords"
      data-lines={selected.length}
      data-axes={props.axes.map((a) => a.name).join("|")}
      onMouseDown={(e) => {
        const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
        const x = e.clientX - rect.left;
        const axis = props.axes.findIndex((_, a) => Math.abs(xOf(a) - x) < 14);
        if (axis >= 0) drag.current = { axis, from: toP(e.clientY - rect.top) };
      }}
      onMouseUp={(e) => {
        const d = drag.current;
        drag.current = null;
        if (!d) return;
        const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
        const to = toP(e.clientY - rect.top);
        const next = { ...brushes };
        if (Math.abs(to - d.from) < 0.01) delete next[d.axis];
        else next[d.axis] = [Math.min(d.from, to), Math.max(d.from, to)];
        setBrushes(next);
      }}
    />
  );
}

export function Scatter(props: { x: Axis; y: Axis; labels: string[]; height?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(600);
  const height = props.height ?? 340;
  const points = props.labels.map((_, i) => i).filter((i) => props.x.values[i] !== null && props.y.values[i] !== null);
  useEffect(() => {
    const el = canvas.current!;
    const observer = new ResizeObserver(() => setWidth(el.parentElement!.clientWidth - 2));
    observer.observe(el.parentElement!);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const el = canvas.current!;
    const ratio = window.devicePixelRatio || 1;
    el.width = width * ratio;
    el.height = height * ratio;
    el.style.width = width + "px";
    el.style.height = height + "px";
    const ctx = el.getContext("2d")!;
    ctx.scale(ratio, ratio);
    const c = colors();
    const pad = { top: 16, bottom: 36, left: 64, right: 16 };
    const sx = scaleOf(props.x);
    const sy = scaleOf(props.y);
    const X = (p: number) => pad.left + p * (width - pad.left - pad.right);
    const Y = (p: number) => pad.top + (1 - p) * (height - pad.top - pad.bottom);
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = c.axis;
    ctx.strokeRect(pad.left, pad.top, width - pad.left - pad.right, height - pad.top - pad.bottom);
    ctx.fillStyle = c.text;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(props.x.name, width / 2, height - 6);
    ctx.fillText(sx.categorical ? sx.categorical[0] : fmtNumber(sx.min), pad.left, height - 20);
    ctx.fillText(sx.categorical ? sx.categorical[sx.categorical.length - 1] : fmtNumber(sx.max), width - pad.right, height - 20);
    ctx.save();
    ctx.translate(14, height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(props.y.name, 0, 0);
    ctx.restore();
    ctx.textAlign = "right";
    ctx.fillText(sy.categorical ? sy.categorical[sy.categorical.length - 1] : fmtNumber(sy.max), pad.left - 6, pad.top + 10);
    ctx.fillText(sy.categorical ? sy.categorical[0] : fmtNumber(sy.min), pad.left - 6, height - pad.bottom);
    ctx.fillStyle = c.line;
    for (const i of points) {
      const px = position(sx, props.x.values[i])!;
      const py = position(sy, props.y.values[i])!;
      ctx.beginPath();
      ctx.arc(X(px), Y(py), 4, 0, Math.PI * 2);
      ctx.fill();
    }
  }, [props.x, props.y, width, effectiveTheme.value]);
  return <canvas ref={canvas} data-testid="scatter" data-points={points.length} />;
}
