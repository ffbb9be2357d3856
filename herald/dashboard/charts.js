// Small inline-SVG charts: a bar chart of events per minute and a sparkline.

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function frame(width, height, label) {
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": label,
    class: "chart",
  });
  const title = svg("title");
  title.textContent = label;
  root.append(title);
  return root;
}

/** Count timestamps (ms) per minute over the last `minutes` minutes, oldest first. */
export function perMinute(timestamps, minutes = 30, now = Date.now()) {
  const bins = new Array(minutes).fill(0);
  const end = Math.floor(now / 60_000);
  for (const ts of timestamps) {
    const age = end - Math.floor(ts / 60_000);
    if (age >= 0 && age < minutes) bins[minutes - 1 - age] += 1;
  }
  return bins;
}

export function barChart(values, { width = 124, height = 34, label = "", fluid = false } = {}) {
  const root = frame(width, height, label);
  if (fluid) {
    root.setAttribute("width", "100%");
    root.setAttribute("preserveAspectRatio", "none");
  }
  const max = Math.max(1, ...values);
  const slot = width / values.length;
  root.append(svg("line", { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: "axis" }));
  values.forEach((value, i) => {
    if (!value) return;
    const h = Math.max(2, (value / max) * (height - 4));
    const bar = svg("rect", {
      x: (i * slot + 0.5).toFixed(1),
      y: (height - 1 - h).toFixed(1),
      width: Math.max(1, slot - 1.5).toFixed(1),
      height: h.toFixed(1),
      rx: 1,
      class: i === values.length - 1 ? "bar now" : "bar",
    });
    root.append(bar);
  });
  return root;
}

export function sparkline(values, { width = 96, height = 30, label = "" } = {}) {
  const root = frame(width, height, label);
  if (values.length === 0) {
    root.append(svg("line", { x1: 2, y1: height / 2, x2: width - 2, y2: height / 2, class: "axis dashed" }));
    return root;
  }
  const max = Math.max(...values);
  const min = Math.min(...values);
  const span = max - min || 1;
  const pad = 3;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  const points = values.map((v, i) => [
    pad + i * step,
    height - pad - ((v - min) / span) * (height - 2 * pad),
  ]);
  if (points.length === 1) points.unshift([pad, points[0][1]]);
  const d = points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
  root.append(svg("path", { d, class: "spark" }));
  const [lx, ly] = points[points.length - 1];
  root.append(svg("circle", { cx: lx.toFixed(1), cy: ly.toFixed(1), r: 2.5, class: "spark-dot" }));
  return root;
}

/**
 * A line over fixed bounds (sentiment: -1…1) with a zero line; null values are gaps, and a
 * lone point between gaps is a dot.
 */
export function lineChart(values, { width = 360, height = 70, min = -1, max = 1, label = "" } = {}) {
  const root = frame(width, height, label);
  root.setAttribute("width", "100%");
  root.setAttribute("preserveAspectRatio", "none");
  const pad = 4;
  const y = (v) => pad + ((max - Math.min(max, Math.max(min, v))) / (max - min)) * (height - 2 * pad);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  root.append(svg("line", { x1: 0, y1: y(0).toFixed(1), x2: width, y2: y(0).toFixed(1), class: "axis dashed zero" }));
  let d = "";
  let run = 0;
  const dots = [];
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      run = 0;
      return;
    }
    const point = `${(i * step).toFixed(1)},${y(v).toFixed(1)}`;
    d += `${run ? "L" : "M"}${point}`;
    run += 1;
    const next = values[i + 1];
    if (run === 1 && (next === null || next === undefined)) dots.push([i * step, y(v)]);
  });
  if (d) root.append(svg("path", { d, class: "spark", "vector-effect": "non-scaling-stroke" }));
  for (const [cx, cy] of dots) root.append(svg("circle", { cx: cx.toFixed(1), cy: cy.toFixed(1), r: 2, class: "spark-dot" }));
  return root;
}
