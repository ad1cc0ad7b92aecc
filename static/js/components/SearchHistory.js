// The account's weather searches, newest first, ten a page; clearing asks first.

import { api } from "../api.js";
import { dateTime } from "../format.js";
import { h, onMounted, ref } from "../vue.js";

export const SearchHistory = {
  name: "SearchHistory",
  setup() {
    const page = ref(1);
    const body = ref(null);
    const confirming = ref(false);
    const error = ref("");

    async function load(number = page.value) {
      try {
        body.value = await api.history(number);
        page.value = number;
      } catch (e) {
        if (e.code === "not_found" && number > 1) return load(1);
        error.value = e.message;
      }
    }
    onMounted(() => load(1));

    async function clear() {
      confirming.value = false;
      try {
        await api.clearHistory();
        await load(1);
      } catch (e) {
        error.value = e.message;
      }
    }

    return () => {
      if (error.value) return h("div", { class: "alert alert-danger", role: "alert" }, error.value);
      if (!body.value) return h("p", { class: "text-body-secondary" }, "Loading…");
      const { count, results } = body.value;
      if (!count) return h("p", { class: "text-body-secondary mb-0", id: "history-empty" }, "No searches yet. Searches made through the API (GET /api/weather) are listed here.");
      return h("div", [
        h("ol", { class: "list-group mb-2", id: "history-list", "aria-label": "Your searches" }, results.map((entry) =>
          h("li", { class: "list-group-item d-flex justify-content-between gap-2" }, [h("span", { class: "text-break" }, entry.city_name), h("span", { class: "small text-body-secondary text-nowrap" }, dateTime(entry.timestamp))]),
        )),
        h("div", { class: "d-flex flex-wrap align-items-center gap-2" }, [
          h("nav", { "aria-label": "Search history pages", class: "d-flex gap-2 me-auto" }, [
            h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", disabled: !body.value.previous, onClick: () => load(page.value - 1) }, "Newer"),
            h("span", { class: "small align-self-center" }, `page ${page.value} · ${count} searches`),
            h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", disabled: !body.value.next, onClick: () => load(page.value + 1) }, "Older"),
          ]),
          confirming.value
            ? h("div", { class: "d-flex gap-2", role: "group", "aria-label": "Clear the history?" }, [
                h("button", { type: "button", class: "btn btn-sm btn-danger", onClick: clear }, "Yes, clear all"),
                h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", onClick: () => (confirming.value = false) }, "Cancel"),
              ])
            : h("button", { type: "button", class: "btn btn-sm btn-outline-danger", id: "history-clear", onClick: () => (confirming.value = true) }, "Clear history"),
        ]),
      ]);
    };
  },
};
