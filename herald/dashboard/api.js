// REST calls with the API key (when auth is on) and herald's {error, detail} error bodies.

const TOKEN_KEY = "herald.token";

export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && body.detail) || (status ? `HTTP ${status}` : "server unreachable");
    super(detail);
    this.status = status;
    this.code = (body && body.error) || "";
    this.detail = detail;
  }

  /** The field a validation error names ("username: …" → "username"), if any. */
  get field() {
    const m = /^([A-Za-z][\w.]*):/.exec(this.detail);
    return m ? m[1] : "";
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let askForKey = null;
let pendingKey = null;

/** `ask(reason)` shows a prompt and resolves with the key the user typed. */
export function onAuthRequired(ask) {
  askForKey = ask;
}

/** Ask once, however many calls are waiting for a key at the same time. */
export function requestKey(reason) {
  if (!askForKey) return Promise.reject(new ApiError(401, { detail: reason }));
  if (!pendingKey) {
    pendingKey = askForKey(token() ? reason : "").then((key) => {
      setToken(key);
      pendingKey = null;
    });
  }
  return pendingKey;
}

/**
 * `api("GET", "api/streams")` → the parsed JSON body. Paths are relative so the page also
 * works behind a proxy under a sub-path. `accept` lists non-2xx statuses that still return.
 */
export async function api(method, path, { body, accept = [] } = {}) {
  for (;;) {
    const headers = { Accept: "application/json" };
    const key = token();
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, { error: "offline", detail: "server unreachable" });
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (res.status === 401 && askForKey) {
      await requestKey((data && data.detail) || "invalid key");
      continue;
    }
    if (!res.ok && !accept.includes(res.status)) throw new ApiError(res.status, data);
    return { status: res.status, data };
  }
}
