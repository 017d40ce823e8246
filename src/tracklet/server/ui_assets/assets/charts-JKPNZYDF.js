import{b as a,c as b,d as c,e as d}from"./chunk-ZHDDVJI5.js";import"./chunk-U65MCA4U.js";export{d as LazyCard,c as MetricChart,a as PALETTE,b as fmtTick};
