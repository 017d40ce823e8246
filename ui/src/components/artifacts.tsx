// The run's artifacts: a lazily expanded tree and a preview of the selected file. Previews read
// at most 1 MiB (a Range request); images show as images, CSV as a table of its first 100 rows,
// JSON pretty-printed, MLmodel with its flavors, HTML in a sandboxed frame without scripts, and
// anything else as its size and a download link.
import { useEffect, useState } from "preact/hooks";
import { type FileInfo, artifactUrl, get } from "../api";
import { fmtBytes } from "../format";
import { ErrorBox } from "./common";

const PREVIEW_BYTES = 1024 * 1024;
const IMAGE = /\.(png|jpe?g|gif|bmp|webp|svg)$/i;
const TEXT = /(\.(txt|log|md|py|yaml|yml|json|csv|tsv|ini|cfg|toml|sh|js|ts|xml|html?|r|sql)|MLmodel|requirements\.txt|conda\.yaml|python_env\.yaml)$/i;

async function list(runId: string, path: string): Promise<FileInfo[]> {
  const r = await get<{ files?: FileInfo[] }>("artifacts/list", { run_id: runId, path: path || undefined });
  return (r.files ?? []).sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path));
}

function Node(props: { runId: string; file: FileInfo; depth: number; selected: string; onSelect: (f: FileInfo) => void }) {
  const { file } = props;
  const [open, setOpen] = useState(false);
  const [children, setChildren] = useState<FileInfo[] | null>(null);
  const name = file.path.split("/").pop();
  const click = () => {
    if (file.is_dir) {
      if (!children) list(props.runId, file.path).then(setChildren);
      setOpen(!open);
    } else props.onSelect(file);
  };
  return (
    <>
      <div
        class={"node" + (props.selected === file.path ? " sel" : "")}
        style={{ paddingLeft: 12 + props.depth * 16 + "px" }}
        onClick={click}
        data-testid="artifact-node"
        data-path={file.path}
        role="treeitem"
        aria-expanded={file.is_dir ? open : undefined}
      >
        <span class="icon">{file.is_dir ? (open ? "▾" : "▸") : "◦"}</span>
        {name}
        {file.is_dir ? "/" : ""}
        {!file.is_dir && file.file_size !== undefined && <span class="size">{fmtBytes(file.file_size)}</span>}
      </div>
      {open && children?.map((c) => <Node {...props} file={c} depth={props.depth + 1} />)}
    </>
  );
}

export function ArtifactsView({ runId, initial }: { runId: string; initial?: string }) {
  const [root, setRoot] = useState<FileInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<FileInfo | null>(initial ? { path: initial, is_dir: false } : null);
  useEffect(() => {
    list(runId, "").then(setRoot, setError);
  }, [runId]);
  return (
    <div class="artifacts" data-testid="artifacts">
      <div class="tree" role="tree">
        <ErrorBox error={error} />
        {root?.length === 0 && <p class="muted" style={{ padding: "0 12px" }}>No artifacts.</p>}
        {root?.map((f) => <Node runId={runId} file={f} depth={0} selected={selected?.path ?? ""} onSelect={setSelected} />)}
      </div>
      <div class="preview" data-testid="artifact-preview">
        {selected ? <Preview runId={runId} file={selected} /> : <p class="muted">Select a file to preview it.</p>}
      </div>
    </div>
  );
}

/** RFC 4180 CSV rows (quoted fields, doubled quotes, newlines inside quotes), up to ``limit``. */
export function parseCsv(text: string, limit: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < limit; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if ((field || row.length) && rows.length < limit) rows.push([...row, field]);
  return rows;
}

function flavors(mlmodel: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const line of mlmodel.split("\n")) {
    if (/^flavors:\s*$/.test(line)) inside = true;
    else if (inside && /^\S/.test(line)) inside = false;
    else if (inside) {
      const m = /^  ([\w.-]+):/.exec(line);
      if (m) out.push(m[1]);
    }
  }
  return out;
}

function Preview({ runId, file }: { runId: string; file: FileInfo }) {
  const url = artifactUrl(runId, file.path);
  const name = file.path.split("/").pop() ?? file.path;
  const [text, setText] = useState<{ body: string; truncated: boolean } | null>(null);
  const [frame, setFrame] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const isText = TEXT.test(name);
  const isImage = IMAGE.test(name);
  const isHtml = /\.html?$/i.test(name);
  useEffect(() => {
    setText(null);
    setError(null);
    setFrame(null);
    if (!isText) return;
    let live = true;
    let blobUrl = "";
    fetch(url, { headers: { Range: `bytes=0-${PREVIEW_BYTES - 1}` } })
      .then(async (r) => {
        if (!r.ok && r.status !== 206) throw new Error(`${r.status} ${r.statusText}`);
        const body = await r.text();
        const total = Number(r.headers.get("content-range")?.split("/")[1] ?? body.length);
        if (!live) return;
        setText({ body, truncated: r.status === 206 && total > PREVIEW_BYTES });
        if (isHtml) {
          blobUrl = URL.createObjectURL(new Blob([body], { type: "text/html" }));
          setFrame(blobUrl);
        }
      })
      .catch((e) => live && setError(e));
    return () => {
      live = false;
      if (blobUrl) URL.revokeObjectURL(blobUrl);
    };
  }, [runId, file.path]);

  const head = (
    <div class="toolbar">
      <strong class="mono">{file.path}</strong>
      {file.file_size !== undefined && <span class="muted">{fmtBytes(file.file_size)}</span>}
      <span class="spacer" />
      <a class="button" href={url} download={name} data-testid="download">
        Download
      </a>
    </div>
  );
  if (isImage) {
    return (
      <>
        {head}
        <img src={url} alt={file.path} data-testid="image-preview" />
      </>
    );
  }
  if (!isText) {
    return (
      <>
        {head}
        <p class="muted" data-testid="no-preview">
          No preview for this file type. {file.file_size !== undefined ? `Size: ${fmtBytes(file.file_size)}.` : ""}
        </p>
      </>
    );
  }
  if (error) return (<>{head}<ErrorBox error={error} /></>);
  if (!text) return (<>{head}<p class="muted">Loading…</p></>);
  const note = text.truncated && <p class="muted">Showing the first {fmtBytes(PREVIEW_BYTES)}.</p>;
  if (isHtml && frame) {
    return (
      <>
        {head}
        <iframe sandbox="" src={frame} title={file.path} data-testid="html-preview" />
      </>
    );
  }
  if (/\.(csv|tsv)$/i.test(name)) {
    const rows = parseCsv(/\.tsv$/i.test(name) ? text.body.replace(/\t/g, ",") : text.body, 101);
    const [header, ...body] = rows;
    return (
      <>
        {head}
        <p class="muted">First {body.length} rows</p>
        <table class="list" data-testid="csv-preview">
          <thead>
            <tr>{header?.map((h) => <th>{h}</th>)}</tr>
          </thead>
          <tbody>
            {body.map((r) => (
              <tr>{r.map((c) => <td>{c}</td>)}</tr>
            ))}
          </tbody>
        </table>
      </>
    );
  }
  let shown = text.body;
  if (/\.json$/i.test(name) && !text.truncated) {
    try {
      shown = JSON.stringify(JSON.parse(text.body), null, 2);
    } catch {
      /* not valid JSON: shown as it is */
    }
  }
  const modelFlavors = name === "MLmodel" ? flavors(text.body) : [];
  return (
    <>
      {head}
      {modelFlavors.length > 0 && (
        <p data-testid="flavors">
          Flavors:{" "}
          {modelFlavors.map((f) => (
            <span class="badge">{f}</span>
          ))}
        </p>
      )}
      {note}
      <pre data-testid="text-preview">{shown}</pre>
    </>
  );
}
