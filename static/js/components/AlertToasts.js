// Alerts as they arrive: a toast each at the corner of the page, closed by the person.
import { h } from "../vue.js";

export const AlertToasts = {
  name: "AlertToasts",
  props: { toasts: { type: Array, default: () => [] } },
  emits: ["close"],
  setup(props, { emit }) {
    return () =>
      h(
        "div",
        { class: "toast-container position-fixed bottom-0 end-0 p-3", id: "alert-toasts", "aria-live": "assertive" },
        props.toasts.map((event) =>
          h("div", { class: "toast show", role: "alert", key: event.id, "data-alert-event": event.id }, [
            h("div", { class: "toast-header" }, [
              h("i", { class: "bi bi-bell-fill text-danger me-2", "aria-hidden": "true" }),
              h("strong", { class: "me-auto" }, "Weather alert"),
              h("button", { type: "button", class: "btn-close", "aria-label": "Close", onClick: () => emit("close", event.id) }),
            ]),
            h("div", { class: "toast-body" }, [h("a", { href: `/cities/${event.city.id}/`, class: "link-body-emphasis" }, event.message)]),
          ]),
        ),
      );
  },
};
