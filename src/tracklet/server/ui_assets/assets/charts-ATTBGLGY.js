import{b as a,c as b,d as c,e as d}from"./chunk-3HXUZFGU.js";import"./chunk-GEJQ6DFU.js";export{d as LazyCard,c as MetricChart,a as PALETTE,b as fmtTick};
