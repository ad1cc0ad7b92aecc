// Bootstrap 5.3's colour mode follows the system's: light or dark, now and whenever it changes.
// A classic script in <head> (no inline script: the Content-Security-Policy allows none), so the
// first paint is already in the right scheme. Pages hear "skywatch:theme" to redraw charts.
(function () {
  const query = window.matchMedia("(prefers-color-scheme: dark)");
  function apply() {
    const theme = query.matches ? "dark" : "light";
    document.documentElement.setAttribute("data-bs-theme", theme);
    document.dispatchEvent(new CustomEvent("skywatch:theme", { detail: { theme } }));
  }
  apply();
  query.addEventListener("change", apply);
})();
