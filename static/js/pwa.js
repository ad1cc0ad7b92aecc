// Every page registers the service worker (/sw.js, scope /): Skywatch installs as an app, shows
// an offline page when the network is gone, and can receive Web Push.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
      // Not fatal: the site works the same without it (private windows, old browsers).
    });
  });
}
