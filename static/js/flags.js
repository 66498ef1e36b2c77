// Red flags that need help now or today (E0, E1). Their words come with the page
// (insights.red_flags.urgent_checklist), so the advice shows offline, the moment a box is ticked.

import { $, h } from "./ui.js";

const holder = $("[data-urgent-flags]");
export const URGENT = JSON.parse(holder?.dataset.urgentFlags || "{}");
const emergency = holder?.dataset.emergency || "";
const advice = holder?.dataset.nonEmergency || "";

function dial(number, kind, danger) {
  const href = `tel:${number.replace(/[^\d+]/g, "")}`;
  return h("a", { class: danger ? "btn btn-danger" : "btn", href }, h("span", {}, `Call ${number}`), h("small", {}, kind));
}

// Tap-to-call for the numbers set under You; without them, the words.
function calls(level) {
  const links = [];
  if (level === "E1" && advice) links.push(dial(advice, "non-emergency", false));
  if (emergency) links.push(dial(emergency, "emergency", level === "E0"));
  const missing = level === "E0" ? !emergency : !advice;
  return [
    missing
      ? h(
          "p",
          {},
          level === "E0" ? "Call your local emergency number." : "Call your doctor's surgery or your local non-emergency medical line.",
          " ",
          h("a", { href: "/settings/#numbers" }, "Add the numbers to call"),
        )
      : null,
    links.length ? h("div", { class: "calls" }, ...links) : null,
  ];
}

// Beside the box, the moment it is ticked.
export function alertAtTap(name) {
  const flag = URGENT[name];
  return h(
    "div",
    { class: `flag-now level-${flag.level}`, role: "alert" },
    h("p", {}, h("strong", {}, flag.action), " ", flag.what),
    flag.meanwhile ? h("p", {}, flag.meanwhile) : null,
    calls(flag.level),
    h("p", { class: "small" }, "Once saved, it stays on your Log page until you've seen someone about it."),
  );
}

// On the Log page, until the person says they have seen someone about it. Compact: "Cramp now" stays in view.
export function banner(name, reported, onSeen) {
  const flag = URGENT[name];
  const title = `flag-${name}-title`;
  return h(
    "article",
    { class: `card card-alarm flag-banner level-${flag.level}`, "aria-labelledby": title },
    h("h2", { class: "card-title", id: title }, flag.action),
    h("p", {}, h("strong", {}, flag.title), `. ${reported}`),
    flag.meanwhile ? h("p", {}, flag.meanwhile) : null,
    calls(flag.level),
    h(
      "details",
      { class: "more" },
      h("summary", {}, "What to do, today and tonight"),
      h("p", {}, h("strong", {}, `${flag.when}: `), flag.what),
      h("p", {}, h("strong", {}, "Tonight: "), flag.tonight),
    ),
    h("button", { type: "button", class: "btn btn-small", onclick: (event) => onSeen(name, event.currentTarget) }, "I've seen someone about this"),
  );
}
