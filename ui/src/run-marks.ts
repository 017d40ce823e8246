// Pinned and hidden runs, per experiment, kept in localStorage as MLflow keeps them: pinned
// runs sit at the top of the runs table; hidden runs stay in the table (dimmed) but leave the
// experiment's charts.
import { useState } from "preact/hooks";

export interface Marks {
  pinned: string[];
  hidden: string[];
}

const key = (experimentId: string) => `tracklet.runMarks.${experimentId}`;

export function loadMarks(experimentId: string): Marks {
  try {
    const raw = JSON.parse(localStorage.getItem(key(experimentId)) ?? "{}") as Partial<Marks>;
    const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
    return { pinned: ids(raw.pinned), hidden: ids(raw.hidden) };
  } catch {
    return { pinned: [], hidden: [] };
  }
}

function saveMarks(experimentId: string, marks: Marks) {
  if (!marks.pinned.length && !marks.hidden.length) localStorage.removeItem(key(experimentId));
  else localStorage.setItem(key(experimentId), JSON.stringify(marks));
}

/** The marks of the runs of these experiments (each run's under its own experiment's key). */
export function useMarks(experimentIds: string[]) {
  const load = () => {
    const all: Marks = { pinned: [], hidden: [] };
    for (const id of experimentIds) {
      const m = loadMarks(id);
      all.pinned.push(...m.pinned);
      all.hidden.push(...m.hidden);
    }
    return all;
  };
  const [marks, setMarks] = useState<Marks>(load);
  const [forKey, setForKey] = useState(experimentIds.join(","));
  let current = marks;
  if (forKey !== experimentIds.join(",")) {
    current = load();
    setForKey(experimentIds.join(","));
    setMarks(current);
  }
  const toggle = (kind: keyof Marks, runId: string, experimentId: string) => {
    const own = loadMarks(experimentId);
    own[kind] = own[kind].includes(runId) ? own[kind].filter((r) => r !== runId) : [...own[kind], runId];
    saveMarks(experimentId, own);
    setMarks(load());
  };
  return {
    pinned: new Set(current.pinned),
    hidden: new Set(current.hidden),
    togglePin: (runId: string, experimentId: string) => toggle("pinned", runId, experimentId),
    toggleHidden: (runId: string, experimentId: string) => toggle("hidden", runId, experimentId),
  };
}
