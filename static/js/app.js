// Start-up shared by every page: the service worker, the outbox, the sync chip.

import { csrfToken } from "./api.js";
import {
  counts,
  discard,
  entries,
  onChange,
  retry,
  saveEpisode,
  saveMedication,
  saveProfile,
  setUser,
  startAutoSync,
  sync,
} from "./outbox.js";
import { cacheGet, cachePut } from "./store.js";
import { $, dayText, episodeText, fieldText, h, label, phoneZone, timeText, toast } from "./ui.js";

// Returns a promise of the diary's time zone, once checked against the phone's.
export function boot() {
  const owner = document.body.dataset.user || "";
  setUser(owner);
  // The service worker syncs for whoever last opened the app here, with the CSRF token it can't read itself
  // (a "No cramps" tapped on a reminder may be the first write since this login).
  if (owner) {
    cachePut("user", owner).catch(() => {});
    csrfToken().catch(() => {});
  }
  registerWorker();
  wireSyncChip();
  afterLoad(startAutoSync);
  return new Promise((resolve) => afterLoad(() => checkZone(owner).catch(() => document.body.dataset.zone).then(resolve)));
}

// Background work waits until the page has painted and loaded.
function afterLoad(work) {
  if (document.readyState === "complete") setTimeout(work, 0);
  else window.addEventListener("load", () => setTimeout(work, 0), { once: true });
}

// Marks the first render done: <body data-ready>, for tests and screenshots.
export function ready() {
  document.body.dataset.ready = "true";
}

// --- The time zone: nights run from noon to noon in it ----------------------------------

export const zoneName = (zone) => zone.replaceAll("_", " ");
const place = (zone) => zoneName(zone.split("/").pop());

// Whatever page someone came in by, the first use sets the diary's zone to the phone's. After that a
// phone in another zone (a trip, a move) asks, once per zone, whether to switch. What this phone last
// settled is kept, because a page from the offline cache may predate it.
async function checkZone(owner) {
  const phone = phoneZone();
  const { zone, zoneConfirmed } = document.body.dataset;
  if (!owner || !phone || !zone) return zone;
  const key = `zone-settled:${owner}`;
  const settled = await cacheGet(key);
  if (zoneConfirmed !== "true" && !settled) {
    await saveProfile({ timezone: phone });
    await cachePut(key, phone);
    document.body.dataset.zone = phone;
    if (zone !== phone && !$("#zone-text")) toast(`Nights now run in ${zoneName(phone)} time, this phone's. You can change it under You.`);
    return phone;
  }
  if (zone === phone) {
    if (settled !== phone) await cachePut(key, phone);
  } else if (settled !== phone) {
    offerZone(key, zone, phone);
  }
  return zone;
}

function offerZone(key, zone, phone) {
  const box = $("#zone-offer");
  if (!box) return;
  // Cramps are filed in the phone's zone anyway; the diary's sets "today" and the weekly email's hour.
  $("#zone-offer-text").textContent = `This phone is in ${zoneName(phone)} time, your diary in ${zoneName(zone)} time. Moved? Switch the diary. On a trip? Keep it.`;
  const use = $("#zone-use");
  const keep = $("#zone-keep");
  use.textContent = `Use ${place(phone)}`;
  keep.textContent = `Keep ${place(zone)}`;
  const answer = async (chosen) => {
    if (chosen !== zone) await saveProfile({ timezone: chosen });
    await cachePut(key, phone);
    document.body.dataset.zone = chosen;
    box.hidden = true;
    toast(`Your diary is in ${zoneName(chosen)} time.`);
  };
  use.onclick = () => answer(phone);
  keep.onclick = () => answer(zone);
  box.hidden = false;
}

function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  // A module worker shares outbox.js with the pages; updateViaCache "none" so
  // the browser always asks the server for a newer sw.js. Registered once the
  // page has loaded, so its precaching never competes with the first paint.
  afterLoad(() =>
    navigator.serviceWorker
      .register("/sw.js", { scope: "/", type: "module", updateViaCache: "none" })
      .catch((error) => console.warn("service worker not registered:", error.message)),
  );
}

// --- The sync chip and its sheet ---------------------------------------------------

let signedOut = false;

function wireSyncChip() {
  const chip = $("#sync-status");
  const dialog = $("#sync-dialog");
  if (!chip || !dialog) return;
  chip.addEventListener("click", async () => {
    await renderSheet();
    dialog.showModal();
  });
  $("#sync-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a tap on the backdrop
  });
  $("#sync-now").addEventListener("click", async () => {
    $("#sync-summary").textContent = "Sending…";
    await sync({ force: true });
    await renderSheet();
  });
  onChange((message) => {
    if (message.type === "signed-out") signedOut = true;
    if (message.type === "synced" && message.outcome === "go") signedOut = false;
    refreshChip();
    if (dialog.open) renderSheet();
  });
  window.addEventListener("online", refreshChip);
  window.addEventListener("offline", refreshChip);
  afterLoad(refreshChip);
}

export async function refreshChip() {
  const chip = $("#sync-status");
  if (!chip) return;
  const { pending, attention, last_error } = await counts();
  const offline = navigator.onLine === false;
  let text = "All saved";
  let state = "idle";
  if (attention) {
    text = `${attention} to check`;
    state = "attention";
  } else if (pending && signedOut) {
    text = `${pending} waiting: log in`;
    state = "waiting";
  } else if (pending) {
    text = offline ? `${pending} on this phone` : last_error ? `${pending} waiting` : `${pending} sending…`;
    state = "waiting";
  } else if (offline) {
    text = "Offline";
    state = "offline";
  }
  $("#sync-label").textContent = text;
  chip.dataset.pending = String(pending);
  chip.dataset.attention = String(attention);
  chip.dataset.error = last_error;
  chip.dataset.state = state;
  chip.setAttribute("aria-label", `Sync: ${text}. Show details`);
}

function describe(entry) {
  const body = entry.body || {};
  if (entry.kind === "episode") {
    if (entry.method === "DELETE") return "Delete a cramp";
    const when = body.started_at ? `${dayText(body.started_at.slice(0, 10))} ${timeText(body.started_at)}` : "";
    return `Cramp: ${episodeText(body)} ${when}`.trim();
  }
  if (entry.kind === "checkin") {
    const what = body.no_cramps === true ? "cramp-free night" : "check-in";
    return `${dayText(entry.date)}: ${what}`;
  }
  if (entry.kind === "medication") return `Medicine: ${body.name || label("drug_class", body.drug_class) || "change"}`;
  if (entry.kind === "profile") return "Profile settings";
  return entry.id;
}

function editLink(entry) {
  if (entry.kind === "episode" && entry.method !== "DELETE") return `/episode/?id=${entry.id}`;
  if (entry.kind === "checkin") return `/checkin/?date=${entry.date}`;
  return "/settings/";
}

async function renderSheet() {
  const mine = await entries();
  const waiting = mine.filter((e) => e.state === "pending");
  const broken = mine.filter((e) => e.state === "attention");
  const offline = navigator.onLine === false;
  let summary = broken.length ? "Nothing else is waiting." : "Everything is on the server.";
  if (waiting.length) {
    const error = waiting.find((e) => e.last_error)?.last_error;
    const count = waiting.length === 1 ? "1 entry" : `${waiting.length} entries`;
    if (offline) summary = `You're offline. ${count} saved on this phone will be sent when you're back online.`;
    else if (error) summary = `${count} saved on this phone, not sent yet: ${error.toLowerCase()}. Trying again by itself.`;
    else summary = `${count} saved on this phone, being sent.`;
    if (signedOut) summary = `${count} saved on this phone. Log in again to send them.`;
  }
  $("#sync-summary").textContent = summary;
  $("#pending").hidden = !waiting.length;
  $("#pending-list").replaceChildren(...waiting.map((e) => h("li", {}, describe(e))));
  $("#attention").hidden = !broken.length;
  $("#attention-list").replaceChildren(
    ...broken.map((entry) =>
      h(
        "li",
        { class: "attention-item" },
        h("strong", {}, describe(entry)),
        h("ul", { class: "errors" }, ...Object.entries(entry.problem?.errors || {}).map(([field, message]) => h("li", {}, ["detail", "non_field_errors", "id"].includes(field) ? message : `${fieldText(field)}: ${message}`))),
        h(
          "div",
          { class: "chips-actions" },
          h("a", { class: "btn", href: editLink(entry) }, "Edit"),
          entry.problem?.type === "conflict"
            ? h("button", { type: "button", class: "btn", onclick: () => useMine(entry) }, "Use this phone's version")
            : h("button", { type: "button", class: "btn", onclick: () => retry(entry.id) }, "Try again"),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-danger-quiet",
              onclick: async () => {
                await discard(entry.id);
                toast("Discarded.");
              },
            },
            entry.problem?.type === "conflict" ? "Keep the server's" : "Discard",
          ),
        ),
      ),
    ),
  );
  $("#sync-now").hidden = !waiting.length;
}

async function useMine(entry) {
  // Saving again turns a conflicted create into an update of the server's row.
  const save = entry.kind === "medication" ? saveMedication : saveEpisode;
  await save({ ...entry.body });
}
