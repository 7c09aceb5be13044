// Service worker: serves the app shell (pages, CSS, modules) when the
// gateway is unreachable, so the register reloads offline. Network first
// (a deployment is picked up at once), the cached copy when there is no
// network. The API is never cached: offline data lives in IndexedDB.
"use strict";

const CACHE = "caisse-coquille-v2";
const COQUILLE = [
  "/", "/index.html", "/caisse.html", "/app.css",
  "/js/api.js", "/js/session.js", "/js/format.js", "/js/login.js", "/js/caisse.js",
  "/js/encaissement.js", "/js/recu.js", "/js/ventes-jour.js", "/js/hors-ligne.js",
  "/js/caisse-hors-ligne.js", "/js/caisse-poste.js", "/js/rapport-z.js",
];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(COQUILLE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(caches.keys()
    .then((noms) => Promise.all(noms.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname === "/health") return;
  ev.respondWith(fetch(ev.request).then((r) => {
    if (r.ok) {
      const copie = r.clone();
      caches.open(CACHE).then((c) => c.put(ev.request, copie));
    }
    return r;
  }).catch(() => caches.match(ev.request, { ignoreSearch: true })));
});
