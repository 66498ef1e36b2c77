// After sign-up: set the time zone this phone is in, so nights are the user's own.

import { boot, ready } from "./app.js";
import { saveProfile } from "./outbox.js";
import { $ } from "./ui.js";

boot();

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone) {
  saveProfile({ timezone: zone })
    .then(() => {
      $("#zone-text").textContent = `${zone.replaceAll("_", " ")}, from this phone.`;
    })
    .finally(ready);
} else {
  $("#zone-text").textContent = "This phone didn't say; set it under You.";
  ready();
}
