// The alerts panel: rules that are firing, pending or recently resolved, from GET api/alerts
// (each rule's live status) and from alert:firing / alert:resolved events as they arrive;
// silencing from the page (POST api/silences); browser notifications for firing alerts
// once the user allows them. A herald without alert rules answers 404: the panel says so
// and shows alerts only if alert events arrive anyway.

import { ApiError, api } from "./api.js";
import { el } from "./feed.js";

const POLL_MS = 10_000;
const KEEP = 200; // alerts remembered, all states
const SHOW_RESOLVED = 20;
const NOTIFY_WITHIN_MS = 10 * 60_000; // a replayed firing older than this is not news
const FIRING = new Set(["firing", "recovering"]);
const PENDING = new Set(["pending", "nodata", "error"]);
const DURATIONS = [
  ["15m", 15 * 60_000, "15 minutes"],
  ["1h", 60 * 60_000, "1 hour"],
  ["4h", 4 * 60 * 60_000, "4 hours"],
  ["24h", 24 * 60 * 60_000, "24 hours"],
];

const $ = (id) => document.getElementById(id);
const at = (iso) => Date.parse(iso || "") || 0;

function num(v) {
  if (typeof v !== "number") return v === undefined || v === null ? "—" : String(v);
  return Math.abs(v) >= 100 || Number.isInteger(v) ? v.toLocaleString() : v.toFixed(2);
}

export class AlertsPanel {
  /** `toast(message, kind)` reports outcomes; `mark()` asks the render loop for a redraw. */
  constructor({ toast, mark }) {
    this.toast = toast;
    this.mark = mark;
    this.entries = new Map(); // fingerprint (or rule:<id>) → entry
    this.rules = new Map(); // id → rule
    this.available = null; // null: not asked yet; false: the server has no alert rules
    this.notified = new Set(); // eventIds a notification was shown for
    this.notifications = 0;
    this.loading = null;
    this.soonTimer = 0;
  }

  start() {
    $("notify").addEventListener("click", () => this.askPermission());
    $("alerts").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-silence]");
      if (button) this.silence(button.dataset.silence, button);
    });
    $("silence-form").addEventListener("submit", (event) => this.submitSilence(event));
    $("silence-duration").replaceChildren(...DURATIONS.map(([v, , text]) => el("option", { value: v, text })));
    $("silence-duration").value = "1h";
    this.drawPermission();
    this.load();
    setInterval(() => this.load(), POLL_MS);
  }

  // --- data ---------------------------------------------------------------------------

  /** Rules and their status; 404 means this herald serves no alert rules. */
  async load() {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        const { data } = await api("GET", "api/alerts");
        const rules = Array.isArray(data) ? data : (data && (data.rules || data.alerts)) || [];
        this.available = true;
        this.rules = new Map(rules.filter((r) => r && r.id).map((r) => [String(r.id), r]));
        for (const rule of this.rules.values()) this.fromRule(rule);
        $("alerts-note").hidden = true;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          this.available = false;
          this.note("This herald serves no alert rules (GET /api/alerts answered 404); alert events still show here.");
        } else {
          this.note(`Could not load alert rules: ${err instanceof ApiError ? err.detail : err}`);
        }
      } finally {
        this.loading = null;
        this.mark();
      }
    })();
    return this.loading;
  }

  note(text) {
    const node = $("alerts-note");
    node.textContent = text;
    node.hidden = false;
  }

  put(key, entry) {
    const old = this.entries.get(key);
    if (old && old.at > entry.at) return; // an older word about the same alert
    this.entries.set(key, { ...old, ...entry });
    if (this.entries.size > KEEP) {
      const oldest = [...this.entries].sort((a, b) => a[1].at - b[1].at)[0][0];
      this.entries.delete(oldest);
    }
  }

  fromRule(rule) {
    const status = rule.status || {};
    if (!status.state || status.state === "normal") {
      // Back to normal: a firing entry of this rule from the page's own events stays as it was
      // unless the status is newer.
      for (const [key, entry] of this.entries) {
        if (entry.ruleId === rule.id && at(status.since) > entry.at && entry.state !== "resolved") {
          this.entries.set(key, { ...entry, state: "resolved", at: at(status.since), endsAt: status.since });
        }
      }
      return;
    }
    const key = status.fingerprint || `rule:${rule.id}`;
    this.put(key, {
      key,
      ruleId: String(rule.id),
      fingerprint: status.fingerprint || "",
      state: status.state,
      value: status.value,
      threshold: rule.threshold,
      condition: rule.condition,
      type: rule.type,
      window: rule.window,
      since: status.since,
      at: at(status.since) || at(status.lastEvaluatedAt),
    });
  }

  /** An alert:firing or alert:resolved event; `live` when it arrived now (not from history). */
  onEvent(ev, { live }) {
    if (ev.type !== "alert:firing" && ev.type !== "alert:resolved") return;
    const alert = ev.alert && typeof ev.alert === "object" ? ev.alert : {};
    const ruleId = String(alert.ruleId || "");
    const key = alert.fingerprint || (ruleId ? `rule:${ruleId}` : ev.eventId);
    const firing = ev.type === "alert:firing";
    this.put(key, {
      key,
      ruleId,
      fingerprint: alert.fingerprint || "",
      state: firing ? "firing" : "resolved",
      value: alert.value,
      threshold: alert.threshold,
      window: alert.window,
      labels: alert.labels && typeof alert.labels === "object" ? alert.labels : {},
      since: firing ? alert.startsAt || ev.detectedAt : alert.endsAt || ev.detectedAt,
      startsAt: alert.startsAt,
      endsAt: alert.endsAt,
      channel: ev.channel,
      at: at(ev.detectedAt) || Date.now(),
    });
    if (firing && live) this.notify(ev, alert);
    this.mark();
    clearTimeout(this.soonTimer);
    if (this.available !== false) this.soonTimer = setTimeout(() => this.load(), 500);
  }

  // --- notifications ------------------------------------------------------------------

  drawPermission() {
    const button = $("notify");
    const state = $("notify-state");
    if (!("Notification" in window)) {
      button.hidden = true;
      state.textContent = "This browser has no notifications.";
      return;
    }
    const permission = Notification.permission;
    button.hidden = permission !== "default";
    state.textContent = permission === "granted" ? "Notifications on for firing alerts." : permission === "denied" ? "Notifications are blocked for this page." : "";
  }

  async askPermission() {
    try {
      await Notification.requestPermission();
    } finally {
      this.drawPermission();
    }
  }

  notify(ev, alert) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    if (this.notified.has(ev.eventId) || Date.now() - (at(ev.detectedAt) || Date.now()) > NOTIFY_WITHIN_MS) return;
    this.notified.add(ev.eventId);
    if (this.notified.size > KEEP) this.notified.delete(this.notified.values().next().value);
    const rule = this.rules.get(String(alert.ruleId)) || {};
    const condition = rule.condition ? `${rule.condition} ` : "threshold ";
    const note = new Notification(`Alert firing: ${alert.ruleId || "rule"}`, {
      body: `value ${num(alert.value)} (${condition}${num(alert.threshold)})${alert.window ? ` over ${alert.window}s` : ""}`,
      tag: alert.fingerprint || ev.eventId,
    });
    note.onclick = () => window.focus();
    this.notifications += 1;
  }

  // --- silences -----------------------------------------------------------------------

  silence(key, button) {
    const entry = this.entries.get(key);
    if (!entry) return;
    const dialog = $("silence-dialog");
    dialog.dataset.key = key;
    dialog.returnButton = button;
    $("silence-text").textContent = `Silence notifications of rule ${entry.ruleId} for:`;
    $("silence-error").textContent = "";
    $("silence-comment").value = "";
    dialog.showModal();
    $("silence-duration").focus();
  }

  async submitSilence(event) {
    const dialog = $("silence-dialog");
    if (event.submitter && event.submitter.value === "cancel") return;
    event.preventDefault();
    const entry = this.entries.get(dialog.dataset.key);
    if (!entry) return dialog.close();
    const [, ms, text] = DURATIONS.find(([v]) => v === $("silence-duration").value) || DURATIONS[1];
    const endsAt = new Date(Date.now() + ms).toISOString();
    const body = {
      matchers: [{ name: "ruleId", value: entry.ruleId, isRegex: false }],
      endsAt,
      comment: $("silence-comment").value.trim() || `silenced from the dashboard for ${text}`,
    };
    try {
      await api("POST", "api/silences", { body });
      entry.silencedUntil = endsAt;
      dialog.close();
      this.toast(`Silenced ${entry.ruleId} for ${text}`);
      this.mark();
      dialog.returnButton?.focus?.();
    } catch (err) {
      $("silence-error").textContent =
        err instanceof ApiError && (err.status === 404 || err.status === 405)
          ? `This herald does not take silences (POST /api/silences answered ${err.status}).`
          : `Not silenced: ${err instanceof ApiError ? err.detail : err}`;
    }
  }

  // --- drawing ------------------------------------------------------------------------

  draw() {
    const all = [...this.entries.values()].sort((a, b) => b.at - a.at);
    const firing = all.filter((e) => FIRING.has(e.state));
    const pending = all.filter((e) => PENDING.has(e.state));
    const resolved = all.filter((e) => e.state === "resolved").slice(0, SHOW_RESOLVED);
    const nothing = !all.length;
    $("alerts-groups").hidden = nothing && this.available === false;
    $("alerts-empty").hidden = !nothing || this.available === false;
    this.drawGroup("firing", firing, "Nothing is firing.");
    this.drawGroup("pending", pending, "Nothing pending.");
    this.drawGroup("resolved", resolved, "Nothing resolved recently.");
    const badge = $("alerts-count");
    badge.textContent = firing.length ? `${firing.length} firing` : "";
    badge.hidden = !firing.length;
  }

  drawGroup(name, entries, empty) {
    $(`count-${name}`).textContent = String(entries.length);
    $(`alerts-${name}`).replaceChildren(
      ...(entries.length ? entries.map((e) => this.item(e)) : [el("li", { class: "muted empty", text: empty })]),
    );
  }

  item(e) {
    const rule = this.rules.get(e.ruleId) || {};
    const condition = e.condition || rule.condition || "";
    const threshold = e.threshold !== undefined ? num(e.threshold) : "";
    const what = condition ? [rule.type || e.type, condition, threshold].filter(Boolean).join(" ") : threshold && `threshold ${threshold}`;
    const labels = Object.entries(e.labels || {}).map(([k, v]) => `${k}=${v}`).join(", ");
    const since = e.since ? new Date(e.since) : null;
    const active = e.state !== "resolved";
    return el(
      "li",
      { class: "alert", "data-state": e.state, "data-rule": e.ruleId, "data-key": e.key },
      el(
        "div",
        { class: "alert-head" },
        el("span", { class: "badge", "data-status": e.state, text: e.state }),
        el("strong", { text: e.ruleId || "rule" }),
        e.silencedUntil ? el("span", { class: "silenced", text: `silenced until ${new Date(e.silencedUntil).toLocaleTimeString()}` }) : null,
      ),
      el("p", { class: "alert-detail", text: `value ${num(e.value)}${what ? ` · ${what}` : ""}${e.window ? ` · ${e.window}s window` : ""}` }),
      labels ? el("p", { class: "alert-detail muted", text: labels }) : null,
      el(
        "div",
        { class: "alert-foot" },
        since
          ? el("time", { datetime: e.since, title: since.toLocaleString(), text: `${e.state === "resolved" ? "resolved" : "since"} ${since.toLocaleTimeString()}` })
          : null,
        active ? el("button", { type: "button", class: "small", "data-silence": e.key, "aria-label": `Silence ${e.ruleId}`, text: "Silence" }) : null,
      ),
    );
  }
}
