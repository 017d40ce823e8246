import{a,b,c}from"./chunk-MGNMQE65.js";import"./chunk-D63ICNAA.js";import"./chunk-ZHDDVJI5.js";import"./chunk-U65MCA4U.js";export{b as ChartControls,c as ChartGrid,a as settingsFromUrl};
