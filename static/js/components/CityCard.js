// One followed city: its latest reading, kept in place as new readings arrive. `flash` counts
// the updates worth a visual cue: when it grows, the card glows and the values that changed
// pulse. The forecast strip and the alert marks are slots for what is coming (ForecastStrip,
// AlertBell).

import { COMPASS, ICONS, cityLabel, timeAgo, unitsOf } from "../format.js";
import { h, onBeforeUpdate, onMounted, onUpdated, ref } from "../vue.js";

function fieldValues(root) {
  return Object.fromEntries([...root.querySelectorAll("[data-field]")].map((node) => [node.dataset.field, node.textContent]));
}

// Restarts a CSS animation even when the class is still on from the previous cue.
export function replay(node, className) {
  node.classList.remove(className);
  void node.offsetWidth;
  node.classList.add(className);
}

function readingBody(reading) {
  if (!reading) return h("p", { class: "text-body-secondary my-4 text-center" }, "Waiting for the first reading…");
  const units = unitsOf(reading);
  const direction = COMPASS[Math.round(reading.wind_direction / 45) % 8];
  const arrow = h("i", {
    class: "bi bi-arrow-up wind-arrow",
    // An object, set through the CSSOM: no style attribute for the CSP to refuse.
    style: { transform: `rotate(${(reading.wind_direction + 180) % 360}deg)` },
    "aria-hidden": "true",
  });
  const rain = reading.precipitation_probability === null ? "—" : `${reading.precipitation_probability} %`;
  const rows = [
    ["Feels like", [`${reading.feels_like} ${units.temperature}`], "feels-like"],
    ["Humidity", [`${reading.humidity} %`], "humidity"],
    ["Clouds", [`${reading.clouds} %`], "clouds"],
    ["Wind", [`${reading.wind_speed} ${units.speed} ${direction} `, arrow], "wind"],
    ["Chance of rain", [rain], "rain"],
  ];
  return h("div", [
    h("div", { class: "d-flex align-items-center justify-content-between mb-2" }, [
      h("div", [
        h("div", { class: "temperature", "data-field": "temperature" }, `${reading.temperature} ${units.temperature}`),
        h("div", { class: "text-body-secondary", "data-field": "condition" }, reading.condition),
      ]),
      h("i", { class: `bi bi-${ICONS[reading.icon] || "cloud"} condition-icon`, "aria-hidden": "true" }),
    ]),
    h("dl", rows.flatMap(([label, value, field]) => [h("dt", label), h("dd", { "data-field": field }, value)])),
  ]);
}

function footer(subscription, now) {
  const reading = subscription.latest;
  const parts = [];
  if (reading) {
    parts.push(h("span", { class: "updated", title: reading.observed_at }, `updated ${timeAgo(reading.observed_at, now)}`));
    if (reading.stale) parts.push(h("span", { class: "badge text-bg-warning updated" }, `stale since ${timeAgo(reading.observed_at, now)}`));
  } else {
    parts.push(h("span", "no reading yet"));
  }
  if (subscription.paused) parts.push(h("span", { class: "badge text-bg-secondary" }, "paused: over your plan's limit"));
  return h("div", { class: "card-footer small text-body-secondary d-flex flex-wrap gap-2 justify-content-between" }, parts);
}

export const CityCard = {
  name: "CityCard",
  props: {
    subscription: { type: Object, required: true },
    now: { type: Number, required: true },
    flash: { type: Number, default: 0 },
    removing: { type: Boolean, default: false },
  },
  emits: ["remove"],
  setup(props, { emit, slots }) {
    const root = ref(null);
    let before = {};
    let cued = props.flash;
    onMounted(() => {
      if (props.flash) replay(root.value, "flash"); // a card that just arrived
    });
    onBeforeUpdate(() => {
      if (root.value) before = fieldValues(root.value);
    });
    onUpdated(() => {
      if (props.flash === cued || !root.value) return;
      cued = props.flash;
      for (const [field, value] of Object.entries(fieldValues(root.value))) {
        if (before[field] !== undefined && before[field] !== value) replay(root.value.querySelector(`[data-field="${field}"]`), "changed");
      }
      replay(root.value, "flash");
    });
    return () => {
      const subscription = props.subscription;
      const label = cityLabel(subscription.city);
      return h(
        "article",
        {
          ref: root,
          class: ["card h-100 shadow-sm weather-card", { paused: subscription.paused }],
          "aria-label": label,
          "data-observed-at": subscription.latest?.observed_at ?? "",
        },
        [
          h("div", { class: "card-header d-flex align-items-center justify-content-between gap-2" }, [
            h("h2", { class: "h6 mb-0 text-truncate city-name", title: label }, [
              h("a", { href: `/cities/${subscription.city.id}/`, class: "link-body-emphasis text-decoration-none" }, label),
            ]),
            slots.alerts?.(),
            h(
              "button",
              {
                type: "button",
                class: "btn btn-sm btn-outline-danger",
                "aria-label": `Stop following ${label}`,
                disabled: props.removing,
                onClick: () => emit("remove", subscription.id),
              },
              [h("i", { class: "bi bi-x-lg", "aria-hidden": "true" })],
            ),
          ]),
          h("div", { class: "card-body" }, [readingBody(subscription.latest), slots.forecast?.()]),
          footer(subscription, props.now),
        ],
      );
    };
  },
};
