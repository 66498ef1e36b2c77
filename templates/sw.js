{% load static %}// CrampTrack's service worker (served from /sw.js with Cache-Control: no-cache).
// Pages: network first (with a short timeout), then the cached shell, so the app
// opens offline. Static files: cache first; their names carry a content hash.
// API calls are never cached here: the pages keep their own copy in IndexedDB.
// Background Sync: send the outbox when the connection returns, even with the app closed.
// Reminders: show a pushed notification and answer the morning check-in from it (push.js).
import { sync } from "{% static 'js/outbox.js' %}";
import { answer, pageFor, showPush } from "{% static 'js/push.js' %}";

const VERSION = "{{ version }}";
const SHELL_CACHE = `shell-${VERSION}`;
const PAGES_CACHE = "pages";
const PRECACHE = {{ precache|safe }};
const SHELL_PAGES = {{ shell_pages|safe }};
const NETWORK_TIMEOUT_MS = 3000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const shell = await caches.open(SHELL_CACHE);
      const pages = await caches.open(PAGES_CACHE);
      await Promise.all(
        PRECACHE.map(async (url) => {
          const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
          // A page that redirects (to the login) is not a shell worth keeping.
          if (!response.ok || response.redirected) {
            if (SHELL_PAGES.includes(url)) return;
            throw new Error(`precache ${url}: ${response.status}`);
          }
          await (SHELL_PAGES.includes(url) ? pages : shell).put(url, response);
        }),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("shell-") && name !== SHELL_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(page(event));
  } else if (url.pathname.startsWith("{% get_static_prefix %}")) {
    event.respondWith(asset(request));
  }
});

async function page(event) {
  const request = event.request;
  const path = new URL(request.url).pathname;
  // Only the app's own pages have a saved copy: any other page (sharing, the clinician's, the account
  // pages) comes from the server or not at all, never as the log page standing in for it.
  const shell = SHELL_PAGES.includes(path);
  const cached = async () =>
    shell &&
    ((await caches.match(request, { cacheName: PAGES_CACHE, ignoreSearch: true })) ||
      (await caches.match("/", { cacheName: PAGES_CACHE })));
  const network = fetch(request).then(async (response) => {
    // A page carrying a one-off message says no-store: it is not the shell to keep.
    const once = (response.headers.get("Cache-Control") || "").includes("no-store");
    if (response.ok && !response.redirected && !once && shell) {
      const copy = response.clone();
      event.waitUntil(caches.open(PAGES_CACHE).then((cache) => cache.put(path, copy)));
    }
    return response;
  });
  try {
    if (!shell) return await network;
    // A phone with one bar of signal should not keep someone with a cramp waiting.
    const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_TIMEOUT_MS));
    const first = await Promise.race([network, timeout]);
    if (first) return first;
    return (await cached()) || (await network);
  } catch {
    const hit = await cached();
    if (hit) return hit;
    return new Response("You're offline and this page isn't saved on this phone yet.", {
      status: 503,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
}

async function asset(request) {
  const hit = await caches.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") event.waitUntil(backgroundSync());
});

async function backgroundSync() {
  // An open page sends the outbox itself (it has the freshest CSRF cookie).
  const windows = await self.clients.matchAll({ type: "window" });
  if (windows.length) {
    for (const client of windows) client.postMessage({ type: "sync" });
    return;
  }
  const result = await sync({ force: true });
  // Rejecting asks the browser to fire the sync event again later.
  if (result.retryable) throw new Error("outbox not empty yet");
}

self.addEventListener("message", (event) => {
  if (event.data?.type === "forget-pages") event.waitUntil(caches.delete(PAGES_CACHE));
});

// --- Reminders ---------------------------------------------------------------------

const IMAGES = { icon: "{% static 'icons/icon-192.png' %}", badge: "{% static 'icons/favicon-32.png' %}" };

self.addEventListener("push", (event) => {
  event.waitUntil(showPush(self.registration, event.data, IMAGES));
});

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(answer(event.notification, event.action));
});

// The click handler by name, for DevTools and the browser tests: no browser API can tap an OS notification.
self.cramptrack = { answer, pageFor };
