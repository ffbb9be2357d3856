// "N watching": live clients on every node (GET api/presence), polled every few seconds and
// as soon as this page's own connection comes up (it counts itself).

import { ApiError, api } from "./api.js";

const POLL_MS = 5_000;

export class PresencePill {
  constructor(node) {
    this.node = node;
    this.timer = 0;
    this.watching = null;
  }

  start() {
    this.poll();
  }

  async poll() {
    clearTimeout(this.timer);
    try {
      const { data } = await api("GET", "api/presence");
      this.watching = Number(data.watching) || 0;
      const t = data.transports || {};
      this.node.hidden = false;
      this.node.dataset.state = "ok";
      this.node.textContent = `${this.watching.toLocaleString()} watching`;
      const parts = Object.entries(t).map(([name, n]) => `${name} ${n}`);
      this.node.title = `Live connections on ${data.nodes} node${data.nodes === 1 ? "" : "s"}: ${parts.join(", ")}`;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        this.node.hidden = true; // a herald without presence: nothing to show
        return;
      }
      this.node.dataset.state = "unknown";
      this.node.textContent = "watching: ?";
      this.node.title = `Presence unavailable: ${err instanceof ApiError ? err.detail : err}`;
    }
    this.timer = setTimeout(() => this.poll(), POLL_MS);
  }
}
