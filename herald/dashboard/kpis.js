// Live KPIs, the sentiment timeline, the volume chart and the top keywords and hashtags.
// Every buffer here is bounded: per series a ring of BUCKETS time buckets, at most
// MAX_SERIES series, at most TOPICS_MAX words. Events only update numbers; the panel is
// drawn by the render loop (render.js), a few times a second at most.

import { barChart, lineChart } from "./charts.js";
import { el, itemOf } from "./feed.js";

export const BUCKET_MS = 10_000;
export const BUCKETS = 60; // 10 minutes
export const MAX_SERIES = 100;
export const TOPICS_MAX = 2000;
const TOPICS_KEEP = 500;
const TOPICS_HALF_LIFE_MS = 5 * 60_000;
const TOP_N = 10;
const ALL = "";
const ENGAGEMENT = ["likes", "retweets", "replies", "quotes", "bookmarks", "reposts", "favourites", "reblogs"];
const STOP = new Set(
  ("the and for are but not you all any can her was one our out day get has him his how man new now old see two way " +
    "who boy did its let put say she too use that with have this will your from they know want been good much some " +
    "time very when come here just like long make many over such take than them well were what into more only also " +
    "after about there their would these other which could first being those then where while because should through " +
    "https http www amp rt via").split(" "),
);

/** A ring of time buckets: posts, sentiment sum and count, engagement. */
class Series {
  constructor() {
    this.slots = Array.from({ length: BUCKETS }, () => ({ t: -1, n: 0, s: 0, sn: 0, pos: 0, neg: 0, e: 0 }));
    this.touched = 0;
  }

  slot(ms) {
    const b = Math.floor(ms / BUCKET_MS);
    const slot = this.slots[((b % BUCKETS) + BUCKETS) % BUCKETS];
    if (slot.t !== b) Object.assign(slot, { t: b, n: 0, s: 0, sn: 0, pos: 0, neg: 0, e: 0 });
    return slot;
  }

  /** The last `count` buckets up to `now`, oldest first (empty ones for gaps). */
  window(now, count = BUCKETS) {
    const end = Math.floor(now / BUCKET_MS);
    const out = [];
    for (let b = end - count + 1; b <= end; b += 1) {
      const slot = this.slots[((b % BUCKETS) + BUCKETS) % BUCKETS];
      out.push(slot.t === b ? slot : { t: b, n: 0, s: 0, sn: 0, pos: 0, neg: 0, e: 0 });
    }
    return out;
  }
}

/** Hashtags and words, counted with a half-life so what is trending now wins. */
class Topics {
  constructor() {
    this.counts = new Map();
    this.decayedAt = Date.now();
  }

  add(token) {
    this.counts.set(token, (this.counts.get(token) || 0) + 1);
    if (this.counts.size > TOPICS_MAX) this.prune(TOPICS_KEEP);
  }

  prune(keep) {
    const top = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, keep);
    this.counts = new Map(top);
  }

  decay(now) {
    const factor = 0.5 ** ((now - this.decayedAt) / TOPICS_HALF_LIFE_MS);
    this.decayedAt = now;
    for (const [token, n] of this.counts) {
      const left = n * factor;
      if (left < 0.25) this.counts.delete(token);
      else this.counts.set(token, left);
    }
  }

  top(n = TOP_N) {
    return [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  }
}

const TOKEN = /#[\p{L}\p{N}_]{2,}|@[\w]+|[\p{L}][\p{L}\p{N}'’-]{2,}/gu;

/** The text a post-like item carries, or "" (followers, trades). */
function textOf(item) {
  for (const name of ["text", "title"]) if (typeof item[name] === "string" && item[name]) return item[name];
  return "";
}

function engagementOf(ev) {
  const delta = ev.delta && typeof ev.delta === "object" ? ev.delta : null;
  if (!delta) return 0;
  let sum = 0;
  for (const name of ENGAGEMENT) if (typeof delta[name] === "number" && delta[name] > 0) sum += delta[name];
  return sum;
}

export class Insights {
  constructor() {
    this.series = new Map([[ALL, new Series()]]);
    this.hashtags = new Topics();
    this.words = new Topics();
    this.scored = 0; // posts with a sentiment score seen so far
  }

  seriesFor(streamId) {
    let s = this.series.get(streamId);
    if (!s) {
      if (this.series.size > MAX_SERIES) {
        const [oldest] = [...this.series].filter(([k]) => k !== ALL).sort((a, b) => a[1].touched - b[1].touched)[0];
        this.series.delete(oldest);
      }
      s = new Series();
      this.series.set(streamId, s);
    }
    return s;
  }

  /** Count one event; true when it changed anything shown. */
  add(ev) {
    const found = itemOf(ev);
    const when = Math.min(Date.parse(ev.detectedAt) || Date.now(), Date.now());
    if (Date.now() - when > BUCKETS * BUCKET_MS) return false;
    const series = ev.streamId ? [this.series.get(ALL), this.seriesFor(ev.streamId)] : [this.series.get(ALL)];
    if (ev.type === "stream:tweet:metrics") {
      const e = engagementOf(ev);
      if (!e) return false;
      for (const s of series) {
        s.slot(when).e += e;
        s.touched = when;
      }
      return true;
    }
    if (!found || !String(ev.type).endsWith(":new")) return false;
    const text = textOf(found.item);
    if (!text) return false;
    const sentiment = found.item.sentiment;
    const score = sentiment && typeof sentiment.compound === "number" ? sentiment.compound : null;
    if (score !== null) this.scored += 1;
    for (const s of series) {
      const slot = s.slot(when);
      slot.n += 1;
      if (score !== null) {
        slot.s += score;
        slot.sn += 1;
        if (sentiment.label === "positive") slot.pos += 1;
        else if (sentiment.label === "negative") slot.neg += 1;
      }
      s.touched = when;
    }
    const tokens = text.slice(0, 500).replace(/https?:\/\/\S+/g, " ").match(TOKEN) || [];
    // Each post counts once per word: a hashtag repeated in one post is not a trend.
    for (const token of new Set(tokens.slice(0, 40).map((t) => t.toLowerCase()))) {
      if (token[0] === "#") this.hashtags.add(token);
      else if (token[0] !== "@" && token.length > 3 && !STOP.has(token)) this.words.add(token);
    }
    return true;
  }

  /** Figures for the KPI cards: the last minute of `streamId` (or every stream). */
  kpis(streamId = ALL, now = Date.now()) {
    const s = this.series.get(streamId) || new Series();
    const minute = s.window(now, 60_000 / BUCKET_MS);
    const five = s.window(now, (5 * 60_000) / BUCKET_MS);
    const sum = (list, key) => list.reduce((a, b) => a + b[key], 0);
    const sn = sum(five, "sn");
    return {
      postsPerMin: sum(minute, "n"),
      sentiment: sn ? sum(five, "s") / sn : null,
      scored: sn,
      positive: sum(five, "pos"),
      negative: sum(five, "neg"),
      engagementPerMin: sum(minute, "e"),
    };
  }

  /** Buffer sizes, for the tests: every one of them has a cap. */
  sizes() {
    return {
      series: this.series.size,
      buckets: Math.max(...[...this.series.values()].map((s) => s.slots.length)),
      hashtags: this.hashtags.counts.size,
      words: this.words.counts.size,
    };
  }
}

// --- drawing ----------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function signed(x) {
  return `${x > 0 ? "+" : x < 0 ? "−" : ""}${Math.abs(x).toFixed(2)}`;
}

function mood(x) {
  if (x === null) return "none";
  return x >= 0.05 ? "positive" : x <= -0.05 ? "negative" : "neutral";
}

function card(id, value, note, state) {
  const node = $(id);
  node.querySelector(".kpi-value").textContent = value;
  node.querySelector(".kpi-note").textContent = note;
  if (state) node.dataset.mood = state;
}

/** Redraw the KPI cards, the two charts and the top lists for the chosen scope. */
export function drawInsights(insights, scopeLabel) {
  const scope = $("insight-scope").value;
  const now = Date.now();
  const k = insights.kpis(scope, now);
  card("kpi-posts", k.postsPerMin.toLocaleString(), "posts in the last minute");
  card(
    "kpi-sentiment",
    k.sentiment === null ? "—" : signed(k.sentiment),
    k.sentiment === null ? "no scored posts in 5 min" : `${k.scored} scored in 5 min · ${k.positive} positive, ${k.negative} negative`,
    mood(k.sentiment),
  );
  card("kpi-engagement", k.engagementPerMin.toLocaleString(), "likes, reposts and replies gained in the last minute");

  const series = insights.series.get(scope);
  const buckets = series ? series.window(now) : [];
  const who = scopeLabel(scope);
  const counts = buckets.map((b) => b.n);
  const total = counts.reduce((a, b) => a + b, 0);
  $("volume-chart").replaceChildren(
    barChart(counts.length ? counts : [0], {
      width: 360,
      height: 70,
      fluid: true,
      label: `${who}: ${total} posts in the last 10 minutes, in 10-second bars`,
    }),
  );
  const points = buckets.map((b) => (b.sn ? b.s / b.sn : null));
  const scored = points.filter((p) => p !== null);
  $("sentiment-chart").replaceChildren(
    lineChart(points.length ? points : [null], {
      width: 360,
      height: 70,
      min: -1,
      max: 1,
      label: scored.length
        ? `${who}: average sentiment per 10 seconds, latest ${signed(scored[scored.length - 1])}`
        : `${who}: no scored posts in the last 10 minutes`,
    }),
  );
  insights.hashtags.decay(now);
  insights.words.decay(now);
  drawTop($("top-hashtags"), insights.hashtags.top(), "No hashtags yet.");
  drawTop($("top-words"), insights.words.top(), "No keywords yet.");
}

function drawTop(list, entries, empty) {
  if (!entries.length) {
    list.replaceChildren(el("li", { class: "muted", text: empty }));
    return;
  }
  const peak = entries[0][1];
  list.replaceChildren(
    ...entries.map(([token, n]) =>
      el(
        "li",
        { "data-token": token },
        el("span", { class: "token", text: token }),
        el("span", { class: "count", text: String(Math.round(n)) }),
        el("span", { class: "meter", style: `width: ${Math.max(4, Math.round((n / peak) * 100))}%`, "aria-hidden": "true" }),
      ),
    ),
  );
}
