// Vue 3's runtime-only ES module build, vendored (static/vendor/vue, see docs/WEB.md). Runtime
// only: components are render functions (h), so nothing is compiled with `new Function` and a
// Content-Security-Policy without 'unsafe-eval' holds. Import Vue from here, never the file.
export * from "../vendor/vue/vue.runtime.esm-browser.prod.js";
