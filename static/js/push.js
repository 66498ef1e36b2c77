// Reminders inside the service worker: show what the server pushed, and answer
// the morning check-in from the notification itself. Loaded only by sw.js.
//
// "No cramps" goes through the same outbox as the app's own one-tap answer
// (saveCheckin: one entry per night, an upsert by date on the server), so a
// second tap, or the same answer given in the app, never makes a second row;
// with no connection it waits in IndexedDB and is sent by Background Sync or
// by the app the next time it opens.

import { pendingCheckin, saveCheckin, sync } from "./outbox.js";
import { cacheGet } from "./store.js";

export const NO_CRAMPS = "no-cramps";
export const CRAMPS = "cramps";
const DATE = /^\d{4}-\d{2}-\d{2}$/;

// The payload as the server sends it; a push without one still must show something.
export function readPayload(data) {
  try {
    const payload = data?.json();
    if (payload && typeof payload === "object") return payload;
  } catch {
    // not JSON: fall through to the plain reminder
  }
  return { type: "plain", title: "CrampTrack", body: data?.text?.() || "", url: "/" };
}

export function notificationFor(payload, { icon, badge } = {}) {
  const checkin = Boolean(checkinNight(payload));
  const options = {
    body: payload.body || "",
    tag: payload.tag || (checkin ? `checkin-${payload.night}` : "cramptrack"),
    data: payload,
    icon,
    badge,
  };
  // Platforms without actions show none; a tap then opens the one-tap check-in.
  if (checkin) options.actions = [
    { action: NO_CRAMPS, title: "No cramps" },
    { action: CRAMPS, title: "I had cramps" },
  ];
  return { title: payload.title || (checkin ? "Any cramps last night?" : "CrampTrack"), options };
}

export function showPush(registration, data, images) {
  const { title, options } = notificationFor(readPayload(data), images);
  return registration.showNotification(title, options);
}

// Which page a tap opens: the quick log for that night ("I had cramps"), else the
// one-tap check-in for that night (a plain tap, or a platform without actions).
export function pageFor(payload, action) {
  const night = checkinNight(payload);
  if (!night) return samePath(payload.url) || "/";
  return action === CRAMPS ? `/episode/?night=${night}` : `/checkin/?date=${night}`;
}

// What the notificationclick listener runs: the notification, and the action
// tapped ("" for the notification itself).
export async function answer(notification, action) {
  notification.close();
  const payload = notification.data || {};
  const night = checkinNight(payload);
  // The outbox files entries under whoever last opened the app on this phone: nobody, and the app asks;
  // someone else (the phone changed hands), and the reminder is not theirs to answer.
  const owner = await cacheGet("user");
  if (night && payload.user && String(payload.user) !== String(owner)) return "not-yours";
  if (!night || action !== NO_CRAMPS || !owner) return openPage(pageFor(payload, action));
  await saveCheckin(night, { no_cramps: true });
  await sync({ force: true });
  const left = await pendingCheckin(night);
  if (left?.state === "attention") return tellRefused(night, left);
  // Still on this phone (offline): the browser fires "sync" when the network is back.
  if (left) await self.registration.sync?.register("outbox").catch(() => {});
  return left ? "queued" : "sent";
}

function checkinNight(payload) {
  return payload.type === "checkin" && DATE.test(payload.night || "") ? payload.night : null;
}

// The server said no (a cramp is logged for that night): say so rather than stay silent.
function tellRefused(night, entry) {
  const reason = Object.values(entry.problem?.errors || {})[0] || "The server refused it.";
  return self.registration
    .showNotification("Not recorded as cramp-free", {
      body: reason,
      tag: `checkin-${night}`,
      data: { type: "checkin-refused", url: `/checkin/?date=${night}` },
    })
    .then(() => "refused");
}

function samePath(url) {
  if (typeof url !== "string") return null;
  const target = new URL(url, self.location.origin);
  return target.origin === self.location.origin ? target.pathname + target.search : null;
}

// Focus a window already showing the page, else open one (the installed app where there is one).
async function openPage(path) {
  const url = new URL(path, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => client.url === url);
  if (open) await open.focus();
  else await self.clients.openWindow(url);
  return "opened";
}
