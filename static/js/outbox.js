// The outbox: every write lands in IndexedDB first, then goes to the server.
//
// No loss: an entry leaves the outbox only after the server has answered that
// it holds the record. No duplicates: every record carries a uuid made on this
// phone, and the server refuses a second row with the same uuid, so resending
// after a lost answer (a reload, a flapping network, a server restart) is safe.
//
// An entry: {id, kind, method, url, body, date?, rev, first_rev, attempts,
// next_at, last_error, state: "pending" | "attention", problem, user, created}.
// `id` is the record's uuid (check-ins: "checkin:USER:DATE"; the profile: "profile:USER"). The rows
// without a uuid of their own are keyed by their owner too: when two accounts use one phone, one's
// check-in for a date never merges into the other's entry still waiting here (and so into their diary).
// `rev` grows with every local edit; `first_rev` is the rev first sent, so after
// an answer we know whether the user changed the record in the meantime.

import { NetworkError, fieldMessages, send } from "./api.js";
import { cacheGet, readAll, req, transact } from "./store.js";

export const EPISODES = "/api/v1/episodes/";
export const CHECKINS = "/api/v1/checkins/";
export const MEDICATIONS = "/api/v1/medications/";
export const ME = "/api/v1/me/";
const SYNC = "/api/v1/sync/";
const BATCH = 100;
const FIRST_DELAY_MS = 2000;
const MAX_DELAY_MS = 5 * 60 * 1000;

let currentUser = null;
const listeners = new Set();
const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("cramptrack-outbox");
if (channel) channel.onmessage = (event) => tell(event.data, false);

export function setUser(id) {
  currentUser = id ? String(id) : null;
}

async function user() {
  if (currentUser === null) currentUser = (await cacheGet("user")) || null;
  return currentUser;
}

// Outbox events, in this tab and in every other tab and the service worker.
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function tell(message, broadcast = true) {
  for (const listener of listeners) listener(message);
  if (broadcast && channel) channel.postMessage(message);
}

export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // Plain http on a LAN has no randomUUID; getRandomValues works everywhere.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- Writing into the outbox ---------------------------------------------------

// Apply `change(entry or undefined)` to one entry in one transaction; it returns
// the new entry, or null to remove it. `key` is an id, or a function of the owner that makes one (checkinId, profileId).
async function edit(key, change) {
  const owner = await user();
  const id = typeof key === "function" ? key(owner) : key;
  const result = await transact("outbox", "readwrite", async (store) => {
    const before = await req(store.get(id));
    const after = change(before, owner);
    if (after === null) {
      if (before) await req(store.delete(id));
    } else if (after !== before) {
      await req(store.put({ user: owner, ...after, rev: (before?.rev || 0) + 1 }));
    }
    return after;
  });
  // The page shows "saved" first; the sync chip, other tabs and the send follow after the next frame.
  afterPaint(() => {
    tell({ type: "changed", id });
    kick();
  });
  return result;
}

function afterPaint(work) {
  if (typeof requestAnimationFrame === "undefined" || document.visibilityState !== "visible") setTimeout(work, 0);
  else requestAnimationFrame(() => setTimeout(work, 0));
}

function fresh(fields) {
  return {
    first_rev: null,
    attempts: 0,
    next_at: 0,
    last_error: "",
    state: "pending",
    problem: null,
    created: Date.now(),
    ...fields,
  };
}

function ready(entry, fields) {
  return { ...entry, ...fields, state: "pending", problem: null, attempts: 0, next_at: 0, last_error: "" };
}

function detailUrl(base, id) {
  return `${base}${id}/`;
}

// Create (create: true) or edit a record that has a uuid: episodes, medication courses.
function saveRecord(kind, base, record, create) {
  return edit(record.id, (entry) => {
    if (entry?.method === "DELETE") return entry; // deleted on this phone: edits are moot
    if (entry) {
      const body = { ...entry.body, ...record };
      // "Use this phone's version" after a conflict: the server has the uuid already.
      if (entry.problem?.type === "conflict") return ready(entry, { method: "PATCH", url: detailUrl(base, record.id), body });
      return ready(entry, { body });
    }
    return fresh({
      id: record.id,
      kind,
      method: create ? "POST" : "PATCH",
      url: create ? base : detailUrl(base, record.id),
      body: { ...record },
    });
  });
}

// A new cramp carries the phone's zone: its night is the one lived where the phone is, not where the profile says.
export function saveEpisode(episode, { create = false } = {}) {
  const record = create && !episode.timezone ? { ...episode, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone } : episode;
  return saveRecord("episode", EPISODES, record, create);
}

export function saveMedication(course, { create = false } = {}) {
  return saveRecord("medication", MEDICATIONS, course, create);
}

function removeRecord(kind, base, id) {
  return edit(id, (entry) => {
    // Never sent: the server never saw it, so forgetting it is the whole delete.
    if (entry?.method === "POST" && entry.first_rev === null) return null;
    return fresh({ id, kind, method: "DELETE", url: detailUrl(base, id), body: null, created: entry?.created ?? Date.now() });
  });
}

export function deleteEpisode(id) {
  return removeRecord("episode", EPISODES, id);
}

const checkinId = (date) => (owner) => `checkin:${owner}:${date}`;
const profileId = (owner) => `profile:${owner}`;

// Check-ins upsert by date, so partial saves merge into one pending PATCH.
export async function saveCheckin(date, fields) {
  const id = checkinId(date);
  const saved = await edit(id, (entry, owner) => {
    if (entry) return ready(entry, { body: { ...entry.body, ...fields } });
    return fresh({ id: id(owner), kind: "checkin", date, method: "PATCH", url: detailUrl(CHECKINS, date), body: { ...fields } });
  });
  if (fields.no_cramps === true || fields.no_cramps === false) closeReminder(date);
  return saved;
}

// A night answered (either way, or with a cramp logged) closes its reminder on this phone: left on the
// lock screen, its "No cramps" would invite a second answer contradicting the first. In the service
// worker there is nothing to do: the notification tapped has closed itself.
export function closeReminder(night) {
  if (typeof document === "undefined") return;
  navigator.serviceWorker?.ready
    .then((registration) => registration.getNotifications({ tag: `checkin-${night}` }))
    .then((shown) => shown.forEach((notification) => notification.close()))
    .catch(() => {});
}

export function saveProfile(fields) {
  return edit(profileId, (entry, owner) => {
    if (entry) return ready(entry, { body: { ...entry.body, ...fields } });
    return fresh({ id: profileId(owner), kind: "profile", method: "PATCH", url: ME, body: { ...fields } });
  });
}

// "Try again" (after fixing elsewhere) and "Discard" for entries that need attention.
export function retry(id) {
  return edit(id, (entry) => (entry ? ready(entry, {}) : null));
}

export function discard(id) {
  return edit(id, () => null);
}

// --- Reading ---------------------------------------------------------------------

export async function entries() {
  const owner = await user();
  const all = await readAll("outbox");
  return all.filter((entry) => entry.user === owner).sort((a, b) => a.created - b.created);
}

export async function counts() {
  const mine = await entries();
  const pending = mine.filter((e) => e.state === "pending");
  return {
    pending: pending.length,
    attention: mine.filter((e) => e.state === "attention").length,
    next_at: pending.length ? Math.min(...pending.map((e) => e.next_at)) : null,
    last_error: pending.find((e) => e.last_error)?.last_error || "",
  };
}

// The record as this phone knows it, if the outbox holds it.
export async function pendingRecord(id) {
  const entry = (await entries()).find((e) => e.id === id);
  return entry || null;
}

// This account's waiting check-in for a date (one entry; a phone updated from a version that keyed
// them "checkin:DATE" may hold two, the older sent first: their fields merged, the later winning).
export async function pendingCheckin(date) {
  const mine = (await entries()).filter((e) => e.kind === "checkin" && e.date === date);
  if (!mine.length) return null;
  const shown = mine.find((e) => e.state === "attention") || mine[mine.length - 1];
  return { ...shown, body: Object.assign({}, ...mine.map((e) => e.body)) };
}

// This account's waiting profile change, if any.
export async function pendingProfile() {
  const mine = (await entries()).filter((e) => e.kind === "profile");
  return mine.length ? { ...mine[mine.length - 1], body: Object.assign({}, ...mine.map((e) => e.body)) } : null;
}

// --- Sending -----------------------------------------------------------------------

export function backoff(attempts) {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.min(MAX_DELAY_MS, Math.round(base * (0.5 + Math.random()))); // jitter: phones don't retry in step
}

let running = null;
let queued = null;

// One pass over the due entries (all of them with force). A call during a pass
// queues one more pass after it; tabs and the service worker take turns through
// a Web Lock.
export function sync({ force = false } = {}) {
  if (running) {
    queued = { force: Boolean(queued?.force) || force };
    return running;
  }
  running = (async () => {
    let result = await withLock(() => pass(force));
    while (queued) {
      const next = queued;
      queued = null;
      result = await withLock(() => pass(next.force));
    }
    return result;
  })().finally(() => {
    running = null;
  });
  return running;
}

function withLock(work) {
  if (globalThis.navigator?.locks) return navigator.locks.request("cramptrack-outbox", work);
  return work();
}

async function pass(force) {
  const owner = await user();
  if (!owner) return { retryable: false, sent: 0 };
  if (globalThis.navigator && navigator.onLine === false) return { retryable: true, sent: 0, offline: true };
  const now = Date.now();
  const due = (await entries()).filter((e) => e.state === "pending" && (force || e.next_at <= now));
  if (!due.length) return { retryable: false, sent: 0 };
  tell({ type: "syncing" });
  const batchable = due.filter((e) => (e.kind === "episode" && e.method === "POST") || e.kind === "checkin");
  const single = due.filter((e) => !batchable.includes(e));
  let outcome = "go";
  for (let i = 0; i < batchable.length && outcome === "go"; i += BATCH) {
    outcome = await sendBatch(batchable.slice(i, i + BATCH));
  }
  for (const entry of single) {
    if (outcome !== "go") break;
    outcome = await sendOne(entry);
  }
  const left = await counts();
  tell({ type: "synced", outcome, ...left });
  return { retryable: left.pending > 0, outcome, ...left };
}

// Record that these entries are going out (first_rev) and return them as stored now.
async function markSending(batch) {
  return transact("outbox", "readwrite", async (store) => {
    const out = [];
    for (const { id } of batch) {
      const entry = await req(store.get(id));
      if (!entry || entry.state !== "pending") continue;
      if (entry.first_rev === null) {
        entry.first_rev = entry.rev;
        await req(store.put(entry));
      }
      out.push(entry);
    }
    return out;
  });
}

function unanswered(error) {
  return error.timedOut ? "The server didn't answer in time" : "No connection to the server";
}

function retryable(status) {
  return status >= 500 || status === 408 || status === 429;
}

async function sendBatch(batch) {
  const sent = await markSending(batch);
  if (!sent.length) return "go";
  const records = sent.map((e) =>
    e.kind === "episode" ? { type: "episode", data: e.body } : { type: "checkin", data: { ...e.body, date: e.date } },
  );
  let response;
  try {
    response = await send("POST", SYNC, { records });
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    await later(sent, unanswered(error));
    return "offline";
  }
  if (response.status === 401 || response.status === 403) return signedOut(sent);
  if (retryable(response.status)) {
    await later(sent, `The server had a problem (${response.status})`);
    return "server";
  }
  if (!response.ok || !Array.isArray(response.data?.results)) {
    // The batch as a whole was refused: send each on its own to learn which.
    for (const entry of sent) {
      const outcome = await sendOne(entry);
      if (outcome !== "go") return outcome;
    }
    return "go";
  }
  for (const result of response.data.results) {
    const entry = sent[result.index];
    if (!entry) continue;
    if (["created", "unchanged", "updated"].includes(result.status)) await settled(entry);
    else if (result.status === "conflict") await conflicted(entry, null, Object.keys(result.errors || {}));
    else await needsAttention(entry, result.errors);
  }
  return "go";
}

async function sendOne(batchEntry) {
  const [entry] = await markSending([batchEntry]);
  if (!entry) return "go";
  let response;
  try {
    response = await send(entry.method, entry.url, entry.body);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    await later([entry], unanswered(error));
    return "offline";
  }
  if (response.ok || (response.status === 404 && entry.method === "DELETE")) {
    await settled(entry);
  } else if (response.status === 401 || response.status === 403) {
    return signedOut([entry]);
  } else if (retryable(response.status)) {
    await later([entry], `The server had a problem (${response.status})`);
    return "server";
  } else if (response.status === 409) {
    await conflicted(entry, response.data?.stored ?? null, response.data?.differs ?? []);
  } else {
    await needsAttention(entry, response.data, response.status);
  }
  return "go";
}

// The server holds what was sent. If the user edited the record while it was on
// its way, the entry stays, now as an update of the row the server has.
async function settled(sentEntry) {
  await transact("outbox", "readwrite", async (store) => {
    const now = await req(store.get(sentEntry.id));
    if (!now) return;
    if (now.rev === sentEntry.rev) {
      await req(store.delete(sentEntry.id));
    } else if (now.method === "POST") {
      const url = detailUrl(now.kind === "medication" ? MEDICATIONS : EPISODES, now.id);
      await req(store.put(ready(now, { method: "PATCH", url, first_rev: now.rev })));
    } else {
      await req(store.put(ready(now, { first_rev: now.rev })));
    }
  });
  tell({ type: "changed", id: sentEntry.id });
}

// A create answered "this uuid exists with other content". If the user edited
// the record after it was first sent, the server has our own earlier version:
// send the edit as an update. Otherwise the record counts as synced, but the
// difference is shown to the user to settle.
async function conflicted(sentEntry, stored, differs) {
  await transact("outbox", "readwrite", async (store) => {
    const now = await req(store.get(sentEntry.id));
    if (!now) return;
    const base = now.kind === "medication" ? MEDICATIONS : EPISODES;
    if (now.method === "POST" && now.rev !== now.first_rev) {
      await req(store.put(ready(now, { method: "PATCH", url: detailUrl(base, now.id), first_rev: now.rev })));
    } else {
      const fields = differs.map((name) => name.replaceAll("_", " ").replace("started at", "start time")).join(", ");
      const problem = { type: "conflict", stored, errors: { id: `The server already has this entry with a different ${fields || "content"}.` } };
      await req(store.put({ ...now, state: "attention", problem, last_error: "Different on the server" }));
    }
  });
  tell({ type: "changed", id: sentEntry.id });
}

// A 4xx the user has to fix: never dropped, kept with the server's messages.
async function needsAttention(sentEntry, errors, status) {
  await transact("outbox", "readwrite", async (store) => {
    const now = await req(store.get(sentEntry.id));
    if (!now) return;
    if (now.rev !== sentEntry.rev) {
      await req(store.put(ready(now, {}))); // edited since: the new version may be fine
      return;
    }
    const messages = fieldMessages(errors);
    if (!Object.keys(messages).length) messages.detail = `The server refused this (${status || "error"}).`;
    await req(store.put({ ...now, state: "attention", problem: { type: "invalid", errors: messages }, last_error: "Needs a fix" }));
  });
  tell({ type: "changed", id: sentEntry.id });
}

async function later(sent, message) {
  const now = Date.now();
  await transact("outbox", "readwrite", async (store) => {
    for (const { id } of sent) {
      const entry = await req(store.get(id));
      if (!entry || entry.state !== "pending") continue;
      entry.attempts += 1;
      entry.next_at = now + backoff(entry.attempts);
      entry.last_error = message;
      await req(store.put(entry));
    }
  });
}

async function signedOut(sent) {
  await later(sent, "Log in again to send this");
  tell({ type: "signed-out" });
  return "signed-out";
}

// --- Scheduling (pages) ---------------------------------------------------------------

let timer = null;

// Send soon after a local change; Background Sync covers the app being closed.
function kick() {
  if (typeof window === "undefined") return;
  setTimeout(() => sync(), 0);
  navigator.serviceWorker?.ready
    .then((registration) => registration.sync?.register("outbox"))
    .catch(() => {});
}

async function schedule() {
  clearTimeout(timer);
  const { pending, next_at } = await counts();
  if (!pending || next_at === null) return;
  timer = setTimeout(() => sync(), Math.max(250, next_at - Date.now()));
}

export function startAutoSync() {
  window.addEventListener("online", () => sync({ force: true }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") sync();
  });
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data?.type === "sync") sync({ force: true });
  });
  onChange((message) => {
    if (message.type === "synced" || message.type === "changed") schedule();
  });
  sync();
}
