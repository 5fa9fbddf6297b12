// Service worker: the app shell works offline and loads instantly on a slow link.
// Hashed assets are cached forever (their names change with their content); pages come from the
// network first, falling back to the cached shell. API and FHIR answers (patient data) are never
// cached: a shared family phone must not keep someone's record after they sign out.
const SHELL = 'cauyte-shell-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((c) => c.addAll(['/', '/manifest.webmanifest', '/favicon.svg']))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (/^\/(api|fhir|oauth)\//.test(url.pathname)) return;
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      caches.open(SHELL).then(async (c) => (await c.match(event.request)) ?? fetch(event.request).then((r) => (r.ok && c.put(event.request, r.clone()), r))),
    );
    return;
  }
  if (event.request.mode === 'navigate') {
    event.respondWith(
      fetch(event.request)
        .then((r) => (r.ok && caches.open(SHELL).then((c) => c.put('/', r.clone())), r))
        .catch(() => caches.match('/')),
    );
  }
});
