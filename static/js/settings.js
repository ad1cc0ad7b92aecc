// The settings page: a Vue app on the server's first state (json_script "settings-state"),
// every change through the REST API (api.js). Units changed here reach the dashboards open in
// other tabs as a websocket snapshot sent by the server.

import { api } from "./api.js";
import { AccountDelete } from "./components/AccountDelete.js";
import { AlertList } from "./components/AlertList.js";
import { CopyButton } from "./components/CopyButton.js";
import { PushSettings } from "./components/PushSettings.js";
import { SearchHistory } from "./components/SearchHistory.js";
import { TokenList } from "./components/TokenList.js";
import { createApp, h, reactive } from "./vue.js";

const initial = JSON.parse(document.getElementById("settings-state").textContent);
const state = reactive({ user: initial.user, unitsNote: "", shareNote: "", error: "" });

function section(id, title, icon, children, extra = {}) {
  return h("section", { class: "card shadow-sm mb-3", id, "aria-labelledby": `${id}-title`, ...extra }, [
    h("div", { class: "card-body" }, [h("h2", { class: "h5 card-title", id: `${id}-title` }, [h("i", { class: `bi bi-${icon} me-2`, "aria-hidden": "true" }), title]), ...children]),
  ]);
}

async function setUnits(units) {
  state.unitsNote = "";
  try {
    state.user = await api.setUnits(units);
    state.unitsNote = "Saved: your cards show the new units now.";
  } catch (e) {
    state.unitsNote = e.message;
  }
}

async function rotateShare() {
  try {
    state.user = await api.rotateShare();
    state.shareNote = "Here is a new share link. The old one no longer works.";
  } catch (e) {
    state.shareNote = e.message;
  }
}

function units() {
  return h("fieldset", [
    h("legend", { class: "visually-hidden" }, "Units"),
    ...initial.units_choices.map(([value, label]) =>
      h("div", { class: "form-check" }, [
        h("input", { class: "form-check-input", type: "radio", name: "units", id: `units-${value}`, value, checked: state.user.units === value, onChange: () => setUnits(value) }),
        h("label", { class: "form-check-label", for: `units-${value}` }, label),
      ]),
    ),
    h("p", { class: "small text-body-secondary mt-2 mb-0", role: "status", id: "units-note" }, state.unitsNote),
  ]);
}

function share() {
  return [
    h("p", "Anyone with this link sees read-only charts of your cities, without logging in."),
    h("div", { class: "input-group mb-2" }, [
      h("label", { class: "visually-hidden", for: "share-url" }, "Share link"),
      h("input", { id: "share-url", class: "form-control", readonly: true, value: state.user.share_url }),
      h(CopyButton, { text: state.user.share_url, label: "Copy", id: "share-copy" }),
    ]),
    h("button", { type: "button", class: "btn btn-outline-danger btn-sm", id: "share-rotate", onClick: rotateShare }, "Make a new link (the old one stops working)"),
    h("p", { class: "small text-body-secondary mt-2 mb-0", role: "status" }, state.shareNote),
  ];
}

function plan() {
  const { plan: current, usage } = state.user;
  const better = initial.plans.filter((p) => p.city_limit > current.city_limit);
  return [
    h("p", { id: "plan-usage" }, [h("strong", current.name), ` plan · ${usage.cities} / ${current.city_limit} cities`]),
    better.length
      ? h("p", { class: "mb-0" }, [
          `Need more? ${better.map((p) => `${p.name} follows up to ${p.city_limit} cities`).join("; ")}. `,
          "Ask your Skywatch administrator to upgrade your account.",
        ])
      : h("p", { class: "mb-0 text-body-secondary" }, "You are on the largest plan."),
  ];
}

const App = {
  name: "SkywatchSettings",
  setup() {
    return () =>
      h("div", [
        h("h1", { class: "h3 mb-3" }, "Settings"),
        section("units", "Units", "thermometer-half", [units()]),
        section("tokens", "Personal API tokens", "key", [h("p", { class: "text-body-secondary" }, "For scripts and apps: send a token in the X-API-Token header."), h(TokenList)]),
        section("share", "Share link", "share", share()),
        section("plan", "Plan and usage", "stars", plan()),
        section("history", "Search history", "clock-history", [h(SearchHistory)]),
        section("alerts", "Alerts", "bell", [h(AlertList)]),
        section("push", "Web Push on this browser", "phone-vibrate", [h(PushSettings)]),
        section("export", "Export your data", "download", [
          h("p", "Everything Skywatch keeps about you, as one JSON file: account, subscriptions, alerts, search history and token names (never secrets)."),
          h("a", { class: "btn btn-outline-primary", id: "export-link", href: api.exportUrl, download: "skywatch-export.json" }, "Download my data"),
        ]),
        section("delete", "Delete your account", "trash", [h(AccountDelete, { hasPassword: initial.has_password, email: state.user.email })], { class: "card shadow-sm mb-3 border-danger" }),
      ]);
  },
};

createApp(App).mount("#settings-app");
