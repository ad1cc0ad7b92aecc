// The dashboard: a Vue app whose first state comes from the server (json_script) and that stays
// in step over the websocket (live.js) — snapshots, readings, other tabs' changes. No polling:
// the only timer moves "updated … ago" along the local clock.

import { api } from "./api.js";
import { AlertBell } from "./components/AlertBell.js";
import { AlertToasts } from "./components/AlertToasts.js";
import { CityAdd } from "./components/CityAdd.js";
import { CityCard } from "./components/CityCard.js";
import { ForecastStrip } from "./components/ForecastStrip.js";
import { PlanUsage } from "./components/PlanUsage.js";
import { openLive } from "./live.js";
import { createApp, h, reactive, ref } from "./vue.js";

const cityLabelOf = (subscription) => [subscription.city.name, subscription.city.country].filter(Boolean).join(", ");

const CONNECTION_TEXT = { live: "live", reconnecting: "reconnecting…", offline: "offline" };
const CONNECTION_TITLE = {
  live: "Cards change as soon as new readings arrive.",
  reconnecting: "The connection dropped; trying again. Cards catch up when it is back.",
  offline: "No live updates: you are offline or signed out.",
};

const Connection = {
  name: "ConnectionBadge",
  props: { state: { type: String, required: true } },
  setup(props) {
    return () =>
      h("span", { class: "badge rounded-pill text-bg-secondary", id: "connection", "data-state": props.state, role: "status", "aria-live": "polite", title: CONNECTION_TITLE[props.state] }, [
        h("i", { class: "bi bi-circle-fill", "aria-hidden": "true" }),
        " ",
        h("span", CONNECTION_TEXT[props.state] ?? "connecting…"),
      ]);
  },
};

export function createDashboard(initial) {
  const state = reactive({
    order: initial.subscriptions.map((s) => s.id),
    byId: Object.fromEntries(initial.subscriptions.map((s) => [s.id, s])),
    forecasts: Object.fromEntries((initial.forecasts ?? []).map((u) => [u.subscription_id, u.forecast])),
    flash: {},
    removing: {},
    plan: initial.plan,
    alerts: [],
    unread: 0,
    toasts: [],
    alerted: {},
    connection: "reconnecting",
    message: null,
  });
  const now = ref(Date.now());
  const adder = ref(null);

  const cue = (id) => (state.flash[id] = (state.flash[id] || 0) + 1);

  function upsert(subscription, { flash = false } = {}) {
    const previous = state.byId[subscription.id];
    state.byId[subscription.id] = subscription;
    if (!previous) state.order.push(subscription.id);
    const changed = !previous || previous.latest?.observed_at !== subscription.latest?.observed_at || previous.paused !== subscription.paused || previous.latest?.units !== subscription.latest?.units;
    if (flash && changed) cue(subscription.id);
  }

  // Subscriptions removed while this page is open: a late answer must not bring one back.
  const gone = new Set();

  function remove(id) {
    id = Number(id);
    gone.add(id);
    delete state.byId[id];
    delete state.forecasts[id];
    delete state.removing[id];
    state.order = state.order.filter((other) => other !== id);
  }

  /** The server's full list: cards added, changed in place, removed and put in its order. */
  function applySnapshot(list) {
    const keep = new Set(list.map((s) => s.id));
    for (const id of state.order) if (!keep.has(id)) remove(id);
    for (const subscription of list) upsert(subscription, { flash: true });
    state.order = list.map((s) => s.id);
  }

  const showMessage = (text, kind = "danger") => (state.message = { text, kind });

  async function follow(body, typed) {
    state.message = null;
    try {
      // The new card usually arrives first over the websocket (subscription.added); the answer
      // comes after the city's first reading, and the card may have been removed meanwhile.
      const subscription = await api.follow(body);
      if (!gone.has(subscription.id)) upsert(subscription, { flash: true });
      adder.value?.clearIf(typed);
    } catch (error) {
      if (error.code === "quota_exceeded") {
        showMessage(`${error.message} Premium follows up to 15 cities: ask your Skywatch administrator to upgrade your account.`, "warning");
      } else {
        showMessage(error.message);
      }
    }
  }

  async function unfollow(id) {
    state.message = null;
    state.removing[id] = true;
    try {
      await api.unfollow(id);
      remove(id);
    } catch (error) {
      state.removing[id] = false;
      if (error.code === "not_found") remove(id); // another tab removed it first
      else showMessage(error.message);
    }
  }

  const handlers = {
    snapshot: (data) => applySnapshot(data.subscriptions),
    weather(data) {
      for (const update of data.updates) {
        const subscription = state.byId[update.subscription_id];
        if (subscription) upsert({ ...subscription, latest: update.reading }, { flash: true });
      }
    },
    "subscription.added": (data) => upsert(data.subscription, { flash: !state.byId[data.subscription.id] }),
    "subscription.removed": (data) => remove(data.id),
    forecast(data) {
      for (const update of data.updates) state.forecasts[update.subscription_id] = update.forecast;
    },
    "plan.changed": (data) => (state.plan = data.plan),
    alert(data) {
      const event = data.event;
      if (state.alerts.some((other) => other.id === event.id)) return;
      state.alerts = [event, ...state.alerts].slice(0, 10);
      state.unread += 1;
      state.toasts = [...state.toasts, event].slice(-3);
      state.alerted[event.city.id] = event;
    },
  };

  /** The bell starts with the latest events (the socket adds the new ones). */
  async function loadAlerts() {
    try {
      const page = await api.alertEvents("10");
      const known = new Set(state.alerts.map((e) => e.id));
      state.alerts = [...state.alerts, ...page.results.filter((e) => !known.has(e.id))].slice(0, 10);
    } catch {
      // The bell is an extra: the cards work without it.
    }
  }

  const App = {
    name: "SkywatchDashboard",
    setup() {
      return () => {
        const cards = state.order.map((id) => state.byId[id]).filter(Boolean);
        return h("div", [
          h("div", { class: "d-flex flex-wrap align-items-center gap-3 mb-3 position-relative" }, [
            h("h1", { class: "h3 mb-0 me-auto" }, "Your cities"),
            h(AlertBell, { alerts: state.alerts, unread: state.unread, onRead: () => (state.unread = 0) }),
            h(Connection, { state: state.connection }),
            h(PlanUsage, { plan: state.plan, used: cards.length }),
          ]),
          h(CityAdd, { ref: adder, onFollow: follow, onError: (text) => showMessage(text) }),
          h("div", { id: "message", class: state.message ? `alert alert-${state.message.kind}` : "alert d-none", role: "alert" }, state.message?.text ?? ""),
          cards.length
            ? null
            : h("div", { id: "empty", class: "text-center text-body-secondary py-5" }, [
                h("i", { class: "bi bi-cloud-sun display-4", "aria-hidden": "true" }),
                h("p", { class: "mt-2" }, "You follow no city yet. Type one above to see its weather here."),
              ]),
          h(
            "div",
            { id: "cards", class: "row row-cols-1 row-cols-sm-2 row-cols-lg-3 g-3", "aria-live": "polite" },
            cards.map((subscription) =>
              h("div", { class: "col", key: subscription.id, "data-subscription-id": subscription.id, "data-city-id": subscription.city.id }, [
                h(
                  CityCard,
                  {
                    subscription,
                    now: now.value,
                    flash: state.flash[subscription.id] || 0,
                    removing: !!state.removing[subscription.id],
                    onRemove: unfollow,
                  },
                  {
                    alerts: () =>
                      state.alerted[subscription.city.id]
                        ? h("div", { class: "badge text-bg-danger text-wrap text-start w-100 mt-1", "data-alerted": "true", role: "status" }, [
                            h("i", { class: "bi bi-bell-fill me-1", "aria-hidden": "true" }),
                            state.alerted[subscription.city.id].message,
                          ])
                        : null,
                    forecast: () =>
                      h(ForecastStrip, {
                        forecast: state.forecasts[subscription.id] ?? null,
                        timezone: subscription.city.timezone,
                        label: cityLabelOf(subscription),
                        now: now.value,
                      }),
                  },
                ),
              ]),
            ),
          ),
          h(AlertToasts, { toasts: state.toasts, onClose: (id) => (state.toasts = state.toasts.filter((e) => e.id !== id)) }),
        ]);
      };
    },
  };

  return { App, state, now, handlers, loadAlerts };
}

const mount = document.getElementById("dashboard-app");
if (mount) {
  const initial = JSON.parse(document.getElementById("dashboard-state").textContent);
  const { App, state, now, handlers, loadAlerts } = createDashboard(initial);
  const app = createApp(App);
  // A component that fails to draw says why in the console instead of freezing the page silently.
  app.config.errorHandler = (error) => console.error(error);
  app.mount(mount);
  loadAlerts();
  setInterval(() => (now.value = Date.now()), 1000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) now.value = Date.now();
  });
  window.skywatchLive = openLive({
    onMessage: (data) => handlers[data.type]?.(data),
    onState: (next) => (state.connection = next),
    onUnauthenticated: () => (state.message = { text: "Your session has ended; log in again to see live updates.", kind: "warning" }),
  });
}
