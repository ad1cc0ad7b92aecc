// What is coming for one city: today's high and low, the chance of rain, sunrise and sunset,
// and a strip of the next 12 hours (icon, temperature, chance of rain), in the city's local
// time. It takes the `forecast` of the websocket's `forecast` message as it is.

import { ICONS } from "../format.js";
import { h } from "../vue.js";

const STRIP_HOURS = 12;

function clock(iso, timezone) {
  if (!iso) return "—";
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (timezone) options.timeZone = timezone;
  try {
    return new Intl.DateTimeFormat(undefined, options).format(new Date(iso));
  } catch {
    delete options.timeZone; // a zone this browser does not know: its own time
    return new Intl.DateTimeFormat(undefined, options).format(new Date(iso));
  }
}

const degrees = (value) => (value === null || value === undefined ? "—" : `${Math.round(value)}°`);
const percent = (value) => (value === null || value === undefined ? "—" : `${value} %`);

export const ForecastStrip = {
  name: "ForecastStrip",
  props: {
    forecast: { type: Object, default: null },
    timezone: { type: String, default: "" },
    label: { type: String, default: "" },
    now: { type: Number, required: true },
  },
  setup(props) {
    return () => {
      const forecast = props.forecast;
      if (!forecast) return h("p", { class: "forecast small text-body-secondary mb-0" }, "Forecast on its way…");
      const today = forecast.daily[0];
      // From the hour holding `now` on: the strip moves along without waiting for a message.
      const hours = forecast.hourly.filter((hour) => Date.parse(hour.time) + 3600000 > props.now).slice(0, STRIP_HOURS);
      const summary = today
        ? h("div", { class: "d-flex flex-wrap gap-3 small mb-2", "data-field": "today" }, [
            h("span", { title: "Today's high and low" }, [
              h("i", { class: "bi bi-thermometer-half", "aria-hidden": "true" }),
              ` ${degrees(today.temperature_max)} / ${degrees(today.temperature_min)}`,
            ]),
            h("span", { title: "Chance of rain today" }, [h("i", { class: "bi bi-umbrella", "aria-hidden": "true" }), ` ${percent(today.precipitation_probability_max)}`]),
            h("span", { title: "Sunrise" }, [h("i", { class: "bi bi-sunrise", "aria-hidden": "true" }), ` ${clock(today.sunrise, props.timezone)}`]),
            h("span", { title: "Sunset" }, [h("i", { class: "bi bi-sunset", "aria-hidden": "true" }), ` ${clock(today.sunset, props.timezone)}`]),
          ])
        : null;
      return h("section", { class: "forecast border-top pt-2", "aria-label": `Forecast for ${props.label}` }, [
        summary,
        h(
          "ol",
          // Scrolls sideways inside the card on a narrow phone; focusable so keys can scroll it.
          { class: "forecast-strip list-unstyled d-flex gap-2 mb-0", tabindex: "0", "aria-label": "The next 12 hours", "data-field": "hours" },
          hours.map((hour) =>
            h("li", { class: "text-center small", key: hour.time, "data-time": hour.time }, [
              h("div", { class: "text-body-secondary" }, clock(hour.time, props.timezone)),
              h("i", { class: `bi bi-${ICONS[hour.icon] || "cloud"}`, title: hour.condition, "aria-hidden": "true" }),
              h("span", { class: "visually-hidden" }, hour.condition),
              h("div", { class: "fw-semibold" }, degrees(hour.temperature)),
              h("div", { class: "text-info-emphasis" }, percent(hour.precipitation_probability)),
            ]),
          ),
        ),
      ]);
    };
  },
};
