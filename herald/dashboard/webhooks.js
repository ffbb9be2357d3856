// The webhooks panel: endpoints (GET api/webhooks) with their health, deliveries and last
// attempts; adding one (POST api/webhooks: its secret is shown once, here, and never again);
// enabling and disabling (PATCH). Managing webhooks needs an admin key: a 403 says so.

import { ApiError, api } from "./api.js";
import { el } from "./feed.js";

const POLL_MS = 10_000;
const ATTEMPTS_SHOWN = 5;
const $ = (id) => document.getElementById(id);

export class WebhooksPanel {
  /** `toast(message, kind)` reports outcomes. */
  constructor({ toast }) {
    this.toast = toast;
    this.hooks = [];
    this.attempts = new Map(); // id → the newest attempts
    this.loading = null;
  }

  start() {
    $("webhook-form").addEventListener("submit", (event) => this.submit(event));
    $("webhooks-list").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-toggle]");
      if (button) this.toggle(button.dataset.toggle, button.dataset.enable === "true", button);
    });
    $("webhook-secret-done").addEventListener("click", () => {
      $("webhook-secret-box").hidden = true;
      $("webhook-secret").textContent = "";
    });
    this.load();
    setInterval(() => this.load(), POLL_MS);
  }

  /** A webhook:health event: the panel reloads at once. */
  onEvent(ev) {
    if (ev.type === "webhook:health") this.load();
  }

  async load() {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        const { data } = await api("GET", "api/webhooks");
        this.hooks = (data && data.webhooks) || [];
        await Promise.all(this.hooks.map((hook) => this.loadAttempts(hook.id)));
        $("webhooks-note").hidden = true;
      } catch (err) {
        const forbidden = err instanceof ApiError && err.status === 403;
        this.note(forbidden ? "Webhooks need an admin API key." : `Could not load webhooks: ${err instanceof ApiError ? err.detail : err}`);
      } finally {
        this.loading = null;
        this.draw();
      }
    })();
    return this.loading;
  }

  async loadAttempts(id) {
    const { data } = await api("GET", `api/webhooks/${encodeURIComponent(id)}/attempts?limit=${ATTEMPTS_SHOWN}`);
    this.attempts.set(id, (data && data.attempts) || []);
  }

  note(text) {
    const node = $("webhooks-note");
    node.textContent = text;
    node.hidden = false;
  }

  async submit(event) {
    event.preventDefault();
    const error = $("e-webhook");
    error.textContent = "";
    const body = { url: $("w-url").value.trim(), format: $("w-format").value };
    const types = $("w-types").value.split(",").map((t) => t.trim()).filter(Boolean);
    if (types.length) body.selector = { types };
    try {
      const { data } = await api("POST", "api/webhooks", { body });
      $("webhook-secret").textContent = data.secret;
      $("webhook-secret-box").hidden = false;
      $("webhook-form").reset();
      this.toast(`Webhook ${data.id} added`, "ok");
      await this.load();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.detail : String(err);
    }
  }

  async toggle(id, enable, button) {
    button.disabled = true;
    try {
      await api("PATCH", `api/webhooks/${encodeURIComponent(id)}`, { body: { enabled: enable } });
      this.toast(`Webhook ${id} ${enable ? "enabled" : "disabled"}`, "ok");
      await this.load();
    } catch (err) {
      this.toast(err instanceof ApiError ? err.detail : String(err), "error");
    } finally {
      button.disabled = false;
    }
  }

  draw() {
    const list = $("webhooks-list");
    $("webhooks-empty").hidden = this.hooks.length > 0;
    list.replaceChildren(...this.hooks.map((hook) => this.item(hook)));
  }

  item(hook) {
    const status = hook.status || {};
    const health = hook.enabled ? status.failing ? "failing" : status.health || "ok" : "disabled";
    const failing = status.failing;
    const detail = [`${hook.format}`, `${status.delivered || 0} delivered`];
    if (failing) detail.push(`retrying (${failing.attempts} tries): ${failing.lastError || "failed"}`);
    if (!hook.enabled && hook.disabledReason) detail.push(hook.disabledReason);
    const attempts = (this.attempts.get(hook.id) || []).map((a) =>
      el("li", {
        class: a.status && a.status < 300 ? "ok" : "bad",
        text: `${a.status || "—"} · ${Math.round(a.latencyMs || 0)} ms${a.error ? ` · ${a.error}` : ""}`,
      }),
    );
    return el(
      "li",
      { class: "webhook", "data-webhook": hook.id, "data-state": health },
      el(
        "div",
        { class: "webhook-head" },
        el("span", { class: "webhook-url", text: hook.url }),
        el("span", { class: "badge", "data-status": health, text: health }),
      ),
      el("p", { class: "muted small-note", text: detail.join(" · ") }),
      el("ol", { class: "attempts", "aria-label": "Last attempts" }, ...attempts),
      el("button", {
        type: "button",
        class: "small",
        "data-toggle": hook.id,
        "data-enable": String(!hook.enabled),
        text: hook.enabled ? "Disable" : "Enable",
      }),
    );
  }
}
