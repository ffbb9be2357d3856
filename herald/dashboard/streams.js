// The streams table: one row per stream with its status, polls, events per minute and poll
// latency, its actions, and the header's totals and health.

import { ApiError, api } from "./api.js";
import { barChart, perMinute, sparkline } from "./charts.js";
import { el } from "./feed.js";
import { $, labelFor, relTime, state, targetOf, toast } from "./state.js";

const LATENCY_KEEP = 30;

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

export function drawCharts(id) {
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

export function renderStreams(list) {
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
}

export function renderStats(stats) {
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

export function renderHealth(status, report) {
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

async function act(button, refresh) {
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

/** Pause, resume, poll and stop from the table; `refresh()` reloads it afterwards. */
export function installActions(refresh) {
  $("streams-body").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button && !button.disabled) act(button, refresh);
  });
}
