// The log page: "Cramp now" -> muscle -> side (three taps), the morning
// "any cramps last night?" card, and what's left to fill in today.

import { NetworkError, load, loadAll, send } from "./api.js";
import { boot, ready } from "./app.js";
import { URGENT, banner } from "./flags.js";
import { closeReminder, deleteEpisode, entries, onChange, saveCheckin, saveEpisode, sync, uuid } from "./outbox.js";
import { $, $$, addDays, dayText, episodeText, h, hourText, isoDate, localInput, nightOf, nightText, shortNight, timeText, toast, today } from "./ui.js";

boot();

// --- The three taps ---------------------------------------------------------------
// "Cramp now" -> muscle -> side. An earlier cramp ("Log an earlier cramp", or "I had cramps" in the
// morning) starts with one more tap: the hour, from chips of last night's hours.

const form = $("#quick-log");
const state = { tappedAt: null, muscle: null, side: null, lastId: null, preset: "now", when: null };
const STEPS = ["#step-when", "#step-muscle", "#step-side"];

function show(section) {
  for (const id of ["#step-start", "#quick-log", "#step-done", "#today", "#morning", "#morning-done"]) $(id).hidden = true;
  for (const id of section) $(id).hidden = false;
  $("#flag-banner").hidden = !flags.shown || !section.includes("#step-start");
}

function showStep(step) {
  for (const id of STEPS) $(id).hidden = id !== step;
  // The start chips ("now", "15 min ago"...) unless the hour is chosen already, or being chosen.
  $("#time-chips").hidden = step === "#step-when" || state.when !== null;
  const back = { "#step-muscle": state.preset === "now" ? null : "‹ Time", "#step-side": "‹ Muscle" }[step];
  $("#back-step").hidden = !back;
  if (back) $("#back-step").textContent = back;
  $(`${step} h2`).focus();
}

// "now", or "earlier" and "night", which ask for the hour first.
function startFlow(preset = "now", push = true) {
  state.tappedAt = new Date();
  state.muscle = state.side = state.when = null;
  state.preset = preset;
  $("#when-now-label").textContent = `Now, ${timeText(state.tappedAt)}`;
  form.elements.when.value = "now";
  $("#custom-at").max = localInput(new Date());
  if (!$("#custom-at").value) $("#custom-at").value = localInput(state.tappedAt);
  toggleCustom();
  show(["#quick-log"]);
  if (preset !== "now") hourChips();
  showStep(preset === "now" ? "#step-muscle" : "#step-when");
  if (push) history.pushState({ step: preset === "now" ? "muscle" : "when" }, "");
}

// The night that most recently began: the one going on, or after noon the one that ended this morning.
function lastNight(now) {
  return now.getHours() < 12 ? nightOf(now) : addDays(today(), -1);
}

// One chip per hour from 8 pm to 8 am of last night, none in the future.
function hourChips() {
  const now = new Date();
  const night = lastNight(now);
  const [y, m, d] = night.split("-").map(Number);
  const seen = new Set();
  const hours = [];
  for (let hour = 20; hour <= 32; hour++) {
    const at = new Date(y, m - 1, d, hour); // past midnight rolls into the next day; a DST gap repeats an hour
    if (at > now || seen.has(at.getTime())) continue;
    seen.add(at.getTime());
    hours.push(at);
  }
  $("#when-night").textContent = `${nightText(night)}, ${dayText(night)} to ${dayText(addDays(night, 1))}`;
  $("#hour-chips").replaceChildren(
    ...hours.map((at) => h("button", { type: "button", class: "choice choice-hour", onclick: () => chooseTime(at, false) }, hourText(at))),
  );
}

function chooseTime(at, approximate) {
  state.when = { at, approximate };
  showStep("#step-muscle");
  history.pushState({ step: "muscle" }, "");
}

function toggleCustom() {
  $("#custom-time").hidden = form.elements.when.value !== "custom";
}

function chooseMuscle(muscle, push = true) {
  state.muscle = muscle;
  showStep("#step-side");
  const name = $(`[data-muscle="${muscle}"] span`).textContent;
  $("#side-summary").textContent = `${name}, ${whenText()}`;
  if (push) history.pushState({ step: "side" }, "");
}

function whenText() {
  if (state.when) return state.when.approximate ? "last night, time unsure" : `${dayText(isoDate(state.when.at))}, ${timeText(state.when.at)}`;
  const when = form.elements.when.value;
  if (when === "now") return "now";
  if (when === "custom") return "at the time you set";
  return `${when} minutes ago`;
}

// The start time the user picked, or an error message.
function startedAt() {
  if (state.when) return state.when;
  const when = form.elements.when.value;
  if (when === "now") return { at: state.tappedAt, approximate: false };
  if (when === "15" || when === "30") return { at: new Date(state.tappedAt - Number(when) * 60000), approximate: false };
  const value = $("#custom-at").value;
  if (!value) return { error: "Pick a date and time." };
  const at = new Date(value);
  if (at > new Date(Date.now() + 60000)) return { error: "That time is in the future." };
  return { at, approximate: $("#custom-approx").checked };
}

async function chooseSide(side) {
  const when = startedAt();
  if (when.error) {
    form.elements.when.value = "custom";
    toggleCustom();
    toast(when.error);
    $("#custom-at").focus();
    return;
  }
  const episode = {
    id: uuid(),
    started_at: when.at.toISOString(),
    time_approximate: when.approximate,
    muscle: state.muscle,
    side,
  };
  await saveEpisode(episode, { create: true });
  state.lastId = episode.id;
  $("#done-text").textContent = `${episodeText(episode)}, ${when.approximate ? "last night" : timeText(when.at)}. ${
    navigator.onLine ? "Saved." : "Saved on this phone; it will be sent when you're back online."
  }`;
  $("#done-details").href = `/episode/?id=${episode.id}`;
  show(["#step-done"]);
  $("#done-title").focus();
  history.replaceState({ step: "done" }, "");
  if (navigator.vibrate) navigator.vibrate(30);
}

function reset() {
  show(["#step-start", "#today"]);
  history.replaceState(null, "");
  refreshToday();
}

$("#cramp-now").addEventListener("click", () => startFlow("now"));
$("#cramp-earlier").addEventListener("click", () => startFlow("earlier"));
$("#when-unsure").addEventListener("click", () => {
  // 3 a.m. of the night the hour chips show, marked as a guess; in the small hours, when that is
  // still to come, now: the cramp belongs to the night going on, not the one before.
  const now = new Date();
  const [y, m, d] = lastNight(now).split("-").map(Number);
  const at = new Date(y, m - 1, d + 1, 3);
  chooseTime(at > now ? now : at, true);
});
$("#when-other").addEventListener("click", () => {
  // The date-and-time picker: a cramp on another day, or at a minute the chips don't have.
  form.elements.when.value = "custom";
  toggleCustom();
  showStep("#step-muscle");
  history.pushState({ step: "muscle" }, "");
  $("#custom-at").focus();
});
$("#cancel-log").addEventListener("click", reset);
$("#back-step").addEventListener("click", () => history.back());
form.addEventListener("change", (event) => {
  if (event.target.name === "when") toggleCustom();
});
form.addEventListener("submit", (event) => event.preventDefault());
for (const button of $$("[data-muscle]")) button.addEventListener("click", () => chooseMuscle(button.dataset.muscle));
for (const button of $$("[data-side]")) button.addEventListener("click", () => chooseSide(button.dataset.side));
$("#done-another").addEventListener("click", () => startFlow(state.preset));
$("#done-close").addEventListener("click", reset);
$("#done-undo").addEventListener("click", async () => {
  if (state.lastId) await deleteEpisode(state.lastId);
  toast("Removed.");
  reset();
});

// The phone's back button steps back through the taps.
window.addEventListener("popstate", (event) => {
  const step = event.state?.step;
  if (step === "when") {
    state.when = null;
    showStep("#step-when");
  } else if (step === "muscle") {
    showStep("#step-muscle");
  } else if (!step || step === "done") {
    reset();
  }
});

// --- Morning check-in and today's cards ----------------------------------------------

let known = { checkins: {}, episodes: [] };

async function loadRecent() {
  const t = today();
  const [checkins, episodes] = await Promise.all([
    loadAll(`/api/v1/checkins/?since=${addDays(t, -2)}&until=${t}`, "recent-checkins"),
    loadAll(`/api/v1/episodes/?since=${addDays(t, -7)}`, "recent-episodes"),
  ]);
  const byDate = Object.fromEntries((checkins.data || []).map((c) => [c.date, c]));
  const list = new Map((episodes.data || []).map((e) => [e.id, e]));
  // What this phone holds and the server doesn't know yet.
  for (const entry of await entries()) {
    if (entry.kind === "checkin") byDate[entry.date] = { ...(byDate[entry.date] || {}), ...entry.body, date: entry.date };
    if (entry.kind === "episode" && entry.method === "DELETE") list.delete(entry.id);
    else if (entry.kind === "episode") list.set(entry.id, { ...(list.get(entry.id) || {}), ...entry.body, night: nightOf(entry.body.started_at || list.get(entry.id)?.started_at) });
  }
  known = { checkins: byDate, episodes: [...list.values()].sort((a, b) => (a.started_at < b.started_at ? 1 : -1)) };
}

async function refreshToday() {
  await loadRecent();
  const t = today();
  const night = addDays(t, -1);
  const hour = new Date().getHours();
  const checkin = known.checkins[night];
  const cramps = known.episodes.filter((e) => e.night === night);
  const answered = checkin?.no_cramps === true || checkin?.no_cramps === false || cramps.length > 0;
  if (answered) closeReminder(night);
  const flowOpen = !$("#quick-log").hidden || !$("#step-done").hidden;
  if (!flowOpen) {
    // Between midnight and 4 a.m. "last night" is the night still going on.
    $("#morning").hidden = answered || hour < 4;
    $("#morning-done").hidden = !(checkin?.no_cramps === true && hour >= 4);
    $("#morning-done-text").textContent = "Last night: no cramps.";
  }

  const context = known.checkins[t];
  const filled = context && ["fluids_cups", "exercise_minutes", "feet_cold", "stress", "hours_sitting"].some((k) => context[k] !== null && context[k] !== undefined);
  $("#evening-title").textContent = filled ? "Today's check-in ✓" : "Evening check-in";
  $("#evening-text").textContent = filled ? "Saved. Tap to change it." : "Fluids, exercise, cold feet, sleep: one minute.";
  $("#evening-card").href = `/checkin/?date=${t}`;

  const bare = known.episodes.filter((e) => e.night >= addDays(t, -2) && (e.severity === null || e.severity === undefined));
  $("#details-card").hidden = !bare.length;
  if (bare.length) {
    $("#details-title").textContent = bare.length === 1 ? "1 cramp needs details" : `${bare.length} cramps need details`;
    $("#details-card").href = `/episode/?id=${bare[0].id}`;
  }

  const recent = known.episodes.slice(0, 5);
  $("#recent").hidden = !recent.length;
  $("#recent-list").replaceChildren(
    ...recent.map((e) =>
      h(
        "li",
        {},
        h(
          "a",
          { class: "row-link", href: `/episode/?id=${e.id}` },
          h("span", { class: "dot dot-cramp", "aria-hidden": "true" }),
          h("span", { class: "row-main" }, episodeText(e)),
          h("span", { class: "row-side muted" }, `${shortNight(e.night)}${e.time_approximate ? "" : ` · ${timeText(e.started_at)}`}`),
        ),
      ),
    ),
  );
}

$("#morning-none").addEventListener("click", async () => {
  const night = addDays(today(), -1);
  await saveCheckin(night, { no_cramps: true });
  $("#morning").hidden = true;
  $("#morning-done").hidden = false;
  $("#morning-done-text").textContent = "Cramp-free night recorded. Good morning!";
  $("#morning-undo").focus();
});
$("#morning-undo").addEventListener("click", async () => {
  await saveCheckin(addDays(today(), -1), { no_cramps: null });
  $("#morning-done").hidden = true;
  $("#morning").hidden = false;
  $("#morning-none").focus();
});
$("#morning-yes").addEventListener("click", () => startFlow("night"));

// --- Red flags that need help now or today: in view until the person has seen someone ----------

const flags = { shown: 0, pending: false };

async function showFlags() {
  const server = await load("/api/v1/insights/red-flags/", "red-flags");
  const active = new Map();
  for (const item of server.data || []) {
    if (!URGENT[item.flag]) continue;
    const last = dayText(item.last_reported_on);
    active.set(item.flag, item.reports > 1 ? `Reported ${item.reports} times, last on ${last}.` : `Reported on ${last}.`);
  }
  // Saved on this phone and not on the server yet (offline, say): the advice can't wait for it.
  flags.pending = false;
  for (const entry of await entries()) {
    if (entry.kind !== "episode" || entry.method === "DELETE") continue;
    for (const name of Object.keys(URGENT)) {
      if (entry.body?.[name] !== true || active.has(name)) continue;
      active.set(name, "Saved on this phone, not sent yet.");
      flags.pending = true;
    }
  }
  const names = Object.keys(URGENT).filter((name) => active.has(name)); // most urgent first
  $("#flag-banner").replaceChildren(...names.map((name) => banner(name, active.get(name), seen)));
  flags.shown = names.length;
  $("#flag-banner").hidden = !flags.shown || $("#step-start").hidden;
}

// "I've seen someone about this": the same acknowledgement as on Insights and in the email.
async function seen(name, button) {
  button.disabled = true;
  await sync({ force: true }); // a report still on this phone has to reach the server first
  let response = null;
  try {
    response = await send("POST", `/api/v1/insights/red-flags/${encodeURIComponent(name)}/acknowledge/`);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
  }
  if (response?.ok) {
    await showFlags();
    toast("Noted. It's in your history on Insights; a new report brings it back.");
    return;
  }
  button.disabled = false;
  toast(response ? "That didn't save. Please try again." : "That needs a connection. Try again when you're online.");
}

onChange((message) => {
  if (message.type === "synced" && flags.pending) showFlags();
});

if (new URLSearchParams(location.search).has("now")) startFlow("now", false);
Promise.all([refreshToday(), showFlags()]).finally(ready);
