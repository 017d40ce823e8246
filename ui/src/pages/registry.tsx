// The model registry: registered models (search by name), a model's page (description, tags,
// aliases, versions with their stages) and a version's page (stage, status, aliases, tags,
// links to its source run and logged model). MLflow's routes: #/models, #/models/<name>,
// #/models/<name>/versions/<version>.
import { useEffect, useState } from "preact/hooks";
import { type Tag, get } from "../api";
import { ErrorBox, KeyValueTable, Spinner, StatusBadge } from "../components/common";
import { fmtTime } from "../format";
import { route, setQuery } from "../router";

interface Alias {
  alias: string;
  version: string;
}
export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: string;
  tags?: Tag[];
  aliases?: string[];
  model_id?: string;
}
export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: Tag[];
  aliases?: Alias[];
}

const modelHref = (name: string) => `#/models/${encodeURIComponent(name)}`;
const versionHref = (name: string, v: string) => `${modelHref(name)}/versions/${encodeURIComponent(v)}`;

function Aliases({ aliases }: { aliases: string[] }) {
  return (
    <>
      {aliases.map((a) => (
        <span class="badge" data-testid="alias">
          @{a}
        </span>
      ))}
    </>
  );
}

export function RegistryPage() {
  const [, name, section, version] = route.value.path;
  if (name && section === "versions" && version) return <VersionPage name={name} version={version} />;
  if (name) return <RegisteredModelPage name={name} />;
  return <RegisteredModelsList />;
}

function RegisteredModelsList() {
  const search = route.value.query.get("search") ?? "";
  const [text, setText] = useState(search);
  const [models, setModels] = useState<RegisteredModel[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const filter = search ? `name ILIKE '%${search.replace(/'/g, "''")}%'` : undefined;
    get<{ registered_models?: RegisteredModel[] }>("registered-models/search", {
      filter,
      max_results: 1000,
      order_by: "name ASC",
    }).then((r) => (setModels(r.registered_models ?? []), setError(null)), setError);
  }, [search]);
  return (
    <main class="page" data-testid="registry-page">
      <div class="page-head">
        <h1>Registered models</h1>
      </div>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ search: text || undefined });
        }}
      >
        <input class="filter" placeholder="Search by name" value={text} data-testid="registry-search" onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={error} />
      {!models ? (
        <Spinner />
      ) : !models.length ? (
        <p class="muted">No registered models{search ? " match" : ""}.</p>
      ) : (
        <table class="list" data-testid="registered-models">
          <thead>
            <tr>
              <th>Name</th>
              <th>Latest versions</th>
              <th>Aliases</th>
              <th>Tags</th>
              <th>Last modified</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr data-testid="registered-model" data-name={m.name}>
                <td>
                  <a href={modelHref(m.name)}>{m.name}</a>
                </td>
                <td>
                  {(m.latest_versions ?? []).map((v) => (
                    <a class="badge" href={versionHref(m.name, v.version)}>
                      v{v.version}
                      {v.current_stage && v.current_stage !== "None" ? ` · ${v.current_stage}` : ""}
                    </a>
                  ))}
                </td>
                <td>
                  <Aliases aliases={(m.aliases ?? []).map((a) => `${a.alias} → v${a.version}`)} />
                </td>
                <td class="muted">{(m.tags ?? []).map((t) => `${t.key}=${t.value}`).join(", ")}</td>
                <td>{fmtTime(m.last_updated_timestamp)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function RegisteredModelPage({ name }: { name: string }) {
  const [model, setModel] = useState<RegisteredModel | null>(null);
  const [versions, setVersions] = useState<ModelVersion[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<{ registered_model: RegisteredModel }>("registered-models/get", { name }).then((r) => setModel(r.registered_model), setError);
    get<{ model_versions?: ModelVersion[] }>("model-versions/search", {
      filter: `name = '${name.replace(/'/g, "''")}'`,
      max_results: 1000,
      order_by: "version_number DESC",
    }).then((r) => setVersions(r.model_versions ?? []), setError);
  }, [name]);
  const aliasesOf = (v: string) => (model?.aliases ?? []).filter((a) => a.version === v).map((a) => a.alias);
  return (
    <main class="page" data-testid="registered-model-page">
      <div class="crumbs">
        <a href="#/models">Registered models</a> /
      </div>
      <div class="page-head">
        <h1 data-testid="registered-model-name">{name}</h1>
      </div>
      <ErrorBox error={error} />
      {!model || !versions ? (
        !error && <Spinner />
      ) : (
        <>
          <p class={model.description ? "" : "muted"} data-testid="model-description">
            {model.description || "No description."}
          </p>
          <div class="two-col">
            <section>
              <h3>Tags</h3>
              <KeyValueTable testid="model-tags" rows={(model.tags ?? []).map((t) => [t.key, t.value])} />
            </section>
            <section>
              <h3>Aliases</h3>
              <KeyValueTable
                testid="model-aliases"
                headers={["Alias", "Version"]}
                rows={(model.aliases ?? []).map((a) => [`@${a.alias}`, <a href={versionHref(name, a.version)}>v{a.version}</a>])}
              />
            </section>
          </div>
          <h3>Versions</h3>
          <table class="list" data-testid="model-versions">
            <thead>
              <tr>
                <th>Version</th>
                <th>Stage</th>
                <th>Status</th>
                <th>Aliases</th>
                <th>Created</th>
                <th>Source run</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr data-testid="model-version" data-version={v.version}>
                  <td>
                    <a href={versionHref(name, v.version)}>Version {v.version}</a>
                  </td>
                  <td data-testid="stage">{v.current_stage ?? "None"}</td>
                  <td>{v.status && <StatusBadge status={v.status} />}</td>
                  <td>
                    <Aliases aliases={aliasesOf(v.version)} />
                  </td>
                  <td>{fmtTime(v.creation_timestamp)}</td>
                  <td class="mono">{v.run_id ? <a href={`#/runs/${v.run_id}`}>{v.run_id}</a> : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </main>
  );
}

function VersionPage({ name, version }: { name: string; version: string }) {
  const [v, setV] = useState<ModelVersion | null>(null);
  const [loggedModel, setLoggedModel] = useState<{ experiment_id: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<{ model_version: ModelVersion }>("model-versions/get", { name, version }).then((r) => {
      setV(r.model_version);
      const id = r.model_version.model_id;
      if (id) get<{ model: { info: { experiment_id: string } } }>(`logged-models/${encodeURIComponent(id)}`).then((m) => setLoggedModel(m.model.info), () => {});
    }, setError);
  }, [name, version]);
  return (
    <main class="page" data-testid="model-version-page">
      <div class="crumbs">
        <a href="#/models">Registered models</a> / <a href={modelHref(name)}>{name}</a> /
      </div>
      <div class="page-head">
        <h1>
          {name} <span class="sub">version {version}</span>
        </h1>
        {v?.status && <StatusBadge status={v.status} />}
      </div>
      <ErrorBox error={error} />
      {!v ? (
        !error && <Spinner />
      ) : (
        <>
          <KeyValueTable
            testid="version-overview"
            headers={["Field", "Value"]}
            rows={[
              ["Stage", <span data-testid="stage">{v.current_stage ?? "None"}</span>],
              ["Aliases", <Aliases aliases={v.aliases ?? []} />],
              ["Created", fmtTime(v.creation_timestamp)],
              ["Last modified", fmtTime(v.last_updated_timestamp)],
              ["Source", <span class="mono">{v.source ?? ""}</span>],
              [
                "Source run",
                v.run_id ? (
                  <a href={`#/runs/${v.run_id}`} data-testid="source-run" class="mono">
                    {v.run_id}
                  </a>
                ) : (
                  ""
                ),
              ],
              [
                "Logged model",
                v.model_id ? (
                  loggedModel ? (
                    <a href={`#/experiments/${loggedModel.experiment_id}/models/${v.model_id}`} data-testid="logged-model" class="mono">
                      {v.model_id}
                    </a>
                  ) : (
                    <span class="mono">{v.model_id}</span>
                  )
                ) : (
                  ""
                ),
              ],
              ["Description", v.description ?? ""],
            ]}
          />
          <h3>Tags</h3>
          <KeyValueTable testid="version-tags" rows={(v.tags ?? []).map((t) => [t.key, t.value])} />
        </>
      )}
    </main>
  );
}
