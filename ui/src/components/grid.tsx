// A windowed grid: fixed row height, only the rows in view (plus overscan) are in the DOM, so
// 10,000 runs scroll as smoothly as 10. The header is sticky; pinned cells use position: sticky.
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

export const ROW_HEIGHT = 32;
const OVERSCAN = 8;

export function WindowedGrid(props: {
  count: number;
  header: ComponentChildren;
  row: (index: number, top: number) => ComponentChildren;
  focus?: number;
  testid?: string;
  /** Told the rows in view (plus overscan) after each render that changes them. */
  onRange?: (first: number, last: number) => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useLayoutEffect(() => {
    const el = scroller.current!;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    setHeight(el.clientHeight);
    return () => observer.disconnect();
  }, []);

  // Keep the focused row in view (j/k navigation).
  useEffect(() => {
    const el = scroller.current;
    if (!el || props.focus === undefined || props.focus < 0) return;
    const top = props.focus * ROW_HEIGHT;
    const headerHeight = 34;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight - headerHeight)
      el.scrollTop = top + ROW_HEIGHT - el.clientHeight + headerHeight;
  }, [props.focus]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(props.count, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const rows: ComponentChildren[] = [];
  for (let i = first; i < last; i++) rows.push(props.row(i, i * ROW_HEIGHT));
  const onRange = props.onRange;
  useEffect(() => onRange?.(first, last), [first, last, props.count]);
  return (
    <div
      class="grid-scroll"
      ref={scroller}
      role="grid"
      aria-rowcount={props.count}
      data-testid={props.testid}
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      {props.header}
      <div class="grid-body" style={{ height: props.count * ROW_HEIGHT + "px" }}>
        {rows}
      </div>
    </div>
  );
}
