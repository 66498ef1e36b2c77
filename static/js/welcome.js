// After sign-up: say which time zone the diary is in (boot sets it to the phone's on first use).

import { boot, ready, zoneName } from "./app.js";
import { $, phoneZone } from "./ui.js";

boot()
  .then((zone) => {
    const phone = phoneZone();
    if (!phone || !zone) $("#zone-text").textContent = "This phone didn't say; set it under You.";
    else $("#zone-text").textContent = zone === phone ? `${zoneName(zone)}, from this phone.` : `${zoneName(zone)}.`;
  })
  .finally(ready);
