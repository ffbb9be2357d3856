// The start form: type picker from the catalog, the target field that follows the type,
// checks before sending, and the server's refusals shown next to the field they name.

import { ApiError, api } from "./api.js";
import { catalog, eventGroups, targetLabel, targetRule } from "./catalog.js";
import { el } from "./feed.js";
import { $, state, targetOf, toast } from "./state.js";

const INTERVAL_MIN = 15;
const INTERVAL_MAX = 3600;
const FORM_FIELDS = ["username", "type", "interval", "authToken"];
const FIELD_OF = { target: "username" }; // the API's name → the form's field

function fieldError(name, message) {
  const input = $("start-form").elements[name];
  const out = $(`e-${name}`);
  out.textContent = message || "";
  if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
}

function clearErrors() {
  FORM_FIELDS.forEach((name) => fieldError(name, ""));
  $("e-form").textContent = "";
}

function chosenType() {
  return catalog.byName.get($("f-type").value) || null;
}

/** The type picker lists the catalog; the target field's label and placeholder follow it. */
export function fillTypePicker() {
  const select = $("f-type");
  const current = select.value;
  select.replaceChildren(
    ...catalog.types.map((t) => el("option", { value: t.type, title: t.target.description, text: `${t.type} — ${t.summary}` })),
  );
  if (catalog.byName.has(current)) select.value = catalog.byName.get(current).type;
  followType();
  const groups = $("filter-type");
  const chosen = groups.value;
  const names = { alert: "alerts", error: "errors", gap: "gaps", lifecycle: "lifecycle" };
  groups.replaceChildren(
    el("option", { value: "", text: "all types" }),
    ...eventGroups().map((g) => el("option", { value: g, text: names[g] || `${g}s` })),
  );
  groups.value = chosen;
}

function followType() {
  const entry = chosenType();
  const input = $("f-username");
  $("l-username").textContent = targetLabel(entry);
  input.placeholder = entry ? entry.target.example : "";
  $("h-username").textContent = entry ? entry.target.description : "";
}

function checkForm(form) {
  const errors = {};
  const entry = chosenType();
  const label = targetLabel(entry).toLowerCase();
  const target = form.elements.username.value.trim();
  const rule = targetRule(entry);
  if (!entry) errors.type = "Choose a stream type.";
  if (!target) errors.username = `Enter a ${label}.`;
  else if (rule && !rule.test(target)) errors.username = `Expected ${entry.target.description}.`;
  const raw = form.elements.interval.value.trim();
  const interval = Number(raw);
  if (raw !== "" && (!Number.isFinite(interval) || interval < INTERVAL_MIN || interval > INTERVAL_MAX)) {
    errors.interval = `Between ${INTERVAL_MIN} and ${INTERVAL_MAX} seconds.`;
  }
  const body = {
    type: form.elements.type.value,
    target,
    interval: raw === "" ? undefined : interval,
    authToken: form.elements.authToken.value.trim() || undefined,
  };
  return { errors, body };
}

/** The start form; `refresh()` reloads the table, `catalogReady` is the catalog's load. */
export function installForm({ refresh, catalogReady }) {
  $("f-type").addEventListener("change", followType);
  $("start-form").addEventListener("submit", (event) => submit(event, refresh, catalogReady));
}

async function submit(event, refresh, catalogReady) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors();
  if (!catalog.types.length) await catalogReady;
  const { errors, body } = checkForm(form);
  const bad = FORM_FIELDS.filter((name) => errors[name]);
  if (bad.length) {
    bad.forEach((name) => fieldError(name, errors[name]));
    form.elements[bad[0]].focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const { data } = await api("POST", "api/streams/start", { body });
    toast(`Started ${targetOf(data)} (${data.type})`);
    form.elements.username.value = "";
    form.elements.authToken.value = "";
    state.labels.set(data.id, `${targetOf(data)} (${data.type})`);
    await refresh();
  } catch (err) {
    const named = err instanceof ApiError ? FIELD_OF[err.field] || err.field : "";
    const field = FORM_FIELDS.includes(named) ? named : "";
    const message = err instanceof ApiError ? err.detail : String(err);
    if (field) {
      fieldError(field, message);
      form.elements[field].focus();
    } else {
      $("e-form").textContent = message;
    }
  } finally {
    button.disabled = false;
  }
}
