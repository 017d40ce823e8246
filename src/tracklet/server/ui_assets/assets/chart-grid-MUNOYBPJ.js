import{a,b,c}from"./chunk-AAFTDVQG.js";import"./chunk-SI2NFFMJ.js";import"./chunk-3HXUZFGU.js";import"./chunk-GEJQ6DFU.js";export{b as ChartControls,c as ChartGrid,a as settingsFromUrl};
