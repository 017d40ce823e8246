import{b as a,c as b,d as c,e as d}from"./chunk-DTQ3WJQI.js";import"./chunk-32LVYLEX.js";export{d as LazyCard,c as MetricChart,a as PALETTE,b as fmtTick};
