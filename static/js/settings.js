// You: profile and time zone, units, clock and theme, weekly email, morning reminder, medication courses,
// export, delete account.

import { fieldMessages, load, loadAll, send } from "./api.js";
import { boot, ready } from "./app.js";
import { fieldNames, fill, readAll } from "./forms.js";
import { ME, MEDICATIONS, entries, onChange, pendingProfile, saveMedication, saveProfile, uuid } from "./outbox.js";
import { cacheClear, transact, req } from "./store.js";
import { $, $$, dayText, h, hourText, label, showErrors, toast, today } from "./ui.js";
import "./import.js";
import { loadReminders } from "./reminders.js";

boot();

const profileForm = $("#profile-form");
const emailForm = $("#email-form");
const displayForm = $("#display-form");
const medForm = $("#med-form");
const detected = Intl.DateTimeFormat().resolvedOptions().timeZone;

function zoneOptions(current) {
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
  const all = [...new Set([current, detected, "UTC", ...zones])].filter(Boolean).sort();
  $("#f-timezone").replaceChildren(...all.map((z) => h("option", { value: z }, z.replaceAll("_", " "))));
}

async function loadProfile() {
  const result = await load(ME, "me");
  const pending = await pendingProfile();
  const profile = { ...(result.data || {}), ...(pending?.body || {}) };
  zoneOptions(profile.timezone);
  fill(profileForm, profile);
  fill(emailForm, profile);
  fill(displayForm, { fluid_unit: profile.fluid_unit || "ml", clock: profile.clock || "", theme: localStorage.getItem("theme") || "system" });
  showClock(profile.clock || "");
  $("#f-digest_weekday").value = String(profile.digest_weekday ?? 0);
  $("#f-digest_hour").value = String(profile.digest_hour ?? 18);
  const detect = $("#detect-zone");
  detect.hidden = !detected || detected === profile.timezone;
  detect.textContent = `Use this phone's: ${detected}`;
  $("#email-verified").textContent =
    profile.email_verified === false ? "Confirm your email address (see the message we sent) to receive it." : "";
  // A save with the email on, still waiting to be sent, resumes it as soon as it arrives.
  showEmailState(pending?.body?.digest_enabled ? {} : profile);
}

// --- Units, clock (the profile) and theme (this phone) ---------------------------------

// Every time on this page in the chosen clock: the weekly email's hours here, the others on their next load.
function showClock(clock) {
  document.body.dataset.clock = clock;
  displayForm.querySelector(`[name="clock"][value="${clock}"]`).checked = true; // blank: "As the phone"
  for (const option of $("#f-digest_hour").options) option.textContent = hourText(new Date(2000, 0, 1, Number(option.value)));
}

function showTheme(theme) {
  if (theme === "system") {
    localStorage.removeItem("theme");
    delete document.documentElement.dataset.theme;
  } else {
    localStorage.setItem("theme", theme);
    document.documentElement.dataset.theme = theme;
  }
}

displayForm.addEventListener("change", async (event) => {
  const { name, value } = event.target;
  const saved = displayForm.querySelector("[data-saved]");
  if (name === "theme") {
    showTheme(value);
    saved.textContent = "Theme saved on this phone.";
    return;
  }
  if (name === "clock") showClock(value);
  if (name === "fluid_unit") document.body.dataset.fluidUnit = value;
  await saveProfile({ [name]: value });
  saved.textContent = navigator.onLine ? "Saved." : "Saved on this phone; it will be sent when you're online.";
});

// A bounced address or a pause after weeks without entries: say so, and offer the way back.
function showEmailState(profile) {
  $("#email-bounced").hidden = !profile.email_bounced_at;
  $("#email-bounced [data-bounced-address]").textContent = profile.email || "";
  $("#email-bounced [data-bounced-on]").textContent = whenText(profile.email_bounced_at);
  $("#email-paused").hidden = !profile.digest_paused_at || !!profile.email_bounced_at;
  $("#email-paused [data-paused-on]").textContent = whenText(profile.digest_paused_at);
}

function whenText(instant) {
  return instant ? new Date(instant).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" }) : "";
}

// Saving the email on resumes it (the server clears the pause and the bounce).
for (const id of ["#email-retry", "#email-resume"]) {
  $(id).addEventListener("click", async () => {
    await saveProfile({ digest_enabled: true });
    emailForm.elements.digest_enabled.checked = true;
    showEmailState({});
    toast("The weekly email is on again.");
  });
}

$("#detect-zone").addEventListener("click", () => {
  $("#f-timezone").value = detected;
  $("#detect-zone").hidden = true;
});

function saveForm(form, transform = (v) => v) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const wrong = $$("input[pattern]", form).filter((input) => input.validity.patternMismatch);
    if (showErrors(form, Object.fromEntries(wrong.map((input) => [input.name, "Digits and spaces only, with an optional + at the start."])))) return;
    const values = transform(readAll(form, fieldNames(form)));
    await saveProfile(values);
    form.querySelector("[data-saved]").textContent = navigator.onLine ? "Saved." : "Saved on this phone; it will be sent when you're online.";
  });
}
saveForm(profileForm);
saveForm(emailForm, (v) => ({ ...v, digest_weekday: Number(v.digest_weekday), digest_hour: Number(v.digest_hour) }));

// --- Medications ----------------------------------------------------------------

async function loadMeds() {
  const result = await loadAll(MEDICATIONS, "medications");
  const courses = new Map((result.data || []).map((c) => [c.id, c]));
  for (const entry of await entries()) {
    if (entry.kind === "medication") courses.set(entry.id, { ...(courses.get(entry.id) || {}), ...entry.body, pending: true });
  }
  const list = [...courses.values()].sort((a, b) => (a.started_on < b.started_on ? 1 : -1));
  $("#med-list").replaceChildren(
    ...list.map((course) => {
      const active = !course.stopped_on || course.stopped_on >= today();
      return h(
        "li",
        { class: "med" },
        h("div", { class: "med-main" }, h("strong", {}, course.name), h("span", { class: "muted small block" }, [label("drug_class", course.drug_class), course.dose].filter(Boolean).join(" · "))),
        h(
          "span",
          { class: "muted small block" },
          `${longDate(course.started_on)} to ${course.stopped_on ? longDate(course.stopped_on) : "now"}`,
          course.pending ? h("span", { class: "badge" }, "not sent yet") : null,
        ),
        h(
          "div",
          { class: "chips-actions" },
          h("button", { type: "button", class: "btn btn-small", onclick: () => editMed(course) }, "Edit"),
          active && !course.stopped_on
            ? h("button", { type: "button", class: "btn btn-small", onclick: () => stopMed(course) }, "Stopped today")
            : null,
        ),
      );
    }),
  );
}

function longDate(iso) {
  return dayText(iso, { day: "numeric", month: "short", year: "numeric" });
}

function editMed(course) {
  fill(medForm, course);
  medForm.elements.id.value = course.id;
  $("#med-add").open = true;
  $("#f-name").focus();
}

async function stopMed(course) {
  await saveMedication({ id: course.id, stopped_on: today() });
  toast(`${course.name}: stopped today.`);
  loadMeds();
}

medForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = readAll(medForm, ["name", "drug_class", "dose", "started_on", "stopped_on"]);
  const problems = {};
  if (!values.name.trim()) problems.name = "What is it called?";
  if (!values.drug_class) problems.drug_class = "Choose the kind.";
  if (!values.started_on) problems.started_on = "When did you start?";
  if (values.stopped_on && values.started_on && values.stopped_on < values.started_on) problems.stopped_on = "The stop date is before the start.";
  if (showErrors(medForm, problems)) return;
  const existing = medForm.elements.id.value;
  await saveMedication({ id: existing || uuid(), ...values }, { create: !existing });
  medForm.reset();
  medForm.elements.id.value = "";
  $("#med-add").open = false;
  toast("Saved.");
  loadMeds();
});

// --- Delete account ---------------------------------------------------------------------

$("#delete-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  if (!navigator.onLine) {
    showErrors(form, { password: "You need a connection to delete your account." });
    return;
  }
  const response = await send("DELETE", ME, { password: form.elements.password.value }).catch(() => null);
  if (!response) {
    showErrors(form, { password: "The server can't be reached. Try again." });
    return;
  }
  if (response.status !== 204) {
    showErrors(form, fieldMessages(response.data));
    return;
  }
  // Nothing of the diary stays on this phone either.
  await transact("outbox", "readwrite", (store) => req(store.clear()));
  await cacheClear();
  navigator.serviceWorker?.controller?.postMessage({ type: "forget-pages" });
  location.assign("/accounts/login/");
});

Promise.all([loadProfile(), loadMeds(), loadReminders()]).finally(ready);
onChange((message) => {
  if (message.type === "synced") loadMeds();
});
