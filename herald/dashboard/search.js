// Search the archive (GET /api/search): every event herald kept, also those the live feed
// and the capped log no longer hold. Highlights arrive as <mark>…</mark> around matches;
// they are rebuilt as DOM nodes, never parsed as HTML, so an event's text stays text.

import { ApiError, api } from "./api.js";
import { el } from "./feed.js";
import { $ } from "./state.js";

const MARK = /<mark>([\s\S]*?)<\/mark>/g;
const PAGE = 20;

/** The highlight as text nodes and <mark> elements. */
export function highlighted(text) {
  const nodes = [];
  let last = 0;
  for (const m of String(text).matchAll(MARK)) {
    if (m.index > last) nodes.push(document.createTextNode(text.slice(last, m.index)));
    nodes.push(el("mark", { text: m[1] }));
    last = m.index + m[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function hitRow(hit) {
  const ev = hit.event || {};
  const when = ev.detectedAt ? new Date(ev.detectedAt) : null;
  return el(
    "li",
    { class: "search-hit", "data-event-id": ev.eventId },
    el(
      "div",
      { class: "search-meta muted" },
      el("time", { datetime: ev.detectedAt, text: when ? when.toLocaleString() : "" }),
      ` · ${ev.type || ""} · ${ev.streamId || ""}`,
    ),
    el("p", { class: "search-text" }, ...highlighted(hit.highlight || "")),
  );
}

export class SearchPanel {
  constructor() {
    this.query = "";
    this.cursor = null;
    this.busy = false;
  }

  install() {
    $("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.run(true);
    });
    $("search-more").addEventListener("click", () => this.run(false));
  }

  async run(fresh) {
    if (this.busy) return;
    if (fresh) {
      this.query = $("search-q").value.trim();
      this.cursor = null;
      $("search-results").replaceChildren();
    }
    const params = new URLSearchParams({ q: this.query, limit: String(PAGE) });
    if (this.cursor) params.set("cursor", this.cursor);
    this.busy = true;
    $("search-note").hidden = true;
    $("search-status").textContent = "searching…";
    try {
      const { data } = await api("GET", `api/search?${params}`);
      $("search-results").append(...data.results.map(hitRow));
      this.cursor = data.cursor;
      const shown = $("search-results").children.length;
      $("search-status").textContent = shown
        ? `${shown} result${shown === 1 ? "" : "s"}${data.cursor ? " so far" : ""}`
        : "no archived event matches";
      $("search-more").hidden = !data.cursor;
    } catch (err) {
      const note = $("search-note");
      note.textContent = err instanceof ApiError ? err.detail : String(err);
      note.hidden = false;
      $("search-status").textContent = "";
      $("search-more").hidden = true;
    } finally {
      this.busy = false;
    }
  }
}
