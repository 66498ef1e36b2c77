// Pages with no module of their own (email preferences...): the shared start-up only.

import { boot, ready } from "./app.js";

boot();
ready();
