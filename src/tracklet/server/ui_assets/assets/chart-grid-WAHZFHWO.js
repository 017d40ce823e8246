import{a,b,c}from"./chunk-GG4AQZPA.js";import"./chunk-BBF5FCKC.js";import"./chunk-CMHNV775.js";import"./chunk-6G6GUTOD.js";export{b as ChartControls,c as ChartGrid,a as settingsFromUrl};
