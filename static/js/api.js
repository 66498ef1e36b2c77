// Talking to /api/v1/: the session cookie, the CSRF header, JSON both ways.

import { cacheGet, cachePut } from "./store.js";

// No answer came back: no connection, or (timedOut) a server that took the request and never answered.
export class NetworkError extends Error {
  constructor(message, { timedOut = false } = {}) {
    super(message);
    this.timedOut = timedOut;
  }
}

// A stalled answer must not hold the outbox (and its lock) for ever; a retry is safe, every record has its uuid.
const TIMEOUT_MS = 20000;

function cookie(name) {
  const hit = document.cookie.split("; ").find((part) => part.startsWith(`${name}=`));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

// Pages read the cookie and leave a copy for the service worker, which can't.
export async function csrfToken() {
  if (typeof document !== "undefined") {
    const token = cookie("csrftoken");
    if (token) {
      cachePut("csrftoken", token).catch(() => {});
      return token;
    }
  }
  return (await cacheGet("csrftoken")) || "";
}

// Resolves to {status, ok, data}; rejects with NetworkError only when no whole answer came back in time
// (`timeoutMs`: the sync's default, or longer for a request known to take long, as an import).
export async function send(method, url, body, { timeoutMs = TIMEOUT_MS } = {}) {
  const headers = { Accept: "application/json" };
  const form = typeof FormData !== "undefined" && body instanceof FormData; // a file upload: the browser sets its type
  if (body !== undefined && body !== null && !form) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = await csrfToken();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  let text = "";
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined || body === null ? undefined : form ? body : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      signal: controller.signal,
    });
    if (response.status !== 204) text = await response.text();
  } catch (error) {
    if (controller.signal.aborted) throw new NetworkError("the server didn't answer in time", { timedOut: true });
    throw new NetworkError(error.message || "network error");
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // an HTML error page from a proxy
  }
  return { status: response.status, ok: response.ok, data };
}

// GET with a fallback: the server's answer when there is one (and it is kept),
// else the last answer kept on this phone. `fresh` says which one you got.
export async function load(url, key) {
  try {
    const response = await send("GET", url);
    if (response.ok) {
      cachePut(key, response.data).catch(() => {}); // kept for offline; nobody waits for it
      return { data: response.data, fresh: true };
    }
    return { data: await cacheGet(key), fresh: false, status: response.status };
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    return { data: await cacheGet(key), fresh: false, offline: true };
  }
}

// Every page of a paginated list.
export async function loadAll(url, key) {
  const joiner = url.includes("?") ? "&" : "?";
  const first = await load(`${url}${joiner}page_size=500`, key);
  if (!first.data) return { ...first, data: [] };
  return { ...first, data: first.data.results ?? first.data };
}

// Turn a DRF error body into {field: "message"} for display.
export function fieldMessages(data) {
  const out = {};
  if (!data || typeof data !== "object") return out;
  for (const [name, value] of Object.entries(data)) {
    if (Array.isArray(value)) out[name] = value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(" ");
    else if (typeof value === "string") out[name] = value;
    else out[name] = JSON.stringify(value);
  }
  return out;
}
