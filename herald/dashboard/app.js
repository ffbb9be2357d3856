// herald dashboard: streams, live feed, KPIs, trends, alerts, health. No framework, no build
// step. This module wires the parts together and owns the feed.

import { AlertsPanel } from "./alerts.js";
import { ApiError, api, onAuthRequired } from "./api.js";
import { loadCatalog } from "./catalog.js";
import { category, el, renderEvent } from "./feed.js";
import { fillTypePicker, installForm } from "./form.js";
import { drawInsights } from "./kpis.js";
import { Live, compareOffsets } from "./live.js";
import { PresencePill } from "./presence.js";
import { renderer } from "./render.js";
import { SearchPanel } from "./search.js";
import { $, LIFECYCLE, labelFor, state, targetOf, tick, toast } from "./state.js";
import { drawCharts, installActions, renderHealth, renderStats, renderStreams } from "./streams.js";
import { WebhooksPanel } from "./webhooks.js";

const REFRESH_MS = 5_000;
const FEED_KEEP = 500;
const FEED_SHOW = 200;
const FEED_BUSY = 100; // new items in one pass
const FEED_SHOW_BUSY = 50;
const HISTORY_SEED = 200;
const ACTIVITY_KEEP = 2000; // detection times per stream, for its events-per-minute chart

// --- auth ----------------------------------------------------------------------------

onAuthRequired(
  (reason) =>
    new Promise((resolve) => {
      const dialog = $("auth-dialog");
      const input = $("auth-key");
      $("auth-error").textContent = reason ? `Key refused: ${reason}` : "";
      input.value = "";
      input.setAttribute("aria-invalid", reason ? "true" : "false");
      const submit = (event) => {
        event.preventDefault();
        if (!input.value.trim()) {
          $("auth-error").textContent = "Enter the API key.";
          input.focus();
          return;
        }
        $("auth-form").removeEventListener("submit", submit);
        dialog.close();
        resolve(input.value.trim());
      };
      $("auth-form").addEventListener("submit", submit);
      dialog.addEventListener("cancel", (event) => event.preventDefault(), { once: true });
      if (!dialog.open) dialog.showModal();
      input.focus();
    }),
);

let refreshing = null;
let refreshAgain = false;

async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    const [streams, stats, health] = await Promise.allSettled([
      api("GET", "api/streams"),
      api("GET", "api/streams/stats"),
      api("GET", "api/health", { accept: [503] }),
    ]);
    if (streams.status === "fulfilled") {
      renderStreams(streams.value.data.streams || []);
      refreshStreamFilter();
      state.lastRefresh = Date.now();
      seedHistories();
    } else {
      const caption = $("streams-caption");
      const when = state.lastRefresh ? `; showing data from ${new Date(state.lastRefresh).toLocaleTimeString()}` : "";
      caption.textContent = `Could not refresh: ${streams.reason.detail || streams.reason}${when}`;
      caption.classList.add("stale");
    }
    if (stats.status === "fulfilled") renderStats(stats.value.data);
    if (health.status === "fulfilled") renderHealth(health.value.status, health.value.data);
    else renderHealth(0, null);
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
    if (refreshAgain) {
      refreshAgain = false;
      refresh();
    }
  }
}

let refreshSoonTimer = 0;
let refreshSoonAt = Infinity;
/** Refresh within `delay` ms; calls in between share one refresh. */
function refreshSoon(delay = 200) {
  const at = Date.now() + delay;
  if (refreshSoonTimer && refreshSoonAt <= at) return;
  clearTimeout(refreshSoonTimer);
  refreshSoonAt = at;
  refreshSoonTimer = setTimeout(() => {
    refreshSoonTimer = 0;
    refreshSoonAt = Infinity;
    refresh();
  }, delay);
}

/** Load each stream's recent history once: it fills the feed and the per-minute chart. */
async function seedHistories() {
  const todo = [...state.streams.keys()].filter((id) => !state.seeded.has(id)).slice(0, 50);
  for (const id of todo) state.seeded.add(id);
  await Promise.all(
    todo.map(async (id) => {
      try {
        const { data } = await api("GET", `api/streams/${encodeURIComponent(id)}/history?limit=${HISTORY_SEED}`);
        for (const ev of data.events || []) addEvent(ev, { quiet: true });
      } catch {
        state.seeded.delete(id);
      }
    }),
  );
  if (todo.length) {
    renderFeed();
    todo.forEach(drawCharts);
    renderer.mark("insights");
  }
}

// --- live feed -----------------------------------------------------------------------

function filters() {
  return { stream: $("filter-stream").value, type: $("filter-type").value };
}

function visible(ev, f) {
  return (!f.stream || ev.streamId === f.stream) && (!f.type || category(ev.type) === f.type);
}

function refreshStreamFilter() {
  const select = $("filter-stream");
  const current = select.value;
  const ids = new Set([...state.streams.keys(), ...state.events.map((e) => e.streamId)]);
  const options = [el("option", { value: "", text: "all streams" })];
  for (const id of ids) {
    if (!id) continue;
    const gone = state.streams.has(id) ? "" : " — stopped";
    options.push(el("option", { value: id, text: `${labelFor(id)}${gone}` }));
  }
  const same = select.options.length === options.length && options.every((o, i) => select.options[i].value === o.value && select.options[i].text === o.text);
  if (same) return;
  select.replaceChildren(...options);
  select.value = ids.has(current) ? current : "";
  const scope = $("insight-scope");
  const chosen = scope.value;
  scope.replaceChildren(...options.map((o) => o.cloneNode(true)));
  scope.value = ids.has(chosen) ? chosen : "";
  if (scope.value !== chosen) scopeChanged(); // the chosen stream is gone: back to all
}

function scopeLabel(id) {
  return id ? labelFor(id) : "all streams";
}

function renderFeed() {
  const list = $("feed");
  const f = filters();
  let shown = state.events.filter((ev) => visible(ev, f)).slice(0, FEED_SHOW);
  // Hundreds of new items between two passes scroll by faster than anyone reads: then the
  // feed shows the newest few, and says so, instead of building hundreds of nodes a pass.
  const fresh = shown.reduce((n, ev) => n + (state.nodes.has(ev.eventId) ? 0 : 1), 0);
  const busy = fresh > FEED_BUSY;
  if (busy) shown = shown.slice(0, FEED_SHOW_BUSY);
  const note = $("feed-busy");
  note.hidden = !busy;
  if (busy) note.textContent = `Busy: ${fresh.toLocaleString()} new events since the last update; showing the newest ${FEED_SHOW_BUSY}.`;
  const keep = new Set(shown.map((ev) => ev.eventId));
  for (const node of [...list.children]) {
    if (!keep.has(node.dataset.eventId)) node.remove();
  }
  shown.forEach((ev, i) => {
    let node = state.nodes.get(ev.eventId);
    if (!node) {
      node = renderEvent(ev);
      node.dataset.eventId = ev.eventId;
      state.nodes.set(ev.eventId, node);
    }
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
  });
  $("feed-empty").hidden = shown.length > 0;
  $("feed-empty").textContent = state.events.length
    ? "No events match these filters."
    : "No events yet. New posts, entries and follower changes appear here as they are detected.";
}

function renderFeedSoon() {
  renderer.mark("feed");
}

function addEvent(ev, { quiet = false } = {}) {
  if (!ev || !ev.eventId || state.seen.has(ev.eventId)) return false;
  state.seen.add(ev.eventId);
  // Newest first, by offset; live events nearly always go to the top.
  let i = 0;
  while (i < state.events.length && ev.offset && state.events[i].offset && compareOffsets(state.events[i].offset, ev.offset) > 0) i += 1;
  state.events.splice(i, 0, ev);
  for (const old of state.events.splice(FEED_KEEP)) {
    state.seen.delete(old.eventId);
    state.nodes.delete(old.eventId);
  }
  if (ev.streamId && ev.username && !state.labels.has(ev.streamId)) {
    state.labels.set(ev.streamId, `${targetOf(ev)}${ev.streamType ? ` (${ev.streamType})` : ""}`);
  }
  if (!LIFECYCLE.has(ev.type) && ev.type !== "stream:error" && ev.type !== "stream:gap") {
    let times = state.activity.get(ev.streamId);
    if (!times) state.activity.set(ev.streamId, (times = []));
    times.push(Date.parse(ev.detectedAt) || Date.now());
    if (times.length > ACTIVITY_KEEP * 1.25) state.activity.set(ev.streamId, times.slice(-ACTIVITY_KEEP));
    if (!quiet) {
      state.dirtyCharts.add(ev.streamId);
      renderer.mark("charts");
    }
  }
  if (state.insights.add(ev) && !quiet) renderer.mark("insights");
  alerts.onEvent(ev, { live: !quiet });
  webhooks.onEvent(ev);
  if (!quiet) renderFeedSoon();
  return true;
}

function onLiveEvent(ev) {
  state.received += 1;
  if (!addEvent(ev)) return;
  // Lifecycle changes and errors show in the table at once; other events update its
  // counters and poll times within 2 s.
  refreshSoon(LIFECYCLE.has(ev.type) || ev.type === "stream:error" ? 200 : 2000);
}

function onLiveState(kind, info) {
  const pill = $("connection");
  pill.dataset.state = kind;
  document.body.classList.toggle("offline", kind === "offline");
  $("reconnect").hidden = kind !== "offline";
  clearInterval(onLiveState.countdown);
  // Screen readers hear each change of state once, not the countdown below.
  const announce = { live: "Live updates connected", connecting: "Connecting", offline: `Offline: ${info.reason || "disconnected"}` };
  if ($("connection-sr").textContent !== announce[kind]) $("connection-sr").textContent = announce[kind];
  if (kind === "live") {
    pill.textContent = "live";
    if (!info.recovered) {
      const note = $("feed-note");
      note.textContent = "Some events were missed while offline: the server no longer holds them.";
      note.hidden = false;
    }
    refreshSoon();
    presence.poll();
  } else if (kind === "connecting") {
    pill.textContent = "connecting…";
  } else {
    const show = () => {
      const wait = info.retryAt ? Math.max(0, Math.ceil((info.retryAt - Date.now()) / 1000)) : 0;
      pill.textContent = `offline: ${info.reason || "disconnected"}${info.retryAt ? ` · retrying in ${wait}s` : ""}`;
    };
    show();
    onLiveState.countdown = setInterval(show, 1000);
  }
}

$("filter-stream").addEventListener("change", renderFeed);
function scopeChanged() {
  $("kpi-scope").textContent = scopeLabel($("insight-scope").value).replace(/^all/, "All");
  renderer.mark("insights");
}
$("insight-scope").addEventListener("change", scopeChanged);
$("filter-type").addEventListener("change", renderFeed);
$("feed-clear").addEventListener("click", () => {
  state.events = [];
  state.nodes.clear();
  $("feed").replaceChildren();
  $("feed-note").hidden = true;
  renderFeed();
});

// --- start ---------------------------------------------------------------------------

const alerts = new AlertsPanel({ toast, mark: () => renderer.mark("alerts") });
const presence = new PresencePill($("presence"));
const webhooks = new WebhooksPanel({ toast });
renderer
  .on("feed", renderFeed)
  .on("charts", () => {
    const ids = [...state.dirtyCharts];
    state.dirtyCharts.clear();
    ids.forEach(drawCharts);
  })
  .on("insights", () => drawInsights(state.insights, scopeLabel))
  .on("alerts", () => alerts.draw());
alerts.start();
webhooks.start();
presence.start();
new SearchPanel().install();
renderer.mark("insights", "alerts");

const live = new Live({ onEvent: onLiveEvent, onState: onLiveState });
$("reconnect").addEventListener("click", () => live.retryNow());

// The catalog comes first: the feed renders items by its payload keys.
const catalogReady = loadCatalog()
  .then(fillTypePicker)
  .catch((err) => {
    $("e-type").textContent = `Stream types unavailable: ${err instanceof ApiError ? err.detail : err}`;
  });
catalogReady.finally(() => refresh().finally(() => live.start()));
installForm({ refresh, catalogReady });
installActions(refresh);
setInterval(refresh, REFRESH_MS);
setInterval(tick, 1000);
setInterval(() => state.rows.forEach((_, id) => drawCharts(id)), 60_000);
setInterval(() => renderer.mark("insights"), 2_000); // time moves the windows on
// For debugging from the console, and for the tests: render counts and buffer sizes.
window.heraldDashboard = { state, live, renderer, alerts, presence, webhooks };
