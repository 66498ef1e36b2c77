// Small DOM and date helpers shared by the pages.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// Build an element: h("li", {class: "x", dataset: {id}}, "text", child...)
export function h(tag, attrs = {}, ...children) {
  const svg = ["svg", "rect", "line", "circle", "path", "text", "g", "title"].includes(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function vocab() {
  if (!vocab.cached) vocab.cached = JSON.parse(document.body.dataset.vocab || "{}");
  return vocab.cached;
}

export function label(kind, value) {
  return vocab()[kind]?.[value] ?? value ?? "";
}

// --- Fluids: check-ins store cups of 250 ml; people enter and read ml or US fl oz ---------

export const CUP_ML = 250;
const ML_PER_FL_OZ = 29.5735;

// "ml" or "fl oz", as chosen under You (<body data-fluid-unit>).
export const fluidUnit = () => (document.body?.dataset.fluidUnit === "us_fl_oz" ? "fl oz" : "ml");

export function fluidFromCups(cups) {
  if (cups === null || cups === undefined || cups === "") return null;
  const ml = Number(cups) * CUP_ML;
  return fluidUnit() === "fl oz" ? Math.round(ml / ML_PER_FL_OZ) : Math.round(ml);
}

// Cups to one decimal, as the server keeps them: to 25 ml, under an ounce, so a count in fl oz comes back unchanged.
export function cupsFromFluid(amount) {
  if (amount === null || amount === undefined || amount === "") return null;
  const ml = Number(amount) * (fluidUnit() === "fl oz" ? ML_PER_FL_OZ : 1);
  return Math.round((ml / CUP_ML) * 10) / 10;
}

// --- Dates: nights run from noon to noon in the user's own time ------------------

const pad = (n) => String(n).padStart(2, "0");

export function isoDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function parseDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(y, m - 1, d);
}

export function addDays(iso, days) {
  const d = parseDate(iso);
  d.setDate(d.getDate() + days);
  return isoDate(d);
}

export function today() {
  return isoDate(new Date());
}

// The local date D whose night (D 12:00 to D+1 12:00) contains `instant`.
export function nightOf(instant) {
  const d = new Date(instant);
  if (d.getHours() < 12) d.setDate(d.getDate() - 1);
  return isoDate(d);
}

// For <input type="datetime-local">: local wall time, no zone.
export function localInput(date) {
  const d = new Date(date);
  return `${isoDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// Intl formatters are slow to build (toLocale*String builds one per call): keep them.
const formatters = new Map();

function formatter(options) {
  const key = JSON.stringify(options);
  if (!formatters.has(key)) formatters.set(key, new Intl.DateTimeFormat([], options));
  return formatters.get(key);
}

export function format(date, options) {
  return formatter(options).format(date);
}

// Times in the clock chosen under You (<body data-clock>), else as the phone's language and region write them.
const CLOCKS = {
  "24h": { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  "12h": { hour: "numeric", minute: "2-digit", hour12: true },
};
const timeOptions = () => CLOCKS[document.body?.dataset.clock] || { timeStyle: "short" };

// The phone's IANA zone, from the formatter that times are shown with (no second one to build).
export function phoneZone() {
  return formatter(timeOptions()).resolvedOptions().timeZone;
}

export function timeText(instant) {
  return format(new Date(instant), timeOptions());
}

export function twelveHour() {
  return /^h1[12]$/.test(formatter(timeOptions()).resolvedOptions().hourCycle);
}

// An hour on its own, for chips and chart axes: "3 am" or "03:00".
export function hourText(date) {
  return format(date, twelveHour() ? { hour: "numeric", hour12: true } : CLOCKS["24h"]);
}

export function dayText(iso, options = { weekday: "short", day: "numeric", month: "short" }) {
  return format(parseDate(iso), options);
}

export function nightText(iso) {
  const t = today();
  if (iso === addDays(t, -1)) return "Last night";
  if (iso === t) return "Tonight";
  return `Night of ${dayText(iso)}`;
}

// "Last night", or "Mon 16" for the list rows.
export function shortNight(iso) {
  if (iso === addDays(today(), -1)) return "Last night";
  return dayText(iso, { weekday: "short", day: "numeric" });
}

const BOTH = { calf: "calves", foot: "feet", hamstring: "hamstrings", shin: "shins", other: "legs" };

// "Left calf", "Both calves".
export function episodeText(e) {
  const muscle = (label("muscle", e.muscle) || "").split(" (")[0].toLowerCase();
  if (e.side === "both") return `Both ${BOTH[e.muscle] || muscle}`;
  return `${label("side", e.side)} ${muscle}`.trim();
}

// A field name from the API as words: "started_at" -> "start time".
export function fieldText(name) {
  return { started_at: "start time", no_cramps: "night answer", drug_class: "kind" }[name] || name.replaceAll("_", " ");
}

// Show a short message in the shared live region.
export function toast(message) {
  const el = $("#toast");
  if (!el) return;
  el.textContent = message;
  el.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove("show"), 4000);
}

// Field errors from the server next to their fields; returns whether any showed.
export function showErrors(form, messages) {
  for (const el of $$(".field-error", form)) {
    el.hidden = true;
    el.textContent = "";
  }
  for (const el of $$("[aria-invalid]", form)) el.removeAttribute("aria-invalid");
  const general = $(".form-error", form);
  if (general) general.hidden = true;
  const leftover = [];
  for (const [name, message] of Object.entries(messages || {})) {
    const slot = $(`[data-error-for="${name}"]`, form);
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
      const input = form.elements[name];
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    } else {
      leftover.push(message);
    }
  }
  if (leftover.length && general) {
    general.textContent = leftover.join(" ");
    general.hidden = false;
  }
  const first = $(".field-error:not([hidden]), .form-error:not([hidden])", form);
  first?.scrollIntoView({ block: "center" });
  return Boolean(first);
}
