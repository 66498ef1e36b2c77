// You > Morning reminder: turn Web Push on for this phone, the reminder's time,
// second nudge, quiet hours and email fallback, a test notification, the list of
// devices. Settings go straight to the server (not the outbox): turning push on
// needs the network anyway, and a time inside quiet hours must be refused here.
// Where a browser can't get push, it says so and offers the email instead.

import { NetworkError, fieldMessages, send } from "./api.js";
import { read, fill } from "./forms.js";
import { cacheGet, cachePut } from "./store.js";
import { $, h, showErrors, toast } from "./ui.js";

const REMINDERS = "/api/v1/reminders/";
const DEVICES = "/api/v1/reminders/devices/";
const WORKER_WAIT_MS = 10000;
const form = $("#reminder-form");
let state = null;

// The subscription's key comes as base64url; subscribe() wants the bytes.
function keyBytes(base64url) {
  const base64 = base64url.replaceAll("-", "+").replaceAll("_", "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

// "Chrome on Android": enough for the person to tell their devices apart.
function deviceLabel() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const system = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return system ? `${browser} on ${system}` : browser;
}

function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function when(instant) {
  return new Date(instant).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

async function call(method, url, body) {
  try {
    return await send(method, url, body);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    return { status: 0, ok: false, data: null };
  }
}

function problem(text) {
  $("#push-problem-text").textContent = text;
  $("#push-problem").hidden = !text;
  $("#email-instead").hidden = Boolean(state?.enabled && state?.email_fallback);
}

async function render(data) {
  state = data;
  fill(form, data);
  $("#f-second-nudge").value = data.second_nudge_hours ? String(data.second_nudge_hours) : "";
  $("#reminders-backed-off").hidden = !data.backed_off;
  $("#reminders-backed-off [data-ignored]").textContent = `${data.ignored_in_row} reminders`;
  const mine = await cacheGet("push-device");
  const here = data.devices.some((d) => d.id === mine) && globalThis.Notification?.permission === "granted";
  let status = "Off.";
  if (data.enabled && data.channel === "push") status = here ? "On: this phone gets it." : "On for your other devices, not this one.";
  else if (data.enabled && data.channel === "email") status = "On, by email: no phone of yours gets notifications.";
  else if (data.enabled && data.email_fallback) status = "On, by email, once your email address is confirmed and working.";
  else if (data.enabled) status = "On, but nowhere to send it: turn it on for this phone or allow the email.";
  $("#push-status").textContent = status;
  $("#push-on").hidden = here;
  $("#push-test").hidden = !data.devices.length;
  $("#devices-none").hidden = data.devices.length > 0;
  $("#device-list").replaceChildren(
    ...data.devices.map((device) =>
      h(
        "li",
        { class: "med" },
        h(
          "div",
          { class: "med-main" },
          h("strong", {}, device.label || "A browser", device.id === mine ? " (this phone)" : ""),
          h("span", { class: "muted small block" }, `Added ${when(device.created_at)}${device.last_sent_at ? `, last reminder ${when(device.last_sent_at)}` : ""}`),
        ),
        h("button", { type: "button", class: "btn btn-small", "aria-label": `Remove ${device.label || "this device"}`, onclick: () => remove(device, device.id === mine) }, "Remove"),
      ),
    ),
  );
}

export async function loadReminders() {
  const response = await call("GET", REMINDERS);
  if (!response.ok) {
    $("#push-status").textContent = response.status ? "Reminder settings couldn't be loaded." : "You're offline: reminder settings need a connection.";
    return;
  }
  await render(response.data);
  if (!pushSupported()) problem("This browser can't show notifications from a web app (no Web Push). The reminder can come by email instead.");
}

async function patch(values) {
  const response = await call("PATCH", REMINDERS, values);
  if (response.ok) await render(response.data);
  return response;
}

// A worker that never starts (blocked, private mode) would leave the button spinning for ever.
function workerReady() {
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("the app's service worker isn't running")), WORKER_WAIT_MS));
  return Promise.race([navigator.serviceWorker.ready, timeout]);
}

async function turnOn() {
  problem("");
  if (!pushSupported()) return problem("This browser can't show notifications from a web app (no Web Push). The reminder can come by email instead.");
  if (!state) return problem("You're offline: turning reminders on needs a connection.");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    return problem("Notifications are blocked for CrampTrack in this browser. Allow them in the browser's site settings and try again, or get the reminder by email.");
  }
  let subscription;
  try {
    const registration = await workerReady();
    subscription =
      (await registration.pushManager.getSubscription()) ||
      (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(state.vapid_public_key) }));
  } catch (error) {
    // No push service to reach (offline, a browser without one) or one that said no: the reminder by email still works.
    return problem(`This browser couldn't sign this phone up with its push service (${error.message || error.name}), so it can't get notifications now. The reminder can come by email instead.`);
  }
  const response = await call("POST", DEVICES, { ...subscription.toJSON(), label: deviceLabel() });
  if (!response.ok) return problem(response.status ? `The server refused this phone: ${Object.values(fieldMessages(response.data)).join(" ")}` : "You're offline: try again with a connection.");
  await cachePut("push-device", response.data.id);
  const saved = await patch({ enabled: true });
  if (!saved.ok) return problem("This phone is registered, but the reminder couldn't be switched on. Try again.");
  toast("Reminders are on for this phone.");
}

async function remove(device, here) {
  const response = await call("DELETE", `${DEVICES}${device.id}/`);
  if (!response.ok && response.status !== 404) return toast(response.status ? "Couldn't remove it. Try again." : "You're offline: removing needs a connection.");
  if (here) {
    const registration = await navigator.serviceWorker?.getRegistration();
    await (await registration?.pushManager.getSubscription())?.unsubscribe();
    await cachePut("push-device", null);
  }
  toast(`${device.label || "The device"} won't get reminders any more.`);
  await loadReminders();
}

$("#push-on").addEventListener("click", turnOn);
$("#email-instead").addEventListener("click", async () => {
  const response = await patch({ enabled: true, email_fallback: true });
  if (response.ok) {
    problem("");
    toast("The reminder will come by email.");
  } else problem(response.status ? "Couldn't switch the email on. Try again." : "You're offline: try again with a connection.");
});
$("#push-test").addEventListener("click", async () => {
  const response = await call("POST", `${REMINDERS}test/`);
  if (response.status === 429) return toast("A test was just sent. Try again in a minute.");
  if (!response.ok) return toast(response.status ? "The test couldn't be sent. Try again." : "You're offline: the test needs a connection.");
  const { sent, removed } = response.data;
  const gone = removed ? ` ${removed === 1 ? "1 device" : `${removed} devices`} the push service no longer knows ${removed === 1 ? "was" : "were"} removed.` : "";
  toast(`${sent ? `Test sent to ${sent === 1 ? "1 device" : `${sent} devices`}.` : "No device could get it."}${gone}`);
  if (removed) await loadReminders(); // the push service said those are gone
});
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const nudge = read(form, "second_nudge_hours");
  const values = {
    enabled: read(form, "enabled"),
    time: read(form, "time"),
    second_nudge_hours: nudge ? Number(nudge) : null,
    quiet_start: read(form, "quiet_start"),
    quiet_end: read(form, "quiet_end"),
    email_fallback: read(form, "email_fallback"),
  };
  if (!values.time) return showErrors(form, { time: "Choose a time." });
  const response = await patch(values);
  if (!response.ok) {
    showErrors(form, response.status ? fieldMessages(response.data) : { detail: "You're offline: reminder settings need a connection." });
    form.querySelector("[data-saved]").textContent = "";
    return;
  }
  showErrors(form, {});
  form.querySelector("[data-saved]").textContent = "Saved.";
});
