// Rendering events. Everything that came from the network goes through textContent:
// posts are untrusted input and are never parsed as HTML. An event's item is found by the
// catalog's payload keys (tweet, mention, post, entry…) and rendered by its fields.

import { catalog, eventGroup } from "./catalog.js";

/** A DOM element: el("p", {class: "x", text: "hi"}, child, …). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Only http(s) links are followed; anything else (javascript:, data:) is dropped. */
export function safeUrl(raw) {
  try {
    const url = new URL(String(raw));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** The feed's filter group of an event type: `stream:<group>:…`, error, gap, lifecycle. */
export function category(type) {
  return eventGroup(type);
}

/** The item an event carries, under the first payload key of the catalog it has. */
export function itemOf(ev) {
  for (const key of catalog.payloadKeys) {
    const item = ev[key];
    if (item && typeof item === "object" && !Array.isArray(item)) return { key, item };
  }
  return null;
}

/** A target as people write it: `@nasa` for a handle, a URL or a query as it is. */
export function showTarget(value) {
  const text = String(value ?? "");
  return /^[A-Za-z0-9_]+$/.test(text) ? `@${text}` : text;
}

const capital = (word) => (word ? word[0].toUpperCase() + word.slice(1) : "");
const firstText = (item, names) => names.map((n) => item[n]).find((v) => typeof v === "string" && v) || "";

function hostOf(url) {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

// Formatters are made once: building one per item costs more than the rest of the item.
const TIME = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const DAY_TIME = new Intl.DateTimeFormat([], { dateStyle: "medium", timeStyle: "short" });
const FULL = new Intl.DateTimeFormat([], { dateStyle: "short", timeStyle: "medium" });
let today = "";
let todayUntil = 0;

function isToday(date) {
  if (Date.now() >= todayUntil) {
    const now = new Date();
    today = now.toDateString();
    todayUntil = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1).getTime();
  }
  return date.toDateString() === today;
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return isToday(date) ? TIME.format(date) : DAY_TIME.format(date);
}

function time(iso, prefix = "") {
  if (!iso) return null;
  const label = formatTime(iso);
  return label ? el("time", { datetime: iso, title: FULL.format(new Date(iso)), text: prefix + label }) : null;
}

const at = (name) => (name ? `@${name}` : "");
const number = (n) => (typeof n === "number" ? n.toLocaleString() : "?");

function post(ev, item, kind) {
  const url = safeUrl(item.url || item.link);
  const author = typeof item.author === "string" ? item.author : "";
  const handle = author && !/\s/.test(author) ? at(author) : author;
  const text = firstText(item, ["text", "title", "summary"]);
  const more = item.title && item.summary ? item.summary : "";
  return [
    el(
      "div",
      { class: "ev-head" },
      el("span", { class: "kind", text: kind }),
      el(
        "span",
        { class: "who" },
        item.authorName ? el("strong", { text: item.authorName }) : null,
        el("span", { class: "handle", text: handle }),
      ),
      time(item.timestamp || item.published || ev.detectedAt),
    ),
    el("p", { class: "ev-text", text }),
    more ? el("p", { class: "ev-text muted", text: more }) : null,
    el(
      "div",
      { class: "ev-foot" },
      el("span", { class: "muted", text: `stream ${showTarget(ev.target ?? ev.username)}` }),
      url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: `Open on ${hostOf(url)}` }) : null,
    ),
  ];
}

/** An item with no text (a follower): who it is, and whose stream it is new on. */
function person(ev, key, item) {
  const name = item.name ? ` (${item.name})` : "";
  const who = showTarget(ev.target ?? ev.username);
  return line(ev, `New ${key}`, `${at(item.username || item.author || item.id)}${name} — new ${key} of ${who}`);
}

function item(ev, key, it) {
  if (firstText(it, ["text", "title", "summary"])) {
    return post(ev, it, it.isRetweet ? "Retweet" : capital(key));
  }
  return person(ev, key, it);
}

function line(ev, kind, text) {
  return [
    el("div", { class: "ev-head" }, el("span", { class: "kind", text: kind }), el("span", { class: "who", text }), time(ev.detectedAt)),
  ];
}

const LIFECYCLE = {
  "stream:started": "started",
  "stream:paused": "paused",
  "stream:resumed": "resumed",
  "stream:updated": "updated",
  "stream:stopped": "stopped",
};

function body(ev) {
  const who = showTarget(ev.target ?? ev.username);
  switch (ev.type) {
    case "stream:follower:lost":
      return line(ev, "Unfollow", `${at((ev.unfollower || {}).username)} unfollowed ${who}`);
    case "stream:follower:count": {
      const delta = typeof ev.delta === "number" ? ` (${ev.delta >= 0 ? "+" : ""}${ev.delta})` : "";
      return line(ev, "Followers", `${who} has ${number(ev.followersCount)} followers${delta}`);
    }
    case "stream:error": {
      const nodes = line(ev, ev.notice ? "Notice" : "Error", ev.notice ? `Poll of ${who}` : `Poll of ${who} failed`);
      const detail = [ev.kind, ev.consecutiveErrors ? `${ev.consecutiveErrors} in a row` : ""].filter(Boolean).join(" · ");
      nodes.push(el("p", { class: "ev-text" }, String(ev.error || "unknown error"), detail ? el("span", { class: "muted", text: ` (${detail})` }) : null));
      return nodes;
    }
    case "alert:firing":
    case "alert:resolved": {
      const a = ev.alert || {};
      const firing = ev.type === "alert:firing";
      const value = typeof a.value === "number" ? ` at ${Math.round(a.value * 100) / 100}` : "";
      const threshold = a.threshold !== undefined ? ` (threshold ${a.threshold})` : "";
      return line(ev, firing ? "Alert firing" : "Alert resolved", `${a.ruleId || "rule"}${value}${threshold}`);
    }
    case "stream:tweet:metrics": {
      const delta = ev.delta && typeof ev.delta === "object" ? ev.delta : {};
      const changes = Object.entries(delta)
        .filter(([, n]) => typeof n === "number" && n)
        .map(([k, n]) => `${n > 0 ? "+" : ""}${n.toLocaleString()} ${k}`);
      const id = (ev.tweet && ev.tweet.id) || "";
      return line(ev, "Engagement", `${who}: tweet ${id} ${changes.join(", ") || "changed"}`);
    }
    case "stream:gap": {
      const missed = typeof ev.missed === "number" ? ` (at least ${number(ev.missed)} missed)` : "";
      return line(ev, "Gap", `${who}: ${ev.reason || "not everything could be read"}${missed}`);
    }
    default: {
      const found = LIFECYCLE[ev.type] ? null : itemOf(ev);
      if (found) return item(ev, found.key, found.item);
      const what = LIFECYCLE[ev.type] || ev.type || "event";
      const extra = ev.reason ? ` — ${ev.reason}` : Array.isArray(ev.changed) && ev.changed.length ? ` — ${ev.changed.join(", ")}` : "";
      return line(ev, "Stream", `${who} ${ev.streamType || ""} stream ${what}${extra}`);
    }
  }
}

export function renderEvent(ev) {
  const cat = category(ev.type);
  return el("li", { class: `ev ev-${cat}`, "data-type": ev.type || "", "data-stream": ev.streamId || "" }, ...body(ev));
}
