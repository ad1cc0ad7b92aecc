// City charts: stored readings (or hourly/daily min-mean-max buckets) drawn with Chart.js, with
// a table of the same points; on a live city page, readings pushed over /ws/weather/ are appended.

import { openLive } from "./live.js";

const { Chart } = window;

// Axis text and grid lines take Bootstrap's colours for the current colour mode (theme.js sets
// data-bs-theme from the system's and tells us when it changes), so charts read in both.
function themeColors() {
  const style = getComputedStyle(document.documentElement);
  return {
    text: style.getPropertyValue("--bs-secondary-color").trim() || "#6c757d",
    title: style.getPropertyValue("--bs-body-color").trim() || "#212529",
    grid: style.getPropertyValue("--bs-border-color-translucent").trim() || "rgba(0, 0, 0, 0.175)",
  };
}

function applyThemeColors(charts = []) {
  const colors = themeColors();
  Chart.defaults.color = colors.text;
  Chart.defaults.borderColor = colors.grid;
  Chart.defaults.plugins.title.color = colors.title;
  // Charts already drawn keep resolved options: set the colours on each, then redraw.
  for (const chart of charts) {
    chart.options.color = colors.text;
    for (const scale of Object.values(chart.options.scales ?? {})) {
      scale.ticks.color = colors.text;
      scale.grid.color = colors.grid;
      if (scale.border) scale.border.color = colors.grid;
    }
    chart.options.plugins.title.color = colors.title;
    chart.options.plugins.subtitle.color = colors.text;
    chart.options.plugins.legend.labels.color = colors.text;
    chart.update("none");
  }
}
applyThemeColors();

const COLORS = {
  temperature: "#dc3545",
  feels_like: "#fd7e14",
  humidity: "#0d6efd",
  clouds: "#6c757d",
  precipitation_probability: "#198754",
  wind_speed: "#6f42c1",
};
const BUCKET_NAMES = { hour: "hourly", day: "daily", week: "weekly", month: "monthly" };
const HOUR = 3600000;
const DAY = 24 * HOUR;

// Where the bucket holding time `t` (ms, UTC) starts; the server truncates the same way.
const BUCKET_START = {
  raw: (t) => t,
  hour: (t) => t - (t % HOUR),
  day: (t) => t - (t % DAY),
  // 1970-01-01 was a Thursday, three days after a Monday.
  week: (t) => {
    const day = Math.floor(t / DAY);
    return (day - ((day + 3) % 7)) * DAY;
  },
  month: (t) => {
    const date = new Date(t);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  },
};

function translucent(hex, opacity) {
  const value = parseInt(hex.slice(1), 16);
  return `rgba(${value >> 16}, ${(value >> 8) & 255}, ${value & 255}, ${opacity})`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function utcText(t) {
  return new Date(t).toISOString().slice(0, 16).replace("T", " ");
}

function round1(value) {
  return value === null || value === undefined ? null : Math.round(value * 10) / 10;
}

class CityHistory {
  constructor(section) {
    this.section = section;
    this.data = JSON.parse(section.querySelector('script[type="application/json"]').textContent);
    // Labels and units come from the server with the data (subscriptions/measures.py).
    this.metrics = Object.keys(this.data.labels);
    this.aggregated = this.data.bucket !== "raw";
    this.charts = [];
    for (const canvas of section.querySelectorAll("canvas[data-chart]")) {
      this.charts.push(new Chart(canvas, this.config(canvas.dataset.chart)));
    }
    this.details = section.querySelector("[data-points-table]");
    this.details?.addEventListener("toggle", () => {
      if (this.details.open) this.renderTable();
    });
  }

  get cityId() {
    return this.data.city_id;
  }

  get live() {
    return this.data.live;
  }

  points(metric, kind) {
    const values = this.data.series[metric]?.[kind] ?? [];
    return this.data.time.map((x, index) => ({ x, y: values[index] ?? null }));
  }

  line(metric, { kind = "value", label = this.data.labels[metric], dashed = false } = {}) {
    return {
      label,
      metric,
      kind,
      data: this.points(metric, kind),
      borderColor: COLORS[metric],
      backgroundColor: COLORS[metric],
      borderDash: dashed ? [6, 4] : [],
    };
  }

  // The min-max band: the max line fills down to the min line drawn just before it.
  band(metric) {
    if (!this.aggregated) return [];
    const common = { borderWidth: 0, pointRadius: 0, pointHoverRadius: 0, inBand: true };
    return [
      { ...common, label: `${this.data.labels[metric]} min`, metric, kind: "min", data: this.points(metric, "min"), fill: false },
      {
        ...common,
        label: `${this.data.labels[metric]} max`,
        metric,
        kind: "max",
        data: this.points(metric, "max"),
        fill: "-1",
        backgroundColor: translucent(COLORS[metric], 0.15),
      },
    ];
  }

  // A few minutes of readings still get an hour-wide axis, so its ticks read as times of day.
  xRange() {
    const { time } = this.data;
    if (!time.length || time[time.length - 1] - time[0] >= HOUR) return { min: undefined, max: undefined };
    const middle = (time[0] + time[time.length - 1]) / 2;
    return { min: middle - HOUR / 2, max: middle + HOUR / 2 };
  }

  config(kind) {
    const mean = this.aggregated ? " (mean)" : "";
    let datasets;
    let title;
    let y = {};
    if (kind === "temperature") {
      title = `Temperature and feels like (${this.data.unit_of.temperature})`;
      datasets = [
        ...this.band("temperature"),
        this.line("temperature", { label: `Temperature${mean}` }),
        this.line("feels_like", { label: `Feels like${mean}`, dashed: true }),
      ];
    } else if (kind === "percent") {
      title = "Humidity, clouds, chance of rain (%)";
      datasets = ["humidity", "clouds", "precipitation_probability"].map((metric) =>
        this.line(metric, { label: `${this.data.labels[metric]}${mean}`, dashed: metric === "clouds" }),
      );
      y = { min: 0, max: 100 };
    } else {
      title = `Wind speed (${this.data.unit_of.wind_speed})`;
      datasets = [...this.band("wind_speed"), this.line("wind_speed", { label: `Wind speed${mean}` })];
      y = { beginAtZero: true };
    }
    const bucketName = BUCKET_NAMES[this.data.bucket] ?? "";
    const subtitle = this.aggregated
      ? `${bucketName[0].toUpperCase()}${bucketName.slice(1)} means; shaded: lowest to highest`
      : "";
    return {
      type: "line",
      data: { datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        normalized: true,
        parsing: { xAxisKey: "x", yAxisKey: "y" },
        interaction: { mode: "index", intersect: false },
        elements: {
          point: { radius: this.data.time.length > 60 ? 0 : 2, hitRadius: 6 },
          line: { borderWidth: 2, tension: 0 },
        },
        scales: {
          x: {
            type: "time",
            // Readings are minutes apart at most: no seconds or milliseconds on the axis.
            time: {
              tooltipFormat: "d MMM yyyy, HH:mm",
              minUnit: "minute",
              displayFormats: { minute: "HH:mm", hour: "HH:mm", day: "d MMM", week: "d MMM", month: "MMM yyyy" },
            },
            ticks: { maxTicksLimit: 6, maxRotation: 0, autoSkip: true },
            ...this.xRange(),
          },
          y: { ...y, ticks: { maxTicksLimit: 6 } },
        },
        plugins: {
          title: { display: true, text: title, align: "start", padding: { top: 0, bottom: 4 } },
          subtitle: { display: Boolean(subtitle), text: subtitle, align: "start", padding: { bottom: 8 } },
          legend: {
            position: "bottom",
            labels: {
              boxWidth: 12,
              boxHeight: 2,
              filter: (item, data) => !data.datasets[item.datasetIndex].inBand,
            },
          },
        },
      },
    };
  }

  redraw() {
    for (const chart of this.charts) {
      for (const dataset of chart.data.datasets) dataset.data = this.points(dataset.metric, dataset.kind);
      chart.options.elements.point.radius = this.data.time.length > 60 ? 0 : 2;
      Object.assign(chart.options.scales.x, this.xRange());
      chart.update("none");
    }
    const drawn = this.section.querySelector("[data-points-drawn]");
    if (drawn) drawn.textContent = `${this.data.time.length} point${this.data.time.length === 1 ? "" : "s"}`;
    if (this.details?.open) this.renderTable();
  }

  // A pushed reading: a new point, or folded into the newest bucket (its mean, min and max).
  append(reading) {
    const t = Date.parse(reading.observed_at);
    const { time, counts } = this.data;
    if (Number.isNaN(t) || (this.data.last_ms !== null && t < this.data.last_ms)) return;
    const repeat = t === this.data.last_ms;
    if (repeat && this.aggregated) return;
    const start = BUCKET_START[this.data.bucket](t);
    const newest = time.length - 1;
    for (const metric of this.metrics) {
      this.data.series[metric] ??= this.aggregated ? { value: [], min: [], max: [] } : { value: [] };
    }
    if (newest >= 0 && start === time[newest]) {
      const count = this.aggregated ? counts[newest] : 0;
      for (const metric of this.metrics) {
        const series = this.data.series[metric];
        const value = reading[metric];
        if (value === null || value === undefined) continue;
        if (!this.aggregated) {
          series.value[newest] = value;
          continue;
        }
        const mean = series.value[newest];
        series.value[newest] = round1(mean === null ? value : (mean * count + value) / (count + 1));
        series.min[newest] = series.min[newest] === null ? value : Math.min(series.min[newest], value);
        series.max[newest] = series.max[newest] === null ? value : Math.max(series.max[newest], value);
      }
      if (this.aggregated) counts[newest] = count + 1;
    } else {
      time.push(start);
      if (this.aggregated) counts.push(1);
      for (const metric of this.metrics) {
        const series = this.data.series[metric];
        const value = reading[metric] ?? null;
        series.value.push(value);
        if (this.aggregated) {
          series.min.push(value);
          series.max.push(value);
        }
      }
    }
    if (!repeat) this.data.count += 1;
    this.data.last_ms = t;
    // A rolling range ("last 24 h") lets its oldest raw points go as new ones come.
    if (!this.aggregated && this.data.window_ms) {
      while (time.length > 1 && time[0] < t - this.data.window_ms) {
        time.shift();
        for (const metric of this.metrics) this.data.series[metric].value.shift();
      }
    }
    this.redraw();
  }

  renderTable() {
    const head = el(
      "tr",
      {},
      el("th", { scope: "col" }, "Time (UTC)"),
      ...this.metrics.map((metric) => el("th", { scope: "col", class: "text-end" }, `${this.data.labels[metric]} (${this.data.unit_of[metric]})`)),
    );
    const rows = this.data.time.map((t, index) => {
      const cells = this.metrics.map((metric) => {
        const series = this.data.series[metric];
        const value = series.value[index];
        let text = value === null ? "—" : String(value);
        if (this.aggregated && value !== null) text += ` (${series.min[index]} to ${series.max[index]})`;
        return el("td", { class: "text-end" }, text);
      });
      return el("tr", {}, el("th", { scope: "row", class: "fw-normal" }, utcText(t)), ...cells);
    });
    const caption = this.aggregated
      ? `${BUCKET_NAMES[this.data.bucket]} buckets: mean (lowest to highest)`
      : "each stored reading";
    const table = el(
      "table",
      { class: "table table-sm table-striped mb-0" },
      el("caption", { class: "small" }, caption),
      el("thead", {}, head),
      el("tbody", {}, ...rows),
    );
    this.section.querySelector("[data-table-body]").replaceChildren(table);
  }
}

// --- Live updates (the logged-in owner's city page only), over the one shared connection ----
function listen(live) {
  const connection = document.getElementById("connection");
  if (!live.size) {
    connection?.remove();
    return;
  }
  openLive({
    onMessage(message) {
      // Other parts of the page (the forecast) hear the same connection.
      document.dispatchEvent(new CustomEvent("skywatch:message", { detail: message }));
      if (message.type !== "weather") return;
      for (const update of message.updates) live.get(update.city_id)?.append(update.reading);
    },
    onState(state) {
      if (!connection) return;
      connection.dataset.state = state;
      connection.querySelector("span").textContent = state;
    },
  });
}

function copyButtons() {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copy);
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        button.lastChild.textContent = " Copied";
      } catch {
        button.lastChild.textContent = " Press Ctrl+C";
      }
    });
  }
}

const histories = [...document.querySelectorAll("[data-city-chart]")].map((section) => new CityHistory(section));
document.addEventListener("skywatch:theme", () => applyThemeColors(histories.flatMap((history) => history.charts)));
listen(new Map(histories.filter((history) => history.live).map((history) => [history.cityId, history])));
copyButtons();
