// Insights: red flags first, then weekly cramps with completeness, time of night,
// each pattern with its plausible range on a log axis, and what can't be told yet.
// Charts are inline SVG drawn here; no chart library.

import { NetworkError, load, send } from "./api.js";
import { boot, ready } from "./app.js";
import { $, format, h, hourText, parseDate, timeText, toast } from "./ui.js";

boot();

const titles = JSON.parse($("#insights").dataset.titles || "{}");
const URGENT = ["E0", "E1", "E2"];
const STATUS = {
  possible_pattern_higher: "Possible pattern: more cramps",
  possible_pattern_lower: "Possible pattern: fewer cramps",
  no_clear_pattern: "No clear difference",
};

function titleOf(finding) {
  return titles.keys?.[finding.key] || titles.triggers?.[finding.trigger] || titles.rules?.[finding.rule] || finding.rule;
}

function svg(width, height, label, ...children) {
  return h("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart-svg", role: "img", "aria-label": label }, ...children);
}

// A visually hidden table with the numbers behind a chart, for screen readers.
function dataTable(caption, headers, rows) {
  // Wrapped: a table grows past its own width, and would scroll the page sideways.
  return h(
    "div",
    { class: "visually-hidden" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, ...rows.map((row) => h("tr", {}, ...row.map((x) => h("td", {}, String(x)))))),
    ),
  );
}

function shortDate(iso) {
  return format(parseDate(iso), { day: "numeric", month: "short" });
}

function longDate(iso) {
  return format(parseDate(iso), { day: "numeric", month: "short", year: "numeric" });
}

// "I've seen someone about this": the flag moves to the history; a new report raises it again.
async function acknowledge(flag, button) {
  button.disabled = true;
  try {
    const response = await send("POST", `/api/v1/insights/red-flags/${encodeURIComponent(flag)}/acknowledge/`);
    if (!response.ok) throw new Error(String(response.status));
    await start();
  } catch (error) {
    button.disabled = false;
    toast(error instanceof NetworkError ? "That needs a connection. Try again when you're online." : "That didn't save. Please try again.");
  }
}

function weeklyChart(weeks) {
  if (!weeks.length) return h("p", { class: "muted" }, "Nothing logged yet.");
  const W = 320;
  const H = 150;
  const top = 16;
  const base = 108;
  const gap = 4;
  const slot = W / weeks.length;
  const max = Math.max(1, ...weeks.map((w) => w.cramps));
  const parts = [];
  weeks.forEach((week, i) => {
    const x = i * slot + gap / 2;
    const bw = slot - gap;
    const bh = ((base - top) * week.cramps) / max;
    const thin = week.completeness < 0.5;
    parts.push(
      h("rect", { x, y: base - bh, width: bw, height: Math.max(bh, week.cramps ? 2 : 0), rx: 3, class: thin ? "bar bar-thin" : "bar" }),
      // A week with no logged night has no count: "0" there would read as cramp-free.
      week.logged_nights ? h("text", { x: x + bw / 2, y: base - bh - 4, class: "bar-label", "text-anchor": "middle" }, String(week.cramps)) : null,
      // Completeness: a track and how much of it the logged nights fill.
      h("rect", { x, y: base + 6, width: bw, height: 6, rx: 3, class: "track" }),
      h("rect", { x, y: base + 6, width: bw * week.completeness, height: 6, rx: 3, class: "fill" }),
    );
    // Every third week counted back from the latest, which is always labelled: evenly spaced, never touching.
    if ((weeks.length - 1 - i) % 3 === 0) {
      parts.push(h("text", { x: x + bw / 2, y: H - 6, class: "axis-label", "text-anchor": "middle" }, shortDate(week.week_of)));
    }
  });
  const total = weeks.reduce((sum, w) => sum + w.cramps, 0);
  return h(
    "div",
    {},
    svg(W, H, `Cramps per week for the last ${weeks.length} weeks: ${total} in all. The thin bar under each week shows how many of its nights were logged.`, ...parts),
    h(
      "p",
      { class: "chart-key small muted" },
      h("span", { class: "key key-bar", "aria-hidden": "true" }),
      "cramps  ",
      h("span", { class: "key key-fill", "aria-hidden": "true" }),
      "nights logged  ",
      h("span", { class: "key key-thin", "aria-hidden": "true" }),
      "under half logged",
    ),
    dataTable("Cramps per week", ["Week of", "Cramps", "Nights with cramps", "Nights logged"], weeks.map((w) => [w.week_of, w.cramps, w.cramp_nights, `${w.logged_nights} of ${w.nights}`])),
  );
}

function hoursChart(byHour) {
  const order = [...Array(24).keys()].map((i) => (i + 12) % 24); // noon to noon: the night in the middle
  const total = byHour.reduce((a, b) => a + b, 0);
  if (!total) return h("p", { class: "muted" }, "No cramps with an exact time yet.");
  const W = 320;
  const H = 120;
  const base = 92;
  const slot = W / 24;
  const max = Math.max(1, ...byHour);
  const parts = [];
  const at = (hour) => hourText(new Date(2000, 0, 1, hour)); // in the clock chosen under You
  order.forEach((hour, i) => {
    const bh = ((base - 8) * byHour[hour]) / max;
    const night = hour >= 21 || hour < 7;
    parts.push(h("rect", { x: i * slot + 1, y: base - bh, width: slot - 2, height: Math.max(bh, byHour[hour] ? 2 : 0), rx: 2, class: night ? "bar" : "bar bar-day" }));
    if (hour % 6 === 0) parts.push(h("text", { x: i * slot + slot / 2, y: H - 8, class: "axis-label", "text-anchor": "middle" }, at(hour)));
  });
  parts.push(h("line", { x1: 0, x2: W, y1: base + 0.5, y2: base + 0.5, class: "axis" }));
  const peak = byHour.indexOf(Math.max(...byHour));
  return h(
    "div",
    {},
    svg(W, H, `Cramps by hour of the day they started, ${total} in all; most began between ${at(peak)} and ${at((peak + 1) % 24)}.`, ...parts),
    dataTable("Cramps by starting hour", ["Hour", "Cramps"], order.map((hour) => [at(hour), byHour[hour]])),
  );
}

// The rate ratio and its plausible range (valid however often the diary is looked at) on a log axis from 1/4 to 4.
function intervalChart(finding) {
  const W = 300;
  const H = 58;
  const pad = 16;
  const lo = Math.log(0.25);
  const hi = Math.log(4);
  const x = (v) => pad + ((Math.log(Math.min(4, Math.max(0.25, v))) - lo) / (hi - lo)) * (W - 2 * pad);
  const [low, high] = finding.interval || [null, null];
  const parts = [h("line", { x1: pad, x2: W - pad, y1: 24, y2: 24, class: "axis" })];
  for (const tick of [0.25, 0.5, 1, 2, 4]) {
    parts.push(
      h("line", { x1: x(tick), x2: x(tick), y1: tick === 1 ? 8 : 20, y2: tick === 1 ? 40 : 28, class: tick === 1 ? "axis-one" : "axis" }),
      h("text", { x: x(tick), y: 52, class: "axis-label", "text-anchor": "middle" }, tick === 1 ? "same" : tick < 1 ? `×${tick}` : `×${tick}`),
    );
  }
  if (low !== null && low !== undefined) {
    const right = high === null || high === undefined ? W - pad : x(high);
    parts.push(h("line", { x1: x(low), x2: right, y1: 24, y2: 24, class: "ci" }));
    if (high === null || high === undefined || high > 4) parts.push(h("path", { d: `M${W - pad} 24 l-7 -5 v10 z`, class: "ci-arrow" }));
    if (low < 0.25) parts.push(h("path", { d: `M${pad} 24 l7 -5 v10 z`, class: "ci-arrow" }));
  }
  if (finding.rate_ratio) parts.push(h("circle", { cx: x(finding.rate_ratio), cy: 24, r: 6, class: "ci-point" }));
  const fmt = (v) => (v === null || v === undefined ? "no upper limit yet" : v.toFixed(1));
  const label = finding.rate_ratio
    ? `About ${finding.rate_ratio.toFixed(1)} times as many cramps per night; plausible range ${fmt(low)} to ${fmt(high)}.`
    : "No rate ratio yet.";
  return h(
    "figure",
    { class: "interval" },
    svg(W, H, label, ...parts),
    h(
      "figcaption",
      { class: "small muted", "aria-hidden": "true" },
      h("span", {}, "← fewer"),
      h("span", {}, finding.rate_ratio ? `×${finding.rate_ratio.toFixed(1)} (range ${fmt(low)} to ${fmt(high)})` : ""),
      h("span", {}, "more →"),
    ),
  );
}

function comparison(counts) {
  if (!counts || counts.nights_exposed === undefined) return null;
  const rate = (c, n) => (n ? (c / n).toFixed(1) : "–");
  return h(
    "div",
    { class: "compare" },
    h("p", {}, h("strong", {}, `${counts.cramps_exposed} cramps in ${counts.nights_exposed} nights`), h("span", { class: "muted small" }, ` ${rate(counts.cramps_exposed, counts.nights_exposed)} a night`)),
    h("p", { class: "vs muted" }, "vs"),
    h("p", {}, h("strong", {}, `${counts.cramps_other} in ${counts.nights_other} other nights`), h("span", { class: "muted small" }, ` ${rate(counts.cramps_other, counts.nights_other)} a night`)),
  );
}

function flagCard(finding) {
  const level = titles.levels?.[finding.escalation] || { label: "", action: "" };
  return h(
    "article",
    { class: `card card-alarm level-${finding.escalation}` },
    h("p", { class: "eyebrow" }, `${level.label}: ${titleOf(finding)}`),
    h("h3", { class: "card-title" }, level.action),
    h("p", {}, finding.message),
    finding.source ? h("p", { class: "small muted" }, finding.source) : null,
    finding.counts?.flag
      ? h(
          "p",
          {},
          h("button", { type: "button", class: "btn btn-small", onclick: (event) => acknowledge(finding.counts.flag, event.currentTarget) }, "I've seen someone about this"),
          h("span", { class: "small muted block" }, "It stays here until you say so, then moves to your history. A new report brings it back."),
        )
      : null,
  );
}

function historyItem(ack) {
  const reported = ack.first_reported_on === ack.last_reported_on ? longDate(ack.first_reported_on) : `${longDate(ack.first_reported_on)} to ${longDate(ack.last_reported_on)}`;
  return h(
    "li",
    { class: "waiting-item" },
    h("strong", {}, ack.label),
    h("span", { class: "small muted block" }, `Reported ${reported}; you saw someone about it (noted ${format(new Date(ack.acknowledged_at), { dateStyle: "medium" })}).`),
  );
}

function patternCard(finding) {
  return h(
    "article",
    { class: `card pattern pattern-${finding.status}` },
    h("p", { class: "eyebrow" }, STATUS[finding.status] || ""),
    h("h3", { class: "card-title" }, titleOf(finding)),
    comparison(finding.counts),
    finding.interval ? intervalChart(finding) : null,
    h("p", {}, finding.message),
    finding.tip ? h("p", { class: "tip" }, h("strong", {}, "Worth trying: "), finding.tip) : null,
    finding.source ? h("p", { class: "small muted" }, finding.source) : null,
  );
}

function render(data) {
  const findings = data.findings || [];
  const flags = findings.filter((f) => URGENT.includes(f.escalation));
  const patterns = findings.filter((f) => !flags.includes(f) && f.status in STATUS);
  const waiting = findings.filter((f) => f.status === "insufficient_data");
  const notes = findings.filter((f) => !flags.includes(f) && !patterns.includes(f) && !waiting.includes(f));

  $("#flags").hidden = !flags.length;
  $("#flags-list").replaceChildren(...flags.map(flagCard));
  const c = data.completeness || {};
  $("#completeness").textContent = c.days ? `You logged ${c.logged_nights} of the last ${c.days} nights (${Math.round((c.share || 0) * 100)}%). Unlogged nights are left out, never counted as cramp-free.` : "";
  $("#weekly-chart").replaceChildren(weeklyChart(data.weekly || []));
  $("#hours-chart").replaceChildren(hoursChart(data.by_hour || Array(24).fill(0)));
  $("#patterns").hidden = !patterns.length;
  $("#patterns-list").replaceChildren(...patterns.map(patternCard));
  $("#waiting").hidden = !waiting.length;
  $("#waiting-list").replaceChildren(
    ...waiting.map((f) =>
      h(
        "li",
        { class: "waiting-item" },
        h("strong", {}, titleOf(f)),
        h("span", { class: "muted" }, f.nights_needed ? ` about ${f.nights_needed} more logged nights needed` : " more cramps needed to compare"),
        f.counts?.nights_exposed !== undefined ? h("span", { class: "small muted block" }, `So far: ${f.counts.cramps_exposed} cramps in ${f.counts.nights_exposed} nights vs ${f.counts.cramps_other} in ${f.counts.nights_other}.`) : null,
      ),
    ),
  );
  const history = data.red_flag_history || [];
  $("#flag-history").hidden = !history.length;
  $("#flag-history-list").replaceChildren(...history.map(historyItem));
  $("#notes").hidden = !notes.length;
  $("#notes-list").replaceChildren(
    ...notes.map((f) => h("article", { class: "card" }, h("h3", { class: "card-title" }, titleOf(f)), h("p", {}, f.message), f.tip ? h("p", { class: "tip" }, f.tip) : null)),
  );
}

async function start() {
  const result = await load("/api/v1/insights/", "insights");
  const note = $("#insights-note");
  if (!result.data) {
    note.textContent = "Insights need a connection the first time. Your logging works offline.";
    return;
  }
  render(result.data);
  const when = result.data.analysed_at ? `${format(new Date(result.data.analysed_at), { dateStyle: "medium" })}, ${timeText(result.data.analysed_at)}` : null;
  if (!result.fresh) note.textContent = `Offline: the patterns as of ${when || "your last visit"}.`;
  else if (!when) note.textContent = "Not analysed yet. Patterns appear after a few weeks of logging; keep answering the morning check-in.";
  else note.textContent = `Updated ${when}.`;
}

start().finally(ready);
