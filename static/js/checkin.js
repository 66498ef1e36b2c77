// The check-in for one date: the answer about the night after it, and the day's
// context. Every change saves at once (merged into one pending upsert), and
// yesterday's values are one tap away.

import { loadAll } from "./api.js";
import { boot, ready } from "./app.js";
import { enhance, fill, read, write } from "./forms.js";
import { CHECKINS, entries, pendingCheckin, saveCheckin } from "./outbox.js";
import { $, $$, addDays, cupsFromFluid, dayText, fluidFromCups, fluidUnit, h, nightOf, showErrors, today } from "./ui.js";

boot();

const form = $("#checkin-form");
const t = today();
const query = new URLSearchParams(location.search);
// ?morning (the home-screen shortcut "Morning check-in"): yesterday's, whose night just ended.
let date = query.get("date") || (query.has("morning") ? addDays(t, -1) : t);
if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || date > t) date = t;

const CONTEXT = [
  "fluids_cups",
  "exercise_minutes",
  "harder_than_usual",
  "hours_sitting",
  "hours_standing",
  "stress",
  "feet_cold",
  "stretched_before_bed",
  "sleep_hours",
  "heavy_sweating",
  "vomiting_diarrhoea",
  "long_travel",
  "exercise_intensity",
  "steps",
  "sleep_disturbance",
];
const UNITS = { fluids_cups: fluidUnit(), exercise_minutes: "min", hours_sitting: "h", hours_standing: "h", sleep_hours: "h", steps: "steps" };

// The diary keeps fluids in cups of 250 ml; the form shows them in the unit chosen under You.
const shown = (name, value) => (name === "fluids_cups" ? fluidFromCups(value) : value);
const stored = (name, value) => (name === "fluids_cups" ? cupsFromFluid(value) : value);
const shownAll = (record) => Object.fromEntries(Object.entries(record).map(([name, value]) => [name, shown(name, value)]));

async function checkinFor(day) {
  // The list (empty or one row) rather than the detail URL, whose 404 browsers log as an error.
  const server = await loadAll(`${CHECKINS}?since=${day}&until=${day}`, `checkin:${day}`);
  const stored = server.data[0] || {};
  const pending = await pendingCheckin(day);
  return { ...stored, ...(pending?.body || {}) };
}

function title() {
  if (date === t) return "Today";
  if (date === addDays(t, -1)) return "Yesterday";
  return dayText(date, { weekday: "long", day: "numeric", month: "long" });
}

function valueText(name, value) {
  if (value === true) return "yes";
  if (value === false) return "no";
  return UNITS[name] ? `${Number(shown(name, value)).toLocaleString()} ${UNITS[name]}` : String(value);
}

async function start() {
  $("#checkin-title").textContent = title();
  document.title = `${title()} · CrampTrack`;
  $("#day-prev").href = `/checkin/?date=${addDays(date, -1)}`;
  const next = $("#day-next");
  if (date >= t) {
    next.removeAttribute("href");
    next.setAttribute("aria-disabled", "true");
  } else {
    next.href = `/checkin/?date=${addDays(date, 1)}`;
  }
  // The night after today hasn't happened yet.
  $("#night-card").hidden = date >= t;
  $("#night-question").textContent = date === addDays(t, -1) ? "Any cramps last night?" : `Any cramps the night after ${dayText(date)}?`;
  $("#night-log").href = `/episode/?night=${date}`;

  const [mine, yesterday, cramps] = await Promise.all([
    checkinFor(date),
    checkinFor(addDays(date, -1)),
    loadAll(`/api/v1/episodes/?since=${date}&until=${date}`, `episodes:${date}`),
  ]);
  const pendingCramps = (await entries()).filter((e) => e.kind === "episode" && e.method === "POST");
  const logged = (cramps.data || []).length + pendingCramps.filter((e) => e.body.started_at && nightOf(e.body.started_at) === date).length;
  if (logged) {
    $("#night-episodes").textContent = `${logged} cramp${logged === 1 ? "" : "s"} logged that night.`;
    const none = form.querySelector('[name="no_cramps"][value="true"]');
    none.disabled = true;
    none.closest("label").classList.add("disabled");
  }
  fill(form, shownAll(mine));
  if (logged && mine.no_cramps !== true) write(form, "no_cramps", false);

  // Yesterday's value beside each field, and all of them at once.
  let any = false;
  for (const button of $$("[data-yesterday]", form)) {
    const name = button.dataset.yesterday;
    const value = yesterday[name];
    if (value === null || value === undefined || value === "") continue;
    any = true;
    button.hidden = false;
    const field = button.closest("[data-field]").querySelector("label, .field-label, legend").textContent;
    button.replaceChildren(`Yesterday: ${valueText(name, value)}`, h("span", { class: "visually-hidden" }, ` (use for ${field})`));
    button.addEventListener("click", () => {
      write(form, name, shown(name, value));
      queue([name]);
    });
  }
  const copy = $("#copy-yesterday");
  copy.hidden = !any;
  copy.addEventListener("click", () => {
    const names = CONTEXT.filter((n) => yesterday[n] !== null && yesterday[n] !== undefined);
    for (const name of names) write(form, name, shown(name, yesterday[name]));
    queue(names);
  });
}

// Autosave: collect changed fields briefly, then one merged save.
const changed = new Set();
let timer = null;

function queue(names) {
  for (const name of names) changed.add(name);
  clearTimeout(timer);
  $("#save-state").textContent = "Saving…";
  timer = setTimeout(flush, 400);
}

async function flush() {
  const names = [...changed];
  changed.clear();
  const values = Object.fromEntries(names.map((name) => [name, stored(name, read(form, name))]));
  const problems = {};
  const sitting = read(form, "hours_sitting");
  const standing = read(form, "hours_standing");
  if (sitting !== null && standing !== null && sitting + standing > 24) problems.hours_standing = "Sitting and standing add up to more than 24 hours.";
  if (showErrors(form, problems)) {
    $("#save-state").textContent = "Not saved: check the highlighted field.";
    return;
  }
  await saveCheckin(date, values);
  $("#save-state").textContent = navigator.onLine ? "Saved." : "Saved on this phone.";
}

enhance(form, (name) => queue([name]));
form.addEventListener("submit", (event) => event.preventDefault());
$("#checkin-done").addEventListener("click", async (event) => {
  if (!changed.size) return;
  event.preventDefault();
  const href = event.currentTarget.href;
  clearTimeout(timer);
  await flush();
  location.assign(href);
});
window.addEventListener("pagehide", () => {
  if (changed.size) flush();
});
start().finally(ready);
