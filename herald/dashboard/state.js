// What every part of the page shares: its state, element lookup, toasts and relative times.

import { el, showTarget } from "./feed.js";
import { Insights } from "./kpis.js";

export const LIFECYCLE = new Set(["stream:started", "stream:paused", "stream:resumed", "stream:updated", "stream:stopped"]);

export const $ = (id) => document.getElementById(id);

export const state = {
  streams: new Map(), // id → stream JSON from GET /api/streams
  rows: new Map(), // id → {tr, cells…}
  labels: new Map(), // id → "@user (type)" / "target (type)", also for streams gone from the table
  events: [], // newest first
  seen: new Set(), // eventIds in `events`
  nodes: new Map(), // eventId → rendered <li>
  activity: new Map(), // id → detection times (ms) of non-lifecycle events
  latency: new Map(), // id → {lastPoll, nextPoll, samples: [ms], manual: bool}
  seeded: new Set(), // ids whose history was loaded
  lastRefresh: 0,
  received: 0, // live events received since the page loaded
  insights: new Insights(),
  dirtyCharts: new Set(), // stream ids whose row charts wait for the next render pass
};

// --- small helpers -------------------------------------------------------------------

export function toast(message, kind = "info") {
  const node = $("toast");
  node.textContent = message;
  node.dataset.kind = kind;
  node.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => node.classList.remove("show"), 4000);
}

function relative(iso) {
  if (!iso) return "—";
  const diff = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const abs = Math.abs(diff);
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)}m` : `${Math.round(abs / 3600)}h`;
  if (abs < 2) return "now";
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

export function relTime(iso) {
  return el("time", { datetime: iso || "", "data-rel": "", title: iso ? new Date(iso).toLocaleString() : "", text: relative(iso) });
}

export function tick() {
  for (const node of document.querySelectorAll("time[data-rel]")) {
    node.textContent = relative(node.getAttribute("datetime"));
  }
}

export function labelFor(id) {
  return state.labels.get(id) || id;
}

export const targetOf = (s) => showTarget(s.target ?? s.username);
