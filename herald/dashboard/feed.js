// Rendering events. Everything that came from the network goes through textContent:
// tweets are untrusted input and are never parsed as HTML.

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

/** The feed's filter groups: tweet, mention, follower, error, lifecycle. */
export function category(type) {
  if (type === "stream:tweet:new") return "tweet";
  if (type === "stream:mention:new") return "mention";
  if (type && type.startsWith("stream:follower:")) return "follower";
  if (type === "stream:error") return "error";
  return "lifecycle";
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function time(iso, prefix = "") {
  if (!iso) return null;
  const label = formatTime(iso);
  return label ? el("time", { datetime: iso, title: new Date(iso).toLocaleString(), text: prefix + label }) : null;
}

const at = (name) => (name ? `@${name}` : "");
const number = (n) => (typeof n === "number" ? n.toLocaleString() : "?");

function post(ev, item, kind) {
  const url = safeUrl(item.url);
  return [
    el(
      "div",
      { class: "ev-head" },
      el("span", { class: "kind", text: kind }),
      el(
        "span",
        { class: "who" },
        item.authorName ? el("strong", { text: item.authorName }) : null,
        el("span", { class: "handle", text: at(item.author) }),
      ),
      time(item.timestamp || ev.detectedAt),
    ),
    el("p", { class: "ev-text", text: item.text || "" }),
    el(
      "div",
      { class: "ev-foot" },
      el("span", { class: "muted", text: `stream ${at(ev.username)}` }),
      url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: "Open on X" }) : null,
    ),
  ];
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
  const who = at(ev.username);
  switch (ev.type) {
    case "stream:tweet:new":
      return post(ev, ev.tweet || {}, ev.tweet && ev.tweet.isRetweet ? "Retweet" : "Tweet");
    case "stream:mention:new":
      return post(ev, ev.mention || {}, "Mention");
    case "stream:follower:new": {
      const f = ev.follower || {};
      return line(ev, "New follower", `${at(f.username)}${f.name ? ` (${f.name})` : ""} followed ${who}`);
    }
    case "stream:follower:lost":
      return line(ev, "Unfollow", `${at((ev.unfollower || {}).username)} unfollowed ${who}`);
    case "stream:follower:count": {
      const delta = typeof ev.delta === "number" ? ` (${ev.delta >= 0 ? "+" : ""}${ev.delta})` : "";
      return line(ev, "Followers", `${who} has ${number(ev.followersCount)} followers${delta}`);
    }
    case "stream:error": {
      const nodes = line(ev, "Error", `Poll of ${who} failed`);
      const detail = [ev.kind, ev.consecutiveErrors ? `${ev.consecutiveErrors} in a row` : ""].filter(Boolean).join(" · ");
      nodes.push(el("p", { class: "ev-text" }, String(ev.error || "unknown error"), detail ? el("span", { class: "muted", text: ` (${detail})` }) : null));
      return nodes;
    }
    default: {
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
