// Code-split components: the module loads on first use (uPlot only comes with the charts).
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Spinner } from "./components/common";

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  return (props: P) => {
    const [C, setC] = useState<ComponentType<P> | null>(() => loaded);
    useEffect(() => {
      if (!C) load().then((c) => ((loaded = c), setC(() => c)));
    }, []);
    return C ? <C {...props} /> : <Spinner />;
  };
}

export const LazyChartGrid = lazy(() => import("./chart-grid").then((m) => m.ChartGrid));
export const LazyMetricChart = lazy(() => import("./charts").then((m) => m.MetricChart));
export const LazyChartControls = lazy(() => import("./chart-grid").then((m) => m.ChartControls));
