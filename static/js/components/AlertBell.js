// A bell with the number of unread alerts. Renders nothing until alerts exist (issue: alerts).
import { h } from "../vue.js";

export const AlertBell = {
  name: "AlertBell",
  props: { alerts: { type: Array, default: () => [] } },
  setup(props) {
    return () => {
      if (!props.alerts.length) return null;
      return h("span", { class: "badge rounded-pill text-bg-danger", role: "status", title: `${props.alerts.length} alerts` }, [
        h("i", { class: "bi bi-bell-fill", "aria-hidden": "true" }),
        ` ${props.alerts.length}`,
      ]);
    };
  },
};
