import{a,b,c}from"./chunk-2AMTVB34.js";import"./chunk-RAEH3NVA.js";import"./chunk-DTQ3WJQI.js";import"./chunk-32LVYLEX.js";export{b as ChartControls,c as ChartGrid,a as settingsFromUrl};
