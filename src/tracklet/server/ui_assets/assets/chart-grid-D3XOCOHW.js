import{a,b,c}from"./chunk-YGMWLNSG.js";import"./chunk-2DRXK4MA.js";import"./chunk-6WO6EVYA.js";import"./chunk-WEJDSFII.js";export{b as ChartControls,c as ChartGrid,a as settingsFromUrl};
