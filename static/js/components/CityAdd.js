// Adding a city: a combobox that suggests candidates as you type (arrow keys move, Enter picks,
// Escape closes) and follows the typed name when no suggestion is chosen.

import { api } from "../api.js";
import { h, onBeforeUnmount, onMounted, ref } from "../vue.js";

const SEARCH_DELAY = 250;

export const CityAdd = {
  name: "CityAdd",
  emits: ["follow", "error"],
  setup(props, { emit, expose }) {
    const text = ref("");
    const candidates = ref([]);
    const open = ref(false);
    const active = ref(-1);
    const form = ref(null);
    let timer = null;
    let serial = 0;

    function close() {
      // Also drops a search still waiting or in flight, so it cannot reopen the list.
      clearTimeout(timer);
      serial += 1;
      open.value = false;
      candidates.value = [];
      active.value = -1;
    }

    async function suggest() {
      const query = text.value.trim();
      const mine = ++serial;
      if (query.length < 2) return close();
      try {
        const found = await api.searchCities(query);
        if (mine !== serial) return;
        candidates.value = found;
        active.value = -1;
        open.value = true;
      } catch {
        if (mine === serial) close();
      }
    }

    function pick(candidate) {
      close();
      emit("follow", { key: candidate.key }, text.value);
    }

    function submit(event) {
      event.preventDefault();
      const city = text.value.trim();
      if (open.value && active.value >= 0) return pick(candidates.value[active.value]);
      close();
      if (!city) return emit("error", "Type the name of a city.");
      emit("follow", { city }, text.value);
    }

    function keydown(event) {
      const count = candidates.value.length;
      if (event.key === "Escape") {
        if (open.value) event.preventDefault();
        close();
      } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && open.value && count) {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        active.value = (active.value + step + count + 1) % (count + 1);
        if (active.value === count) active.value = -1;
      }
    }

    function outside(event) {
      if (form.value && !form.value.contains(event.target)) close();
    }
    onMounted(() => document.addEventListener("click", outside));
    onBeforeUnmount(() => document.removeEventListener("click", outside));

    // The page clears the field after a follow, unless something new was typed meanwhile.
    expose({
      clearIf(typed) {
        if (text.value === typed) text.value = "";
      },
    });

    return () => {
      const options = candidates.value.length
        ? candidates.value.map((candidate, index) =>
            h(
              "button",
              {
                type: "button",
                id: `suggestion-${index}`,
                class: ["list-group-item list-group-item-action", { active: index === active.value }],
                role: "option",
                "aria-selected": index === active.value ? "true" : "false",
                tabindex: "-1",
                onClick: () => pick(candidate),
              },
              [h("strong", candidate.name), " ", h("span", { class: index === active.value ? "" : "text-body-secondary" }, [candidate.admin1, candidate.country].filter(Boolean).join(", "))],
            ),
          )
        : [h("div", { class: "list-group-item text-body-secondary", role: "option", "aria-disabled": "true", "aria-selected": "false" }, "No city by that name")];
      return h("form", { id: "add-city", ref: form, class: "position-relative mb-2", autocomplete: "off", role: "search", onSubmit: submit }, [
        h("div", { class: "input-group" }, [
          h("input", {
            id: "city-input",
            name: "city",
            class: "form-control",
            type: "text",
            maxlength: 100,
            placeholder: "Add a city, e.g. Paris or London, GB",
            "aria-label": "City name",
            role: "combobox",
            "aria-autocomplete": "list",
            "aria-controls": "suggestions",
            "aria-expanded": open.value ? "true" : "false",
            "aria-activedescendant": active.value >= 0 ? `suggestion-${active.value}` : undefined,
            value: text.value,
            onInput: (event) => {
              text.value = event.target.value;
              clearTimeout(timer);
              timer = setTimeout(suggest, SEARCH_DELAY);
            },
            onKeydown: keydown,
          }),
          h("button", { class: "btn btn-primary", type: "submit", id: "add-button" }, [h("i", { class: "bi bi-plus-lg", "aria-hidden": "true" }), " Follow"]),
        ]),
        h("div", { id: "suggestions", class: "list-group position-absolute w-100 shadow z-3", role: "listbox", "aria-label": "Suggested cities", hidden: !open.value }, open.value ? options : []),
      ]);
    };
  },
};
