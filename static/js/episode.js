// One cramp's details: filled in now or the next morning, edited or deleted later.
// /episode/?id=UUID edits a cramp; /episode/?night=DATE logs one for that night.

import { load } from "./api.js";
import { boot, ready } from "./app.js";
import { alertAtTap, URGENT } from "./flags.js";
import { fieldNames, enhance, fill, readAll } from "./forms.js";
import { EPISODES, deleteEpisode, pendingRecord, saveEpisode, uuid } from "./outbox.js";
import { $, $$, addDays, episodeText, nightOf, nightText, showErrors, timeText, toast, today } from "./ui.js";

boot();

const form = $("#episode-form");
const params = new URLSearchParams(location.search);
let id = params.get("id");
let create = false;
let night = params.get("night");

// A box that needs help now or today shows what to do right beside it, in view; the others get one
// note below the checklist.
const raised = new Set(); // urgent boxes ticked in this visit: after Save, the Log page shows them

function adviseOnFlags(changed) {
  for (const name of Object.keys(URGENT)) {
    const input = form.elements[name];
    const label = input?.closest("label");
    if (!label) continue;
    const shown = label.nextElementSibling?.classList.contains("flag-now") ? label.nextElementSibling : null;
    if (input.checked && !shown) {
      const alert = alertAtTap(name);
      label.after(alert);
      if (name === changed) {
        raised.add(name);
        alert.scrollIntoView({ block: "nearest" });
      }
    } else if (!input.checked && shown) {
      shown.remove();
      raised.delete(name);
    }
  }
  const other = $$(".checklist input:checked", form).some((input) => !URGENT[input.name]);
  $("#flag-advice").hidden = !other;
}

async function start() {
  let record;
  if (id) {
    const entry = await pendingRecord(id);
    const server = entry?.method === "POST" ? { data: null } : await load(`${EPISODES}${id}/`, `episode:${id}`);
    if (entry?.method === "DELETE") {
      record = null;
    } else {
      record = { ...(server.data || {}), ...(entry?.body || {}) };
      if (!record.started_at) record = null;
    }
    // An existing cramp, sent or still waiting: a waiting entry takes the edit into itself; one sent
    // meanwhile (the connection came back while this page was open) gets a PATCH, never a second POST.
    create = false;
  } else {
    id = uuid();
    create = true;
    night = night || addDays(today(), -1);
    const at = new Date(`${addDays(night, 1)}T03:00`);
    record = { id, started_at: at.toISOString(), time_approximate: true, muscle: "calf", side: "" };
    $("#episode-title").textContent = "Log a cramp";
  }
  if (!record) {
    $("#episode-missing").hidden = false;
    return;
  }
  fill(form, record);
  night = nightOf(record.started_at);
  $("#episode-summary").textContent = `${episodeText(record)} · ${nightText(night)}${record.time_approximate ? "" : `, ${timeText(record.started_at)}`}`;
  $("#episode-delete").hidden = create;
  form.hidden = false;
  adviseOnFlags();
}

enhance(form, (name) => {
  if (form.elements[name]?.type === "checkbox") adviseOnFlags(name);
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = readAll(form, fieldNames(form));
  const problems = {};
  if (!values.started_at) problems.started_at = "When did it start?";
  else if (new Date(values.started_at) > new Date(Date.now() + 5 * 60000)) problems.started_at = "That time is in the future.";
  if (!values.muscle) problems.muscle = "Pick the muscle.";
  if (!values.side) problems.side = "Pick the side.";
  if (showErrors(form, problems)) return;
  await saveEpisode({ id, ...values }, { create });
  toast(navigator.onLine ? "Saved." : "Saved on this phone.");
  location.assign(raised.size ? "/" : `/diary/?night=${nightOf(values.started_at)}`);
});

$("#episode-delete").addEventListener("click", () => $("#delete-dialog").showModal());
$("#delete-cancel").addEventListener("click", () => $("#delete-dialog").close());
$("#delete-confirm").addEventListener("click", async () => {
  await deleteEpisode(id);
  $("#delete-dialog").close();
  location.assign(`/diary/?night=${night}`);
});

start().finally(ready);
