import{b as a,c as b,d as c,e as d}from"./chunk-CMHNV775.js";import"./chunk-6G6GUTOD.js";export{d as LazyCard,c as MetricChart,a as PALETTE,b as fmtTick};
