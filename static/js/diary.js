// The diary: a month of nights (cramps, cramp-free, not logged) and the cramps in it.

import { loadAll } from "./api.js";
import { boot, ready } from "./app.js";
import { entries, onChange, saveCheckin } from "./outbox.js";
import { $, addDays, episodeText, format, h, isoDate, nightOf, nightText, parseDate, timeText, today } from "./ui.js";

boot();

const params = new URLSearchParams(location.search);
const t = today();
let selected = params.get("night");
let month = (params.get("month") || selected || t).slice(0, 7);
let nights = {};

function monthBounds(ym) {
  const [y, m] = ym.split("-").map(Number);
  return { first: isoDate(new Date(y, m - 1, 1)), last: isoDate(new Date(y, m, 0)) };
}

function shiftMonth(ym, delta) {
  const [y, m] = ym.split("-").map(Number);
  return isoDate(new Date(y, m - 1 + delta, 1)).slice(0, 7);
}

async function loadMonth() {
  const { first, last } = monthBounds(month);
  const [eps, chk] = await Promise.all([
    loadAll(`/api/v1/episodes/?since=${first}&until=${last}`, `episodes:${month}`),
    loadAll(`/api/v1/checkins/?since=${first}&until=${last}`, `checkins:${month}`),
  ]);
  const episodes = new Map((eps.data || []).map((e) => [e.id, e]));
  const checkins = Object.fromEntries((chk.data || []).map((c) => [c.date, c]));
  const pending = new Set();
  for (const entry of await entries()) {
    if (entry.kind === "episode" && entry.method === "DELETE") episodes.delete(entry.id);
    else if (entry.kind === "episode") {
      const merged = { ...(episodes.get(entry.id) || {}), ...entry.body };
      merged.night = nightOf(merged.started_at);
      if (merged.night >= first && merged.night <= last) episodes.set(entry.id, merged);
      pending.add(entry.id);
    } else if (entry.kind === "checkin" && entry.date >= first && entry.date <= last) {
      checkins[entry.date] = { ...(checkins[entry.date] || {}), ...entry.body, date: entry.date };
    }
  }
  nights = {};
  for (let d = first; d <= last; d = addDays(d, 1)) nights[d] = { date: d, cramps: [], checkin: checkins[d] || null };
  for (const e of episodes.values()) {
    if (nights[e.night]) nights[e.night].cramps.push({ ...e, pending: pending.has(e.id) });
  }
  for (const night of Object.values(nights)) night.cramps.sort((a, b) => (a.started_at < b.started_at ? -1 : 1));
  const stale = !eps.fresh || !chk.fresh;
  $("#diary-note").textContent = stale ? "Offline: showing what this phone last saw, plus anything logged since." : "";
}

function stateOf(night) {
  if (night.date > t) return "future";
  if (night.cramps.length) return "cramp";
  if (night.checkin?.no_cramps === true) return "free";
  if (night.date === t) return "tonight";
  return "missing";
}

const STATE_WORDS = { cramp: "cramps", free: "cramp-free", missing: "not logged", future: "", tonight: "tonight" };

function renderCalendar() {
  const { first } = monthBounds(month);
  $("#month-title").textContent = format(parseDate(first), { month: "long", year: "numeric" });
  $("#month-next").disabled = month >= t.slice(0, 7);
  const lead = (parseDate(first).getDay() + 6) % 7; // Monday first
  const head = h("tr", {}, ...["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map((d) => h("th", { scope: "col", abbr: d }, d.slice(0, 1))));
  const cells = [...Array(lead).fill(null), ...Object.values(nights)];
  const rows = [];
  for (let i = 0; i < cells.length; i += 7) {
    const week = cells.slice(i, i + 7);
    while (week.length < 7) week.push(null);
    rows.push(
      h(
        "tr",
        {},
        ...week.map((night) => {
          if (!night) return h("td", {});
          const state = stateOf(night);
          const count = night.cramps.length;
          const words = state === "cramp" ? `${count} cramp${count === 1 ? "" : "s"}` : STATE_WORDS[state];
          const date = parseDate(night.date);
          // The name starts with the visible day number (WCAG 2.5.3), then says the rest.
          const rest = ` ${format(date, { month: "long" })}, ${format(date, { weekday: "long" })}${words ? `: ${words}` : ""}`;
          return h(
            "td",
            {},
            h(
              "button",
              {
                type: "button",
                class: `day day-${state}${night.date === selected ? " day-selected" : ""}`,
                "aria-pressed": night.date === selected ? "true" : "false",
                disabled: state === "future",
                onclick: () => select(night.date),
              },
              h("span", { class: "day-num" }, String(date.getDate())),
              h("span", { class: "visually-hidden" }, rest),
              h("span", { class: "day-mark", "aria-hidden": "true" }, state === "cramp" ? String(count) : state === "free" ? "✓" : ""),
            ),
          );
        }),
      ),
    );
  }
  $("#calendar").replaceChildren(h("table", { class: "cal" }, h("thead", {}, head), h("tbody", {}, ...rows)));

  const past = Object.values(nights).filter((n) => n.date < t);
  const logged = past.filter((n) => ["cramp", "free"].includes(stateOf(n)));
  const crampNights = past.filter((n) => stateOf(n) === "cramp").length;
  $("#month-stats").textContent = past.length
    ? `${logged.length} of ${past.length} nights logged: ${crampNights} with cramps, ${logged.length - crampNights} cramp-free.`
    : "";
}

function episodeItem(e) {
  const bits = [];
  if (!e.time_approximate) bits.push(timeText(e.started_at));
  if (e.severity !== null && e.severity !== undefined) bits.push(`${e.severity}/10`);
  if (e.duration_minutes) bits.push(`${Number(e.duration_minutes)} min`);
  return h(
    "li",
    {},
    h(
      "a",
      { class: "row-link", href: `/episode/?id=${e.id}` },
      h("span", { class: "dot dot-cramp", "aria-hidden": "true" }),
      h("span", { class: "row-main" }, episodeText(e), e.pending ? h("span", { class: "badge" }, "not sent yet") : null),
      h("span", { class: "row-side muted" }, bits.join(" · ") || "add details"),
    ),
  );
}

function renderNight() {
  const panel = $("#night-panel");
  const night = selected && nights[selected];
  panel.hidden = !night;
  if (!night) return;
  const state = stateOf(night);
  $("#night-panel-title").textContent = nightText(night.date);
  const words = {
    cramp: `${night.cramps.length} cramp${night.cramps.length === 1 ? "" : "s"}.`,
    free: "A cramp-free night.",
    missing: "Not logged yet. Had any cramps?",
    tonight: "Tonight hasn't finished yet.",
  };
  $("#night-panel-state").textContent = words[state] || "";
  $("#night-panel-list").replaceChildren(...night.cramps.map(episodeItem));
  $("#night-none").hidden = state !== "missing";
  $("#night-add").href = `/episode/?night=${night.date}`;
  $("#night-context").href = `/checkin/?date=${night.date}`;
}

function renderList() {
  const groups = Object.values(nights).filter((n) => n.cramps.length).reverse();
  $("#list-empty").hidden = groups.length > 0;
  $("#episode-list").replaceChildren(
    ...groups.map((night) => h("li", { class: "night-group" }, h("h3", { class: "night-title" }, nightText(night.date)), h("ul", { class: "plain-list" }, ...night.cramps.map(episodeItem)))),
  );
}

async function render() {
  await loadMonth();
  renderCalendar();
  renderNight();
  renderList();
}

function select(date) {
  selected = date;
  history.replaceState(null, "", `/diary/?night=${date}`);
  renderCalendar();
  renderNight();
  $("#night-panel-title").focus();
}

$("#month-prev").addEventListener("click", () => {
  month = shiftMonth(month, -1);
  selected = null;
  render();
});
$("#month-next").addEventListener("click", () => {
  month = shiftMonth(month, 1);
  selected = null;
  render();
});
$("#night-none").addEventListener("click", async () => {
  await saveCheckin(selected, { no_cramps: true });
  await render();
  $("#night-panel-title").focus();
});
onChange((message) => {
  if (message.type === "synced" && message.outcome === "go") render();
});

if (!selected && month === t.slice(0, 7)) selected = addDays(t, -1) >= monthBounds(month).first ? addDays(t, -1) : null;
render().finally(ready);
