// Reading and filling the diary forms: steppers, yes/no pairs, 0-10 scales, chips.
// Unset stays unset: an untouched field is null, never "no" or 0.

import { $$, localInput } from "./ui.js";

function kindOf(input) {
  if (input.type === "radio") {
    const values = $$(`input[name="${input.name}"]`, input.form).map((r) => r.value);
    if (values.includes("true")) return "boolean";
    if (values.every((v) => /^\d+$/.test(v))) return "integer";
    return "choice";
  }
  if (input.type === "checkbox") return "flag";
  if (input.type === "number") return "number";
  if (input.type === "datetime-local") return "instant";
  if (input.type === "date" || input.type === "time") return "nullable";
  return "text";
}

export function read(form, name) {
  const input = form.querySelector(`[name="${name}"]`);
  if (!input) return undefined;
  const kind = kindOf(input);
  if (kind === "boolean" || kind === "integer" || kind === "choice") {
    const checked = form.querySelector(`[name="${name}"]:checked`);
    if (!checked) return kind === "choice" ? "" : null;
    if (kind === "boolean") return checked.value === "true";
    if (kind === "integer") return Number(checked.value);
    return checked.value;
  }
  if (kind === "flag") return input.checked;
  if (kind === "number") return input.value === "" ? null : Number(input.value);
  if (kind === "instant") return input.value ? new Date(input.value).toISOString() : null;
  if (kind === "nullable") return input.value || null;
  return input.value;
}

export function readAll(form, names) {
  return Object.fromEntries(names.map((name) => [name, read(form, name)]));
}

export function fieldNames(form) {
  return [...new Set($$("[name]", form).map((el) => el.name))].filter((n) => n && n !== "csrfmiddlewaretoken");
}

export function write(form, name, value) {
  const inputs = $$(`[name="${name}"]`, form);
  if (!inputs.length) return;
  const input = inputs[0];
  const kind = kindOf(input);
  if (kind === "boolean" || kind === "integer" || kind === "choice") {
    for (const radio of inputs) radio.checked = value !== null && value !== undefined && value !== "" && radio.value === String(value);
  } else if (kind === "flag") {
    input.checked = Boolean(value);
  } else if (kind === "instant") {
    input.value = value ? localInput(value) : "";
  } else if (kind === "nullable" && input.type === "time") {
    input.value = value ? String(value).slice(0, 5) : "";
  } else if (kind === "number") {
    input.value = value === null || value === undefined ? "" : String(Number(value));
  } else {
    input.value = value ?? "";
  }
}

export function fill(form, values) {
  for (const [name, value] of Object.entries(values || {})) write(form, name, value);
}

// +/- buttons, and tapping a chosen chip again to clear it.
export function enhance(form, onChange) {
  for (const stepper of $$(".stepper", form)) {
    const input = stepper.querySelector("input");
    for (const button of $$(".step-btn", stepper)) {
      button.addEventListener("click", () => {
        const step = Number(input.step) || 1;
        const delta = Number(button.dataset.delta) * step;
        const min = Number(input.min);
        const max = Number(input.max);
        const current = input.value === "" ? null : Number(input.value);
        let next = current === null ? Number(stepper.dataset.start) : current + delta;
        next = Math.min(max, Math.max(min, Math.round(next / step) * step));
        input.value = String(Number(next.toFixed(2)));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
  }
  let wasChecked = null;
  form.addEventListener("pointerdown", (event) => {
    const label = event.target.closest("label");
    const radio = label?.querySelector('input[type="radio"]');
    wasChecked = radio?.checked ? radio : null;
  });
  form.addEventListener("click", (event) => {
    const radio = event.target.closest("label")?.querySelector('input[type="radio"]');
    if (radio && radio === wasChecked && event.target === radio) {
      radio.checked = false;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (event.target.type === "radio") wasChecked = null;
  });
  if (onChange) form.addEventListener("change", (event) => event.target.name && onChange(event.target.name, event));
}
