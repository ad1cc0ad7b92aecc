// The dashboard: cards rendered from server state, kept in step over the websocket (live.js).
// No polling: the only timer here rewrites "updated … ago" from the local clock.

import { openLive } from "./live.js";

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
const CONNECTION_TEXT = { live: "live", reconnecting: "reconnecting…", offline: "offline" };
const CONNECTION_TITLE = {
  live: "Cards change as soon as new readings arrive.",
  reconnecting: "The connection dropped; trying again. Cards catch up when it is back.",
  offline: "No live updates: you are offline or signed out.",
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    // Through the CSSOM: a style attribute would need 'unsafe-inline' in the CSP's style-src.
    else if (name === "style") node.style.cssText = value;
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
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (seconds < 10) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

function unitsOf(reading) {
  return reading.units === "imperial"
    ? { temperature: "°F", speed: "mph" }
    : { temperature: "°C", speed: "m/s" };
}

function cityLabel(city) {
  return [city.name, city.admin1, city.country].filter(Boolean).join(", ");
}

// --- Cards ------------------------------------------------------------------------------

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

function cardFooter(subscription) {
  const reading = subscription.latest;
  const footer = el("div", { class: "card-footer small text-body-secondary d-flex flex-wrap gap-2 justify-content-between" });
  if (reading) {
    footer.append(
      el("span", { class: "updated", dataset: { since: reading.observed_at, prefix: "updated " }, title: reading.observed_at }, `updated ${timeAgo(reading.observed_at)}`),
    );
    if (reading.stale) {
      footer.append(el("span", { class: "badge text-bg-warning updated", dataset: { since: reading.observed_at, prefix: "stale since " } }, `stale since ${timeAgo(reading.observed_at)}`));
    }
  } else {
    footer.append(el("span", {}, "no reading yet"));
  }
  if (subscription.paused) footer.append(el("span", { class: "badge text-bg-secondary" }, "paused: over your plan's limit"));
  return footer;
}

function renderCard(subscription) {
  const remove = el(
    "button",
    { type: "button", class: "btn btn-sm btn-outline-danger", "aria-label": `Stop following ${cityLabel(subscription.city)}` },
    el("i", { class: "bi bi-x-lg", "aria-hidden": "true" }),
  );
  remove.addEventListener("click", () => unfollow(subscription.id, remove));
  const article = el(
    "article",
    { class: "card h-100 shadow-sm weather-card", "aria-label": cityLabel(subscription.city) },
    el(
      "div",
      { class: "card-header d-flex align-items-center justify-content-between gap-2" },
      el(
        "h2",
        { class: "h6 mb-0 text-truncate city-name", title: cityLabel(subscription.city) },
        el("a", { href: `/cities/${subscription.city.id}/`, class: "link-body-emphasis text-decoration-none" }, cityLabel(subscription.city)),
      ),
      remove,
    ),
    el("div", { class: "card-body" }),
    el("div", { class: "card-footer-slot" }),
  );
  fillCard(article, subscription);
  return el("div", { class: "col", dataset: { subscriptionId: subscription.id, cityId: subscription.city.id } }, article);
}

function fillCard(article, subscription) {
  article.classList.toggle("paused", subscription.paused);
  article.dataset.observedAt = subscription.latest?.observed_at ?? "";
  article.querySelector(".card-body").replaceChildren(readingBody(subscription));
  article.querySelector(".card-footer-slot").replaceChildren(cardFooter(subscription));
}

function fieldValues(article) {
  return Object.fromEntries([...article.querySelectorAll("[data-field]")].map((node) => [node.dataset.field, node.textContent]));
}

// Restarts a CSS animation even when the class is still on from the previous update.
function replay(node, className) {
  node.classList.remove(className);
  void node.offsetWidth;
  node.classList.add(className);
}

function cardOf(id) {
  return cards.querySelector(`[data-subscription-id="${id}"]`);
}

/** Shows `subscription` in its card, changing the card in place; `cue` flashes what changed. */
function upsertCard(subscription, { cue = false } = {}) {
  const previous = subscriptions.get(subscription.id);
  subscriptions.set(subscription.id, subscription);
  const column = cardOf(subscription.id);
  if (!column) {
    const fresh = renderCard(subscription);
    cards.append(fresh);
    if (cue) replay(fresh.querySelector(".weather-card"), "flash");
    renderUsage();
    return;
  }
  const article = column.querySelector(".weather-card");
  const before = fieldValues(article);
  fillCard(article, subscription);
  const changedReading = previous?.latest?.observed_at !== subscription.latest?.observed_at;
  if (cue && (changedReading || previous?.paused !== subscription.paused)) {
    for (const [field, value] of Object.entries(fieldValues(article))) {
      if (before[field] !== undefined && before[field] !== value) {
        replay(article.querySelector(`[data-field="${field}"]`), "changed");
      }
    }
    replay(article, "flash");
  }
  renderUsage();
}

function removeCard(id) {
  id = Number(id);
  subscriptions.delete(id);
  cardOf(id)?.remove();
  renderUsage();
}

/** The server's full list: cards added, changed in place, removed and put in its order. */
function applySnapshot(list) {
  const keep = new Set(list.map((s) => s.id));
  for (const id of [...subscriptions.keys()]) {
    if (!keep.has(id)) removeCard(id);
  }
  for (const subscription of list) {
    upsertCard(subscription, { cue: true });
    cards.append(cardOf(subscription.id)); // moves it into the server's order
  }
  renderUsage();
}

function renderUsage() {
  document.getElementById("plan-name").textContent = plan.name;
  document.getElementById("usage-count").textContent = subscriptions.size;
  document.getElementById("usage-limit").textContent = plan.city_limit;
  empty.classList.toggle("d-none", subscriptions.size > 0);
}

// "updated … ago" follows the local clock; only text that changed is touched.
function tick() {
  const now = Date.now();
  for (const node of cards.querySelectorAll(".updated")) {
    const text = `${node.dataset.prefix}${timeAgo(node.dataset.since, now)}`;
    if (node.textContent !== text) node.textContent = text;
  }
}

// --- Messages, following and unfollowing --------------------------------------------------

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
  const typed = input.value;
  try {
    const subscription = await api("POST", "/api/subscriptions", body);
    upsertCard(subscription, { cue: true });
    // Keep whatever was typed meanwhile: the next city may already be on its way in.
    if (input.value === typed) input.value = "";
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
    if (error.code === "not_found") removeCard(id); // another tab removed it first
    else showMessage(error.message);
  }
}

// --- Suggestions ----------------------------------------------------------------------
let searchTimer = null;
let searchSerial = 0;

function hideSuggestions() {
  // Also drops a search still waiting or in flight, so it cannot reopen the list.
  clearTimeout(searchTimer);
  searchSerial += 1;
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
    applySnapshot(data.subscriptions);
  },
  weather(data) {
    for (const update of data.updates) {
      const subscription = subscriptions.get(update.subscription_id);
      if (subscription) upsertCard({ ...subscription, latest: update.reading }, { cue: true });
    }
  },
  "subscription.added"(data) {
    upsertCard(data.subscription, { cue: !subscriptions.has(data.subscription.id) });
  },
  "subscription.removed"(data) {
    removeCard(data.id);
  },
  "plan.changed"(data) {
    plan = data.plan;
    renderUsage();
  },
};

function showConnection(status) {
  connection.dataset.state = status;
  connection.title = CONNECTION_TITLE[status];
  connection.querySelector("span").textContent = CONNECTION_TEXT[status];
}

for (const subscription of subscriptions.values()) cards.append(renderCard(subscription));
renderUsage();
setInterval(tick, 1000);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) tick();
});

export const live = openLive({
  onMessage: (data) => handlers[data.type]?.(data),
  onState: showConnection,
  onUnauthenticated: () => showMessage("Your session has ended; log in again to see live updates.", "warning"),
});
