// herald dashboard: streams, live feed, charts, health. No framework, no build step.

import { ApiError, api, onAuthRequired } from "./api.js";
import { barChart, perMinute, sparkline } from "./charts.js";
import { catalog, eventGroups, loadCatalog, targetLabel, targetRule } from "./catalog.js";
import { category, el, renderEvent, showTarget } from "./feed.js";
import { AlertsPanel } from "./alerts.js";
import { Insights, drawInsights } from "./kpis.js";
import { Live, compareOffsets } from "./live.js";
import { PresencePill } from "./presence.js";
import { renderer } from "./render.js";

const REFRESH_MS = 5_000;
const FEED_KEEP = 500;
const FEED_SHOW = 200;
const HISTORY_SEED = 200;
const LATENCY_KEEP = 30;
const ACTIVITY_KEEP = 2000; // detection times per stream, for its events-per-minute chart
const INTERVAL_MIN = 15;
const INTERVAL_MAX = 3600;
const LIFECYCLE = new Set(["stream:started", "stream:paused", "stream:resumed", "stream:updated", "stream:stopped"]);

const $ = (id) => document.getElementById(id);

const state = {
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
  insights: new Insights(),
  dirtyCharts: new Set(), // stream ids whose row charts wait for the next render pass
};

// --- small helpers -------------------------------------------------------------------

function toast(message, kind = "info") {
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

function relTime(iso) {
  return el("time", { datetime: iso || "", "data-rel": "", title: iso ? new Date(iso).toLocaleString() : "", text: relative(iso) });
}

function tick() {
  for (const node of document.querySelectorAll("time[data-rel]")) {
    node.textContent = relative(node.getAttribute("datetime"));
  }
}

function labelFor(id) {
  return state.labels.get(id) || id;
}

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

// --- streams table -------------------------------------------------------------------

function actionButton(label, action, id, extra = "") {
  return el("button", { type: "button", class: `small ${extra}`.trim(), "data-action": action, "data-id": id, text: label });
}

function makeRow(stream) {
  const id = stream.id;
  // Each cell holds one <div>: on phones the cell becomes a two-column grid (label, value).
  const tds = [];
  const cell = (label, cls) => {
    const inner = el("div", { class: "cell" });
    tds.push(el("td", { "data-label": label, class: cls }, inner));
    return inner;
  };
  const r = {
    tr: el("tr", { "data-id": id }),
    name: cell("Stream"),
    status: cell("Status"),
    polls: cell("Polls"),
    chart: cell("Events / min", "chart-cell"),
    latency: cell("Poll latency", "chart-cell"),
    actions: el("div", { class: "buttons" }),
    toggle: actionButton("Pause", "pause", id),
    poll: actionButton("Poll now", "poll", id),
    stop: actionButton("Stop", "stop", id, "danger"),
  };
  r.actions.append(r.toggle, r.poll, r.stop);
  r.tr.append(...tds, el("td", { class: "actions" }, r.actions));
  return r;
}

function noteLatency(stream) {
  // Poll latency, as far as the API shows it: how long after a poll was due it finished
  // (queueing + fetch + diff + write), from the change of lastPoll against the nextPoll
  // seen before it. "Poll now" measures the full round trip instead.
  let info = state.latency.get(stream.id);
  if (!info) {
    info = { lastPoll: stream.lastPoll, nextPoll: stream.nextPoll, samples: [], manual: false };
    state.latency.set(stream.id, info);
    return info;
  }
  if (stream.lastPoll && stream.lastPoll !== info.lastPoll) {
    const done = Date.parse(stream.lastPoll);
    const due = info.nextPoll ? Date.parse(info.nextPoll) : NaN;
    if (!info.manual && due && done >= due && done - due < 600_000) info.samples.push(done - due);
    info.manual = false;
    info.lastPoll = stream.lastPoll;
  }
  info.nextPoll = stream.nextPoll;
  info.samples = info.samples.slice(-LATENCY_KEEP);
  return info;
}

function formatMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function drawCharts(id) {
  const r = state.rows.get(id);
  if (!r) return;
  const bins = perMinute(state.activity.get(id) || []);
  const total = bins.reduce((a, b) => a + b, 0);
  const peak = Math.max(...bins);
  r.chart.replaceChildren(
    barChart(bins, { label: `${labelFor(id)}: ${total} events in the last 30 minutes, peak ${peak} per minute` }),
    el("span", { class: "chart-note", text: `${total} in 30 min` }),
  );
  const samples = (state.latency.get(id) || { samples: [] }).samples;
  const last = samples[samples.length - 1];
  r.latency.replaceChildren(
    sparkline(samples, {
      label: samples.length
        ? `${labelFor(id)}: poll latency of the last ${samples.length} polls, latest ${formatMs(last)}`
        : `${labelFor(id)}: no poll latency measured yet`,
    }),
    el("span", { class: "chart-note", text: samples.length ? formatMs(last) : "no data yet" }),
  );
}

const targetOf = (s) => showTarget(s.target ?? s.username);

function updateRow(r, s) {
  const label = targetOf(s);
  r.name.replaceChildren(
    el("strong", { text: label }),
    " ",
    el("span", { class: "type", text: s.type }),
    el("small", { class: "muted meta", text: `every ${s.intervalSeconds}s · ${s.eventsTotal} events` }),
    el("small", { class: "muted meta mono", title: "stream id", text: s.id }),
  );
  const errorText = s.status === "error" ? s.stopReason || s.lastError : s.lastError;
  r.status.replaceChildren(
    el("span", { class: "badge", "data-status": s.status, text: s.status }),
    ...(errorText
      ? [el("p", { class: "reason", text: `${errorText}${s.consecutiveErrors ? ` (${s.consecutiveErrors} in a row)` : ""}` })]
      : []),
  );
  r.polls.replaceChildren(
    el("span", { class: "when" }, "last ", relTime(s.lastPoll)),
    el("br"),
    el("span", { class: "when" }, "next ", s.status === "active" ? relTime(s.nextPoll) : el("span", { text: "—" })),
  );
  const paused = s.status !== "active";
  r.toggle.textContent = paused ? "Resume" : "Pause";
  r.toggle.dataset.action = paused ? "resume" : "pause";
  r.toggle.setAttribute("aria-label", `${paused ? "Resume" : "Pause"} ${label} ${s.type} stream`);
  r.poll.setAttribute("aria-label", `Poll ${label} ${s.type} stream now`);
  r.poll.disabled = paused;
  r.stop.setAttribute("aria-label", `Stop ${label} ${s.type} stream`);
  noteLatency(s);
  drawCharts(s.id);
}

function renderStreams(list) {
  const body = $("streams-body");
  const ids = new Set(list.map((s) => s.id));
  for (const [id, r] of state.rows) {
    if (!ids.has(id)) {
      if (r.tr.contains(document.activeElement)) $("streams-title").focus?.();
      r.tr.remove();
      state.rows.delete(id);
    }
  }
  state.streams = new Map(list.map((s) => [s.id, s]));
  list.forEach((s, i) => {
    state.labels.set(s.id, `${targetOf(s)} (${s.type})`);
    let r = state.rows.get(s.id);
    if (!r) {
      r = makeRow(s);
      state.rows.set(s.id, r);
    }
    updateRow(r, s);
    if (body.children[i] !== r.tr) body.insertBefore(r.tr, body.children[i] || null);
  });
  const caption = $("streams-caption");
  caption.textContent = list.length
    ? `${list.length} stream${list.length === 1 ? "" : "s"} · updated ${new Date().toLocaleTimeString()}`
    : "No streams yet. Start one with the form above.";
  caption.classList.remove("stale");
  refreshStreamFilter();
}

function renderStats(stats) {
  const items = [
    ["streams", stats.total],
    ["active", stats.active],
    ["paused", stats.paused],
    ["stopped by errors", stats.error],
    ["events", stats.eventsTotal],
    ["polls", stats.polls],
    ["poll errors", stats.errors],
  ];
  $("stats").replaceChildren(
    ...items.map(([name, value]) => el("div", {}, el("dt", { text: name }), el("dd", { text: Number(value || 0).toLocaleString() }))),
  );
}

function renderHealth(status, report) {
  const pill = $("health");
  if (!report) {
    pill.dataset.state = "down";
    pill.textContent = "server unreachable";
    return;
  }
  const failing = Object.entries(report.checks || {})
    .filter(([, v]) => v !== "ok" && v !== 0)
    .map(([k, v]) => `${k}: ${v}`);
  pill.dataset.state = report.healthy ? "ok" : "degraded";
  pill.textContent = report.healthy ? "healthy" : `degraded${failing.length ? ` (${failing.join(", ")})` : ""}`;
  pill.title = `GET /api/health → ${status}`;
}

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

// --- actions -------------------------------------------------------------------------

async function confirmStop(id) {
  const dialog = $("stop-dialog");
  $("stop-text").textContent = `${labelFor(id)} stops being watched and its state and history are removed. This cannot be undone.`;
  dialog.returnValue = "";
  dialog.showModal();
  dialog.querySelector("button[value=cancel]").focus();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  return dialog.returnValue === "stop";
}

async function act(button) {
  const { action, id } = button.dataset;
  const label = labelFor(id);
  if (action === "stop" && !(await confirmStop(id))) {
    button.focus();
    return;
  }
  button.disabled = true;
  const started = performance.now();
  try {
    if (action === "stop") {
      await api("POST", "api/streams/stop", { body: { streamId: id } });
      toast(`Stopped ${label}`);
    } else if (action === "poll") {
      const { data } = await api("POST", `api/streams/${encodeURIComponent(id)}/poll`, { accept: [409] });
      const info = state.latency.get(id);
      if (info && data.outcome !== "busy") {
        info.samples.push(performance.now() - started);
        info.manual = true;
      }
      const what = data.outcome === "busy" ? "a poll is already running" : data.error ? `error: ${data.error}` : `${data.outcome}, ${data.events} new event${data.events === 1 ? "" : "s"}`;
      toast(`Polled ${label}: ${what}`, data.error ? "error" : "info");
    } else {
      await api("POST", `api/streams/${encodeURIComponent(id)}/${action}`);
      toast(`${action === "pause" ? "Paused" : "Resumed"} ${label}`);
    }
  } catch (err) {
    toast(`${label}: ${err instanceof ApiError ? err.detail : err}`, "error");
  } finally {
    button.disabled = false;
    await refresh();
  }
}

$("streams-body").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button && !button.disabled) act(button);
});

// --- start form ----------------------------------------------------------------------

const FORM_FIELDS = ["username", "type", "interval", "authToken"];
const FIELD_OF = { target: "username" }; // the API's name → the form's field

function fieldError(name, message) {
  const input = $("start-form").elements[name];
  const out = $(`e-${name}`);
  out.textContent = message || "";
  if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
}

function clearErrors() {
  FORM_FIELDS.forEach((name) => fieldError(name, ""));
  $("e-form").textContent = "";
}

function chosenType() {
  return catalog.byName.get($("f-type").value) || null;
}

/** The type picker lists the catalog; the target field's label and placeholder follow it. */
function fillTypePicker() {
  const select = $("f-type");
  const current = select.value;
  select.replaceChildren(
    ...catalog.types.map((t) => el("option", { value: t.type, title: t.target.description, text: `${t.type} — ${t.summary}` })),
  );
  if (catalog.byName.has(current)) select.value = catalog.byName.get(current).type;
  followType();
  const groups = $("filter-type");
  const chosen = groups.value;
  const names = { alert: "alerts", error: "errors", gap: "gaps", lifecycle: "lifecycle" };
  groups.replaceChildren(
    el("option", { value: "", text: "all types" }),
    ...eventGroups().map((g) => el("option", { value: g, text: names[g] || `${g}s` })),
  );
  groups.value = chosen;
}

function followType() {
  const entry = chosenType();
  const input = $("f-username");
  $("l-username").textContent = targetLabel(entry);
  input.placeholder = entry ? entry.target.example : "";
  $("h-username").textContent = entry ? entry.target.description : "";
}

function checkForm(form) {
  const errors = {};
  const entry = chosenType();
  const label = targetLabel(entry).toLowerCase();
  const target = form.elements.username.value.trim();
  const rule = targetRule(entry);
  if (!entry) errors.type = "Choose a stream type.";
  if (!target) errors.username = `Enter a ${label}.`;
  else if (rule && !rule.test(target)) errors.username = `Expected ${entry.target.description}.`;
  const raw = form.elements.interval.value.trim();
  const interval = Number(raw);
  if (raw !== "" && (!Number.isFinite(interval) || interval < INTERVAL_MIN || interval > INTERVAL_MAX)) {
    errors.interval = `Between ${INTERVAL_MIN} and ${INTERVAL_MAX} seconds.`;
  }
  const body = {
    type: form.elements.type.value,
    target,
    interval: raw === "" ? undefined : interval,
    authToken: form.elements.authToken.value.trim() || undefined,
  };
  return { errors, body };
}

$("f-type").addEventListener("change", followType);

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors();
  if (!catalog.types.length) await catalogReady;
  const { errors, body } = checkForm(form);
  const bad = FORM_FIELDS.filter((name) => errors[name]);
  if (bad.length) {
    bad.forEach((name) => fieldError(name, errors[name]));
    form.elements[bad[0]].focus();
    return;
  }
  const submit = form.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const { data } = await api("POST", "api/streams/start", { body });
    toast(`Started ${targetOf(data)} (${data.type})`);
    form.elements.username.value = "";
    form.elements.authToken.value = "";
    state.labels.set(data.id, `${targetOf(data)} (${data.type})`);
    await refresh();
  } catch (err) {
    const named = err instanceof ApiError ? FIELD_OF[err.field] || err.field : "";
    const field = FORM_FIELDS.includes(named) ? named : "";
    const message = err instanceof ApiError ? err.detail : String(err);
    if (field) {
      fieldError(field, message);
      form.elements[field].focus();
    } else {
      $("e-form").textContent = message;
    }
  } finally {
    submit.disabled = false;
  }
});

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
  if (scope.value !== chosen) renderer.mark("insights");
}

function scopeLabel(id) {
  return id ? labelFor(id) : "all streams";
}

function renderFeed() {
  const list = $("feed");
  const f = filters();
  const shown = state.events.filter((ev) => visible(ev, f)).slice(0, FEED_SHOW);
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
  if (!quiet) renderFeedSoon();
  return true;
}

function onLiveEvent(ev) {
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
$("insight-scope").addEventListener("change", () => {
  $("kpi-scope").textContent = scopeLabel($("insight-scope").value).replace(/^all/, "All");
  drawInsights(state.insights, scopeLabel);
});
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
presence.start();
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
setInterval(refresh, REFRESH_MS);
setInterval(tick, 1000);
setInterval(() => state.rows.forEach((_, id) => drawCharts(id)), 60_000);
setInterval(() => renderer.mark("insights"), 2_000); // time moves the windows on
// For debugging from the console, and for the tests: render counts and buffer sizes.
window.heraldDashboard = { state, live, renderer, alerts, presence };
