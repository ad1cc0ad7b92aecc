// Every alert rule of the account, grouped as the API lists them, each linking to its city page
// where it is edited.
import { api } from "../api.js";
import { h, onMounted, ref } from "../vue.js";

export const AlertList = {
  name: "AlertList",
  setup() {
    const alerts = ref(null);
    const error = ref("");
    onMounted(async () => {
      try {
        alerts.value = await api.alerts();
      } catch (e) {
        error.value = e.message;
      }
    });
    return () => {
      if (error.value) return h("p", { class: "text-danger mb-0" }, error.value);
      if (alerts.value === null) return h("p", { class: "text-body-secondary mb-0" }, "Loading…");
      if (!alerts.value.length) return h("p", { class: "text-body-secondary mb-0", id: "alerts-empty" }, "No alerts yet. Set them on a city's page.");
      return h(
        "ul",
        { class: "list-group", id: "settings-alerts" },
        alerts.value.map((alert) =>
          h("li", { class: "list-group-item d-flex flex-wrap gap-2", key: alert.id }, [
            h("a", { href: `/cities/${alert.city.id}/#alerts`, class: "me-auto" }, [alert.city.name, ", ", alert.city.country]),
            h("span", { class: "text-body-secondary" }, `${alert.metric.replaceAll("_", " ")} ${alert.operator} ${alert.threshold}${alert.source === "forecast" ? `, next ${alert.within_hours} h` : ""}`),
            h("span", { class: `badge ${alert.state === "firing" ? "text-bg-danger" : "text-bg-secondary"}` }, alert.enabled ? alert.state : "disabled"),
          ]),
        ),
      );
    };
  },
};
