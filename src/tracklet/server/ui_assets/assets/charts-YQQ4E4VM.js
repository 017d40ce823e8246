import{b as a,c as b,d as c,e as d}from"./chunk-6WO6EVYA.js";import"./chunk-WEJDSFII.js";export{d as LazyCard,c as MetricChart,a as PALETTE,b as fmtTick};
