// Builds the UI into src/tracklet/server/ui_assets/: hashed ES modules and CSS with .gz and .br
// siblings, index.html naming them, and SOURCE-HASH (the sha256 of this UI's sources, which a
// Python test recomputes so that a stale committed build fails CI without Node).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "tracklet", "server", "ui_assets");
const assets = join(out, "assets");

// Files whose content defines the build (kept in step with tests/ui/test_build.py).
function sourceFiles() {
  const files = ["build.mjs", "package.json", "package-lock.json", "tsconfig.json"];
  const walk = (dir) => {
    for (const name of readdirSync(join(here, dir))) {
      const path = join(dir, name);
      if (statSync(join(here, path)).isDirectory()) walk(path);
      else files.push(path.split(sep).join("/"));
    }
  };
  walk("src");
  return files.sort();
}

function sourceHash() {
  const lines = sourceFiles().map((path) => {
    const digest = createHash("sha256").update(readFileSync(join(here, path))).digest("hex");
    return `${digest}  ${path}\n`;
  });
  return createHash("sha256").update(lines.join("")).digest("hex");
}

rmSync(assets, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/main.tsx"],
  bundle: true,
  splitting: true,
  format: "esm",
  minify: true,
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: assets,
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => relative(assets, join(here, p)));
const entry = outputs.find((p) => p.startsWith("main-") && p.endsWith(".js"));
const css = outputs.filter((p) => p.endsWith(".css"));
const mainMeta = result.metafile.outputs[relative(here, join(assets, entry)).split(sep).join("/")];
const preload = (mainMeta?.imports ?? [])
  .filter((i) => i.kind === "import-statement")
  .map((i) => relative(assets, join(here, i.path)));

for (const name of outputs) {
  const data = readFileSync(join(assets, name));
  writeFileSync(join(assets, name + ".gz"), gzipSync(data, { level: 9, mtime: 0 }));
  writeFileSync(
    join(assets, name + ".br"),
    brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
}

// The chart code's modules (the chart grid's chunk and what it imports that the first route
// does not), which the bootstrap preloads on a run's metrics tab.
const metaOf = (file) => result.metafile.outputs[relative(here, join(assets, file)).split(sep).join("/")];
const chartEntry = outputs.find((p) => metaOf(p)?.entryPoint === "src/chart-grid.tsx");
const chartModules = [];
const addModule = (file) => {
  if (chartModules.includes(file) || file === entry || preload.includes(file)) return;
  chartModules.push(file);
  for (const i of metaOf(file).imports)
    if (i.kind === "import-statement") addModule(relative(assets, join(here, i.path)));
};
addModule(chartEntry);

// The bootstrap (src/boot.ts), inline: it starts the opened page's first requests while the
// modules load (server/ui/static.py allows it by its hash).
const boot = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/boot.ts"],
  bundle: true,
  write: false,
  format: "iife",
  minify: true,
  target: "es2020",
  define: { CHART_MODULES: JSON.stringify(chartModules.map((p) => `static-files/assets/${p}`)) },
  logLevel: "warning",
});
const BOOT = boot.outputFiles[0].text.trim();

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tracklet</title>
<link rel="icon" href="data:,">
<script>${BOOT}</script>
${css.map((c) => `<link rel="stylesheet" href="static-files/assets/${c}">`).join("\n")}
${preload.map((p) => `<link rel="modulepreload" href="static-files/assets/${p}">`).join("\n")}
<script type="module" src="static-files/assets/${entry}"></script>
</head>
<body>
<div id="app"></div>
<noscript>tracklet's UI needs JavaScript.</noscript>
</body>
</html>
`;
writeFileSync(join(out, "index.html"), html);
writeFileSync(join(out, "SOURCE-HASH"), sourceHash() + "\n");
const total = outputs
  .filter((p) => p.endsWith(".js"))
  .reduce((n, p) => n + statSync(join(assets, p)).size, 0);
console.log(`built ${outputs.length} files into ${relative(process.cwd(), out)}; JS ${total} B`);
