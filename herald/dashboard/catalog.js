// The stream-type catalog (GET api/stream-types): the type picker, each type's target
// (label, placeholder, pattern) and the payload keys the feed renders items by. Nothing
// here names a type: it all comes from the server's entries.

import { api } from "./api.js";

export const catalog = {
  types: [], // the server's entries, in its order
  byName: new Map(), // name or alias → entry
  payloadKeys: [], // "tweet", "mention", "post", "entry"…
};

export async function loadCatalog() {
  const { data } = await api("GET", "api/stream-types");
  catalog.types = (data && data.types) || [];
  catalog.byName = new Map();
  for (const t of catalog.types) {
    for (const name of [t.type, ...(t.aliases || [])]) catalog.byName.set(name, t);
  }
  catalog.payloadKeys = [...new Set(catalog.types.map((t) => t.payloadKey).filter(Boolean))];
  return catalog;
}

/** The feed groups an event belongs to: `stream:<group>:<change>` → group. */
export function eventGroup(type) {
  const parts = String(type || "").split(":");
  if (parts[0] === "alert") return "alert";
  if (parts.length === 3 && parts[0] === "stream") return parts[1];
  if (type === "stream:error") return "error";
  if (type === "stream:gap") return "gap";
  return "lifecycle";
}

/** Every event group the catalog's types emit, then errors, gaps and lifecycle. */
export function eventGroups() {
  const groups = new Set();
  for (const t of catalog.types) for (const e of t.events || []) groups.add(eventGroup(e));
  return [...groups, "alert", "error", "gap", "lifecycle"];
}

/** A JavaScript RegExp for a type's target pattern, or null when JS cannot read it. */
export function targetRule(entry) {
  const source = entry && entry.target && entry.target.pattern;
  if (!source) return null;
  try {
    return new RegExp(source);
  } catch {
    return null; // a pattern only Python reads: the server still checks it
  }
}

/** The target field's label for a type: its entry's own word ("Username", "Feed URL"). */
export function targetLabel(entry) {
  const label = (entry && entry.target && entry.target.label) || "target";
  return label[0].toUpperCase() + label.slice(1);
}
