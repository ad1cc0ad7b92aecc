// "Basic plan · 2 / 3 cities": the plan's name and limit come from the server (json_script).
import { h } from "../vue.js";

export const PlanUsage = {
  name: "PlanUsage",
  props: { plan: { type: Object, required: true }, used: { type: Number, required: true } },
  setup(props) {
    return () =>
      h("span", { class: "text-body-secondary", id: "usage", "data-testid": "usage" }, [
        h("strong", { id: "plan-name" }, props.plan.name),
        " plan · ",
        h("span", { id: "usage-count" }, String(props.used)),
        " / ",
        h("span", { id: "usage-limit" }, String(props.plan.city_limit)),
        " cities",
      ]);
  },
};
