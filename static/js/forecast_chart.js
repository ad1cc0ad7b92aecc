// A city page's forecast: the next 48 hours as a chart (temperature line, chance-of-rain bars)
// and the next 7 days as a row, in the city's local time and the user's units. The first state
// comes from the server (json_script); `forecast` messages on the page's one live connection
// (city_chart.js passes them on as "skywatch:message") redraw both.

import { ICONS } from "./format.js";

const { Chart } = window;
const section = document.getElementById("forecast");
const state = JSON.parse(document.getElementById("forecast-state").textContent);

function localTime(iso, options) {
  const format = { ...options };
  if (state.timezone) format.timeZone = state.timezone;
  try {
    return new Intl.DateTimeFormat(undefined, format).format(new Date(iso));
  } catch {
    delete format.timeZone; // a zone this browser does not know: its own time
    return new Intl.DateTimeFormat(undefined, format).format(new Date(iso));
  }
}

const clock = (iso) => (iso ? localTime(iso, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) : "—");
const degrees = (value) => (value === null || value === undefined ? "—" : `${Math.round(value)}°`);

function colors() {
  const style = getComputedStyle(document.documentElement);
  return {
    text: style.getPropertyValue("--bs-secondary-color").trim() || "#6c757d",
    grid: style.getPropertyValue("--bs-border-color-translucent").trim() || "rgba(0, 0, 0, 0.175)",
  };
}

let chart = null;

function drawChart(forecast) {
  const canvas = section.querySelector("[data-forecast-chart]");
  const hours = forecast.hourly;
  const labels = hours.map((hour) => localTime(hour.time, { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }));
  const { text, grid } = colors();
  const data = {
    labels,
    datasets: [
      {
        type: "line",
        label: `Temperature (${state.unit_of.temperature})`,
        data: hours.map((hour) => hour.temperature),
        borderColor: "#dc3545",
        backgroundColor: "#dc3545",
        pointRadius: 0,
        tension: 0.3,
        yAxisID: "temperature",
      },
      {
        type: "bar",
        label: "Chance of rain (%)",
        data: hours.map((hour) => hour.precipitation_probability),
        backgroundColor: "rgba(13, 110, 253, 0.35)",
        yAxisID: "rain",
      },
    ],
  };
  const axis = (extra) => ({ ticks: { color: text }, grid: { color: grid }, ...extra });
  const options = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { labels: { color: text } } },
    scales: {
      x: axis({ ticks: { color: text, maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } }),
      temperature: axis({ position: "left", title: { display: true, text: state.unit_of.temperature, color: text } }),
      rain: axis({ position: "right", min: 0, max: 100, grid: { drawOnChartArea: false, color: grid }, title: { display: true, text: "%", color: text } }),
    },
  };
  if (chart) chart.destroy();
  chart = new Chart(canvas, { data, options });
}

function drawDays(forecast) {
  const row = section.querySelector("[data-forecast-days]");
  row.replaceChildren(
    ...forecast.daily.map((day) => {
      const item = document.createElement("li");
      item.className = "text-center small border rounded p-2";
      item.dataset.date = day.date;
      // The local date at noon UTC names the right weekday wherever the reader is.
      const name = new Intl.DateTimeFormat(undefined, { weekday: "short", timeZone: "UTC" }).format(new Date(`${day.date}T12:00:00Z`));
      const icon = document.createElement("i");
      icon.className = `bi bi-${ICONS[day.icon] || "cloud"} d-block fs-4`;
      icon.setAttribute("aria-hidden", "true");
      const lines = [
        [name, "fw-semibold"],
        [day.condition, "visually-hidden"],
        [`${degrees(day.temperature_max)} / ${degrees(day.temperature_min)}`, ""],
        [day.precipitation_probability_max === null ? "—" : `${day.precipitation_probability_max} %`, "text-info-emphasis"],
        [`${clock(day.sunrise)}–${clock(day.sunset)}`, "text-body-secondary"],
      ];
      item.append(icon, ...lines.map(([content, className]) => Object.assign(document.createElement("div"), { textContent: content, className })));
      return item;
    }),
  );
}

function draw(forecast) {
  if (!forecast) return;
  state.forecast = forecast;
  section.dataset.issuedAt = forecast.issued_at;
  const issued = section.querySelector("[data-forecast-issued]");
  issued.textContent = `Issued ${localTime(forecast.issued_at, { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })} (the city's time).`;
  drawChart(forecast);
  drawDays(forecast);
}

draw(state.forecast);
document.addEventListener("skywatch:message", (event) => {
  const message = event.detail;
  if (message.type !== "forecast") return;
  for (const update of message.updates) if (update.city_id === state.city_id) draw(update.forecast);
});
document.addEventListener("skywatch:theme", () => state.forecast && drawChart(state.forecast));
