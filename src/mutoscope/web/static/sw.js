// Mutoscope studio service worker: keeps an offline shell (the offline page, styles, script,
// icons) and serves it when the network is gone. Pages and media always come from the
// network first: feeds and videos change, and private drafts must never sit in a cache.
"use strict";
const VERSION = "__VERSION__";
const SHELL = "mutoscope-shell-" + VERSION;
const ASSETS = [
  "/offline",
  "/static/studio.css?v=" + VERSION,
  "/static/studio.js?v=" + VERSION,
  "/static/icon.svg",
  "/icons/192.png",
  "/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
    return;
  }
  if (ASSETS.some((path) => request.url.endsWith(path))) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});
