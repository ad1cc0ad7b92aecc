// Skywatch's service worker, served by Django at /sw.js (scope /, see skywatch/pwa.py).
// Pages come from the network; when it is gone, a navigation gets the offline page instead of
// the browser's error. Web Push: `push` shows a notification from a JSON payload
// {title, body, url, tag}; clicking it opens (or focuses) `url`.
const CACHE = "skywatch-offline-v1";
const OFFLINE_URL = "{{ offline_url|escapejs }}";
const ASSETS = [{% for url in assets %}"{{ url|escapejs }}",{% endfor %}];
const ICON = "{{ icon|escapejs }}";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([new Request(OFFLINE_URL, { credentials: "omit" }), ...ASSETS]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  const url = new URL(request.url);
  if (url.origin === self.location.origin && ASSETS.includes(url.pathname)) {
    // The offline page's own style sheets: the network first, the cache when it is gone.
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname)));
  }
});

function sameOrigin(url) {
  try {
    const target = new URL(url || "/", self.location.origin);
    return target.origin === self.location.origin ? target.href : new URL("/", self.location.origin).href;
  } catch {
    return new URL("/", self.location.origin).href;
  }
}

self.addEventListener("push", (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    payload = { body: event.data ? event.data.text() : "" };
  }
  const title = payload.title || "Skywatch";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: payload.body || "",
      tag: payload.tag || undefined,
      icon: ICON,
      badge: ICON,
      data: { url: sameOrigin(payload.url) },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data?.url || sameOrigin("/");
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => client.url === url);
      return open ? open.focus() : self.clients.openWindow(url);
    }),
  );
});
