// A bell with the recent alert events; renders nothing until there are some. Opening it lists
// them, newest first, each a link to its city page.
import { h, ref } from "../vue.js";

export const AlertBell = {
  name: "AlertBell",
  props: { alerts: { type: Array, default: () => [] }, unread: { type: Number, default: 0 } },
  emits: ["read"],
  setup(props, { emit }) {
    const open = ref(false);
    const toggle = () => {
      open.value = !open.value;
      if (open.value) emit("read");
    };
    return () => {
      if (!props.alerts.length) return null;
      const label = props.unread ? `${props.unread} new alerts` : "Recent alerts";
      return h("div", { id: "alert-bell" }, [
        h("button", { type: "button", class: "btn btn-sm btn-outline-danger", "aria-expanded": String(open.value), "aria-controls": "alert-bell-list", title: label, "aria-label": label, onClick: toggle }, [
          h("i", { class: "bi bi-bell-fill", "aria-hidden": "true" }),
          props.unread ? h("span", { class: "badge text-bg-danger ms-1", "data-unread": props.unread }, String(props.unread)) : null,
        ]),
        open.value
          ? h(
              "ul",
              { id: "alert-bell-list", class: "list-group position-absolute end-0 shadow alert-bell-list" },
              props.alerts.map((event) =>
                h("li", { class: "list-group-item small", key: event.id }, [
                  h("a", { href: `/cities/${event.city.id}/`, class: "link-body-emphasis" }, event.message),
                  h("div", { class: "text-body-secondary" }, new Date(event.fired_at).toLocaleString()),
                ]),
              ),
            )
          : null,
      ]);
    };
  },
};
