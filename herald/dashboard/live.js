// The real-time connection: WebSocket /ws, resumed from the last offset after any drop.

import { requestKey, token } from "./api.js";

const PREFIX = "events:stream:v1:";
const OFFSET_KEY = "herald.offset";
const SUB_ID = "dashboard";
const MAX_BACKOFF_MS = 10_000;
// Heartbeats come every HERALD_HEARTBEAT_INTERVAL (15 s by default); three missed = dead.
const SILENCE_MS = 45_000;

const CLOSE_REASONS = {
  1001: "server going away",
  1006: "connection lost",
  1012: "server restarting",
  4008: "too slow; resuming",
  4408: "idle timeout",
};

/** Redis stream ids ("1700000000000-3") compare as (ms, seq). */
export function compareOffsets(a, b) {
  const [am, as = "0"] = String(a).split("-");
  const [bm, bs = "0"] = String(b).split("-");
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

export class Live {
  /** onEvent(body); onState(state, info) with state "connecting" | "live" | "offline". */
  constructor({ onEvent, onState }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.silenceTimer = 0;
    this.offset = sessionStorage.getItem(OFFSET_KEY) || "";
    window.addEventListener("online", () => this.retryNow());
  }

  start() {
    this.connect();
  }

  retryNow() {
    if (this.ws) return;
    this.attempt = 0;
    this.connect();
  }

  remember(offset) {
    if (!offset || (this.offset && compareOffsets(offset, this.offset) <= 0)) return;
    this.offset = offset;
    sessionStorage.setItem(OFFSET_KEY, offset);
  }

  connect() {
    clearTimeout(this.retryTimer);
    const url = new URL("ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const key = token();
    if (key) url.searchParams.set("token", key);
    this.onState("connecting", {});
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.retryLater("cannot open a WebSocket");
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const payload = this.offset ? { since: this.offset } : {};
      ws.send(JSON.stringify({ type: PREFIX + "requested", id: SUB_ID, payload }));
      this.watch(ws);
    };
    ws.onmessage = (message) => {
      if (this.ws !== ws) return;
      this.watch(ws);
      let msg;
      try {
        msg = JSON.parse(message.data);
      } catch {
        return;
      }
      this.handle(ws, msg);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearTimeout(this.silenceTimer);
      if (event.code === 4401) {
        this.onState("offline", { reason: "API key refused" });
        requestKey(event.reason || "invalid key").then(() => this.connect());
        return;
      }
      this.retryLater(CLOSE_REASONS[event.code] || event.reason || "connection closed");
    };
  }

  handle(ws, msg) {
    const payload = msg.payload || {};
    switch (msg.type) {
      case PREFIX + "started":
        this.attempt = 0;
        if (!this.offset) this.remember(payload.offset);
        this.onState("live", { recovered: payload.recovered !== false });
        break;
      case PREFIX + "stream":
        this.remember(payload.offset);
        this.onEvent(payload);
        break;
      case PREFIX + "heartbeat":
        break;
      case PREFIX + "success": // the server ended our subscription: start over from our offset
      case PREFIX + "error":
        this.drop(ws, payload.detail || payload.reason || "subscription ended");
        break;
      default:
        break;
    }
  }

  /** Restart the silence watchdog: no message (not even a heartbeat) for too long = dead. */
  watch(ws) {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.drop(ws, "no heartbeat"), SILENCE_MS);
  }

  drop(ws, reason) {
    if (this.ws !== ws) return;
    this.ws = null;
    clearTimeout(this.silenceTimer);
    try {
      ws.close(4000, "client reconnecting");
    } catch {
      /* already closed */
    }
    this.retryLater(reason);
  }

  retryLater(reason) {
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    this.attempt += 1;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.onState("offline", { reason, retryAt: Date.now() + delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
