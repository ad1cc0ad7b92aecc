// The dashboard: cards rendered from server state, kept in step over the websocket.
// No polling: the only timer refreshes the "updated … ago" text from the local clock.

const state = JSON.parse(document.getElementById("dashboard-state").textContent);
const subscriptions = new Map(state.subscriptions.map((s) => [s.id, s]));
let plan = state.plan;

const cards = document.getElementById("cards");
const empty = document.getElementById("empty");
const form = document.getElementById("add-city");
const input = document.getElementById("city-input");
const suggestions = document.getElementById("suggestions");
const message = document.getElementById("message");
const connection = document.getElementById("connection");

const ICONS = {
  clear: "sun",
  "partly-cloudy": "cloud-sun",
  cloudy: "clouds",
  fog: "cloud-fog2",
  drizzle: "cloud-drizzle",
  rain: "cloud-rain",
  snow: "cloud-snow",
  thunderstorm: "cloud-lightning-rain",
};
const COMPASS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRFToken": csrfToken(),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(data?.message || `The server answered ${response.status}.`);
    error.code = data?.code;
    throw error;
  }
  return data;
}

export function timeAgo(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 10) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

function unitsOf(reading) {
  return reading.units === "imperial"
    ? { temperature: "°F", speed: "mph" }
    : { temperature: "°C", speed: "m/s" };
}

function cityLabel(city) {
  return [city.name, city.admin1, city.country].filter(Boolean).join(", ");
}

function readingBody(subscription) {
  const reading = subscription.latest;
  if (!reading) {
    return el("p", { class: "text-body-secondary my-4 text-center" }, "Waiting for the first reading…");
  }
  const units = unitsOf(reading);
  const direction = COMPASS[Math.round(reading.wind_direction / 45) % 8];
  const arrow = el("i", {
    class: "bi bi-arrow-up wind-arrow",
    style: `transform: rotate(${(reading.wind_direction + 180) % 360}deg)`,
    "aria-hidden": "true",
  });
  const rain =
    reading.precipitation_probability === null ? "—" : `${reading.precipitation_probability} %`;
  const rows = [
    ["Feels like", `${reading.feels_like} ${units.temperature}`, "feels-like"],
    ["Humidity", `${reading.humidity} %`, "humidity"],
    ["Clouds", `${reading.clouds} %`, "clouds"],
    ["Wind", [`${reading.wind_speed} ${units.speed} ${direction} `, arrow], "wind"],
    ["Chance of rain", rain, "rain"],
  ];
  return el(
    "div",
    {},
    el(
      "div",
      { class: "d-flex align-items-center justify-content-between mb-2" },
      el(
        "div",
        {},
        el("div", { class: "temperature", dataset: { field: "temperature" } }, `${reading.temperature} ${units.temperature}`),
        el("div", { class: "text-body-secondary", dataset: { field: "condition" } }, reading.condition),
      ),
      el("i", { class: `bi bi-${ICONS[reading.icon] || "cloud"} condition-icon`, "aria-hidden": "true" }),
    ),
    el(
      "dl",
      {},
      ...rows.flatMap(([label, value, field]) => [
        el("dt", {}, label),
        el("dd", { dataset: { field } }, ...(Array.isArray(value) ? value : [value])),
      ]),
    ),
  );
}

function renderCard(subscription) {
  const reading = subscription.latest;
  const footer = el("div", { class: "card-footer small text-body-secondary d-flex justify-content-between" });
  if (reading) {
    footer.append(
      el("span", { class: "updated", dataset: { observedAt: reading.observed_at }, title: reading.observed_at }, `updated ${timeAgo(reading.observed_at)}`),
    );
    if (reading.stale) {
      footer.append(el("span", { class: "badge text-bg-warning" }, `stale since ${timeAgo(reading.observed_at)}`));
    }
  } else {
    footer.append(el("span", {}, "no reading yet"));
  }
  if (subscription.paused) footer.append(el("span", { class: "badge text-bg-secondary" }, "paused: over your plan's limit"));
  const remove = el(
    "button",
    { type: "button", class: "btn btn-sm btn-outline-danger", "aria-label": `Stop following ${cityLabel(subscription.city)}` },
    el("i", { class: "bi bi-x-lg", "aria-hidden": "true" }),
  );
  remove.addEventListener("click", () => unfollow(subscription.id, remove));
  return el(
    "div",
    { class: "col", dataset: { subscriptionId: subscription.id, cityId: subscription.city.id } },
    el(
      "article",
      { class: `card h-100 shadow-sm weather-card${subscription.paused ? " paused" : ""}`, "aria-label": cityLabel(subscription.city) },
      el(
        "div",
        { class: "card-header d-flex align-items-center justify-content-between" },
        el("h2", { class: "h6 mb-0 text-truncate city-name", title: cityLabel(subscription.city) }, cityLabel(subscription.city)),
        remove,
      ),
      el("div", { class: "card-body" }, readingBody(subscription)),
      footer,
    ),
  );
}

function renderAll() {
  cards.replaceChildren(...[...subscriptions.values()].map(renderCard));
  renderUsage();
}

function renderUsage() {
  document.getElementById("plan-name").textContent = plan.name;
  document.getElementById("usage-count").textContent = subscriptions.size;
  document.getElementById("usage-limit").textContent = plan.city_limit;
  empty.classList.toggle("d-none", subscriptions.size > 0);
}

function upsertCard(subscription, { flash = false } = {}) {
  subscriptions.set(subscription.id, subscription);
  const fresh = renderCard(subscription);
  const current = cards.querySelector(`[data-subscription-id="${subscription.id}"]`);
  if (current) current.replaceWith(fresh);
  else cards.append(fresh);
  if (flash) {
    const card = fresh.querySelector(".weather-card");
    card.classList.add("flash");
    setTimeout(() => card.classList.remove("flash"), 1200);
  }
  renderUsage();
}

function removeCard(id) {
  subscriptions.delete(id);
  cards.querySelector(`[data-subscription-id="${id}"]`)?.remove();
  renderUsage();
}

function showMessage(text, kind = "danger") {
  message.className = `alert alert-${kind}`;
  message.replaceChildren(text);
}

function clearMessage() {
  message.className = "alert d-none";
  message.replaceChildren();
}

async function follow(body) {
  clearMessage();
  hideSuggestions();
  try {
    const subscription = await api("POST", "/api/subscriptions", body);
    upsertCard(subscription, { flash: true });
    input.value = "";
  } catch (error) {
    if (error.code === "quota_exceeded") {
      showMessage(`${error.message} Premium follows up to 15 cities: ask your Skywatch administrator to upgrade your account.`, "warning");
    } else {
      showMessage(error.message);
    }
  }
}

async function unfollow(id, button) {
  clearMessage();
  button.disabled = true;
  try {
    await api("DELETE", `/api/subscriptions/${id}`);
    removeCard(id);
  } catch (error) {
    button.disabled = false;
    showMessage(error.message);
  }
}

// --- Suggestions ----------------------------------------------------------------------
let searchTimer = null;
let searchSerial = 0;

function hideSuggestions() {
  suggestions.hidden = true;
  suggestions.replaceChildren();
}

async function suggest() {
  const query = input.value.trim();
  const serial = ++searchSerial;
  if (query.length < 2) {
    hideSuggestions();
    return;
  }
  try {
    const candidates = await api("GET", `/api/cities/search?q=${encodeURIComponent(query)}`);
    if (serial !== searchSerial) return;
    if (!candidates.length) {
      suggestions.replaceChildren(el("div", { class: "list-group-item text-body-secondary" }, "No city by that name"));
    } else {
      suggestions.replaceChildren(
        ...candidates.map((candidate) => {
          const item = el(
            "button",
            { type: "button", class: "list-group-item list-group-item-action", role: "option" },
            el("strong", {}, candidate.name),
            " ",
            el("span", { class: "text-body-secondary" }, [candidate.admin1, candidate.country].filter(Boolean).join(", ")),
          );
          item.addEventListener("click", () => follow({ key: candidate.key }));
          return item;
        }),
      );
    }
    suggestions.hidden = false;
  } catch {
    hideSuggestions();
  }
}

input.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(suggest, 250);
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Escape") hideSuggestions();
});
document.addEventListener("click", (event) => {
  if (!form.contains(event.target)) hideSuggestions();
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const city = input.value.trim();
  if (!city) {
    showMessage("Type the name of a city.");
    return;
  }
  follow({ city });
});

// --- Live updates -----------------------------------------------------------------------
const handlers = {
  snapshot(data) {
    subscriptions.clear();
    for (const subscription of data.subscriptions) subscriptions.set(subscription.id, subscription);
    renderAll();
  },
  weather(data) {
    for (const update of data.updates) {
      const subscription = subscriptions.get(update.subscription_id);
      if (subscription) upsertCard({ ...subscription, latest: update.reading }, { flash: true });
    }
  },
  "subscription.added"(data) {
    upsertCard(data.subscription, { flash: !subscriptions.has(data.subscription.id) });
  },
  "subscription.removed"(data) {
    removeCard(data.id);
  },
  "plan.changed"(data) {
    plan = data.plan;
    renderUsage();
  },
};

function setConnection(status) {
  connection.dataset.state = status;
  connection.querySelector("span").textContent = status;
}

let socket = null;
let attempts = 0;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/weather/`);
  socket.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "snapshot") {
      attempts = 0;
      setConnection("live");
    }
    handlers[data.type]?.(data);
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4401) {
      setConnection("offline");
      showMessage("Your session has ended; log in again to see live updates.", "warning");
      return;
    }
    setConnection(navigator.onLine === false ? "offline" : "reconnecting");
    // Exponential backoff with full jitter, capped at 30 s.
    const delay = Math.random() * Math.min(30000, 1000 * 2 ** attempts);
    attempts += 1;
    setTimeout(connect, delay);
  });
}

// The local clock keeps "updated … ago" true between pushes; nothing is fetched.
setInterval(() => {
  for (const node of cards.querySelectorAll(".updated")) {
    node.textContent = `updated ${timeAgo(node.dataset.observedAt)}`;
  }
}, 15000);

renderAll();
setConnection("reconnecting");
connect();
