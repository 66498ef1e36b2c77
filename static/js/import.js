// You: import a diary. The server's dry run is the preview (the import itself, counted and
// rolled back); "Import" sends the same files again for real. All or nothing either way.

import { NetworkError, send } from "./api.js";
import { $, h, showErrors, toast, vocab } from "./ui.js";

const IMPORT = "/api/v1/import/";
const KINDS = { episodes: "Cramps", checkins: "Check-ins", medications: "Medicines", dose_changes: "Dose changes" };
const SHOWN_ERRORS = 50;
// A 10 MB file takes up to a minute on a small server (the preview, then the import again): far
// beyond the sync's 20 s, which would give up and call a slow answer "no connection".
const IMPORT_TIMEOUT_MS = 5 * 60 * 1000;
const SLOW = "A large file can take a minute.";

const form = $("#import-form");
const preview = $("#import-preview");
const actions = $("#import-actions");
const files = $("#f-import-files");

for (const kind of ["muscle", "side"]) {
  const options = Object.entries(vocab()[kind] || {}).map(([value, text]) => h("option", { value }, text));
  form.elements[kind].replaceChildren(...options);
}

// Another app's rows name no muscle or side: "other" and "both" unless the person says.
function clearForm() {
  form.reset();
  form.elements.muscle.value = "other";
  form.elements.side.value = "both";
}
clearForm();

async function upload(dryRun) {
  const body = new FormData();
  for (const file of files.files) body.append("files", file);
  body.append("muscle", form.elements.muscle.value);
  body.append("side", form.elements.side.value);
  body.append("dry_run", dryRun ? "true" : "false");
  try {
    return await send("POST", IMPORT, body, { timeoutMs: IMPORT_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof NetworkError) return { status: 0, timedOut: error.timedOut };
    throw error;
  }
}

function counts(report, which) {
  return Object.entries(KINDS)
    .filter(([kind]) => report[which][kind])
    .map(([kind, name]) => `${name}: ${report[which][kind]}`);
}

function show(...children) {
  preview.replaceChildren(...children.filter(Boolean));
  preview.hidden = false;
}

let checks = 0; // previews asked for: only the latest one's answer is shown

function reset() {
  checks += 1; // a preview still on its way is no longer wanted
  preview.hidden = true;
  actions.hidden = true;
  $("#import-leg").hidden = true;
}

function problem(response) {
  if (response.timedOut) return "The server didn't answer in time. Try again: nothing is ever imported twice.";
  if (response.status === 0) return "You need a connection to import.";
  if (response.status === 413) return "These files are too large to import at once (10 MB at most).";
  return "";
}

async function check() {
  reset();
  if (!files.files.length) {
    showErrors(form, { files: "Choose a file to import." });
    return;
  }
  showErrors(form, {});
  const asked = checks;
  show(h("p", {}, h("strong", {}, "Checking your files… "), SLOW));
  const response = await upload(true);
  if (asked !== checks) return; // the files changed while this one was being checked
  preview.hidden = true;
  const errors = response.data?.errors;
  if (!response.ok && !errors) {
    const messages = Object.values(response.data || {}).flat().join(" ");
    showErrors(form, { files: problem(response) || messages || "The file could not be checked." });
    return;
  }
  if (errors) {
    const more = errors.length - SHOWN_ERRORS;
    show(
      h("p", {}, h("strong", {}, `Nothing can be imported until ${errors.length === 1 ? "this line is" : `these ${errors.length} lines are`} fixed:`)),
      h("ul", { class: "import-errors" }, errors.slice(0, SHOWN_ERRORS).map((message) => h("li", {}, message))),
      more > 0 ? h("p", { class: "muted small" }, `and ${more} more.`) : null,
    );
    return;
  }
  const report = response.data;
  const created = counts(report, "created");
  const unchanged = counts(report, "unchanged");
  const apps = Object.entries(report.apps || {});
  $("#import-leg").hidden = apps.length === 0;
  show(
    h("p", {}, h("strong", {}, created.length ? "Ready to import. Nothing is saved until you tap Import." : "Nothing new: everything in these files is already in your diary.")),
    created.length ? h("p", {}, "New: ", created.join(", "), ".") : null,
    unchanged.length ? h("p", { class: "muted" }, "Already in your diary: ", unchanged.join(", "), ".") : null,
    ...apps.map(([app, rows]) =>
      h("p", { class: "muted" }, `${rows} row${rows === 1 ? "" : "s"} from ${app}, which records no muscle or side: choose what to file them as above.`),
    ),
  );
  actions.hidden = created.length === 0;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  check();
});
files.addEventListener("change", check);
form.elements.muscle.addEventListener("change", check);
form.elements.side.addEventListener("change", check);
$("#import-cancel").addEventListener("click", () => {
  clearForm();
  reset();
});

$("#import-commit").addEventListener("click", async () => {
  actions.hidden = true; // one tap imports once
  show(h("p", {}, h("strong", {}, "Importing… "), SLOW));
  const response = await upload(false);
  if (!response.ok) {
    showErrors(form, { files: problem(response) || "The import failed; check the file again." });
    reset();
    return;
  }
  const created = counts(response.data, "created");
  clearForm();
  reset();
  show(h("p", {}, h("strong", {}, "Imported. "), `New: ${created.join(", ") || "nothing"}.`));
  toast("Imported.");
});
