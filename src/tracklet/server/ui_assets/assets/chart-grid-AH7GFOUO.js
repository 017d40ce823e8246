import{a,b,c}from"./chunk-2TPEBXPR.js";import"./chunk-D63ICNAA.js";import"./chunk-B3QJAVXE.js";import"./chunk-U65MCA4U.js";export{b as ChartControls,c as ChartGrid,a as settingsFromUrl};
