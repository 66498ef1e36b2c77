// Logging out: warn about anything not yet sent, and forget the cached diary
// (the outbox stays, tagged with its owner, and is sent at their next login).

import { send } from "./api.js";
import { counts, setUser } from "./outbox.js";
import { cacheClear, cacheGet } from "./store.js";

const warning = document.getElementById("logout-pending");

cacheGet("push-device").then((device) => {
  document.getElementById("logout-reminders").hidden = !device;
});

cacheGet("user").then(async (owner) => {
  setUser(owner);
  const { pending, attention } = await counts();
  const waiting = pending + attention;
  if (waiting) {
    warning.hidden = false;
    warning.textContent =
      waiting === 1
        ? "1 entry hasn't reached the server yet. It stays on this phone and is sent when you log in again."
        : `${waiting} entries haven't reached the server yet. They stay on this phone and are sent when you log in again.`;
  }
});

document.getElementById("logout-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  await stopThisPhonesReminders().catch(() => {});
  await cacheClear().catch(() => {});
  navigator.serviceWorker?.controller?.postMessage({ type: "forget-pages" });
  form.submit();
});

// This phone's reminders are the account's: they stop here at logout, so whoever uses the phone next
// gets none of them. Unsubscribed first (offline too: the push service then answers 410 and the server
// drops the device), then removed from the account at once where there is a connection.
async function stopThisPhonesReminders() {
  const registration = await navigator.serviceWorker?.getRegistration();
  await (await registration?.pushManager?.getSubscription())?.unsubscribe();
  const device = await cacheGet("push-device");
  if (device) await send("DELETE", `/api/v1/reminders/devices/${device}/`, undefined, { timeoutMs: 3000 });
}
