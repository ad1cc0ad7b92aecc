// The city page's alerts: this city's rules (add, edit, enable or disable, delete) in the
// user's units, and its last events; new events arrive over the page's one websocket
// (city_chart.js re-dispatches each message as a `skywatch:message` DOM event).

import { api } from "./api.js";
import { createApp, h, reactive } from "./vue.js";

const mount = document.getElementById("city-alerts-app");
const config = mount ? JSON.parse(document.getElementById("alert-state").textContent) : null;

const blank = () => ({ id: null, metric: "temperature", operator: "below", threshold: "0", source: "now", within_hours: "12", channels: ["web", "email"], enabled: true });

function describe(alert) {
  const unit = config.unit_of[alert.metric] ?? "";
  const gap = unit === "%" || unit === "" ? "" : " ";
  const when = alert.source === "forecast" ? `in the next ${alert.within_hours} hours` : "now";
  return `${config.labels[alert.metric]} ${alert.operator} ${alert.threshold}${gap}${unit} ${when}`;
}

function field(label, id, control, error) {
  return h("div", { class: "col-12 col-sm-6 col-lg-3" }, [
    h("label", { class: "form-label small", for: id }, label),
    control,
    error ? h("div", { class: "invalid-feedback d-block", id: `${id}-error` }, error) : null,
  ]);
}

const App = {
  name: "CityAlerts",
  setup() {
    const state = reactive({ alerts: [], events: [], form: blank(), error: null, errorField: null, saving: false, loaded: false });

    async function load() {
      try {
        const [alerts, events] = await Promise.all([api.alerts(), api.alertEvents("30")]);
        state.alerts = alerts.filter((a) => a.city.id === config.city_id);
        state.events = events.results.filter((e) => e.city.id === config.city_id).slice(0, 10);
      } catch (error) {
        state.error = error.message;
      }
      state.loaded = true;
    }

    document.addEventListener("skywatch:message", (event) => {
      const message = event.detail;
      if (message?.type !== "alert" || message.event.city.id !== config.city_id) return;
      if (!state.events.some((e) => e.id === message.event.id)) state.events = [message.event, ...state.events].slice(0, 10);
      const alert = state.alerts.find((a) => a.id === message.event.alert_id);
      if (alert) Object.assign(alert, { state: "firing", last_fired_at: message.event.fired_at });
    });

    function edit(alert) {
      state.form = { ...alert, threshold: String(alert.threshold), within_hours: String(alert.within_hours ?? 12), channels: [...alert.channels] };
      state.error = state.errorField = null;
    }

    async function save(submit) {
      submit.preventDefault();
      const form = state.form;
      const threshold = Number(form.threshold);
      if (form.threshold.trim() === "" || !Number.isFinite(threshold)) {
        state.error = "Type the threshold as a number.";
        state.errorField = "threshold";
        return;
      }
      const body = { metric: form.metric, operator: form.operator, threshold, source: form.source, within_hours: form.source === "forecast" ? Number(form.within_hours) : null, channels: form.channels, enabled: form.enabled };
      state.saving = true;
      state.error = state.errorField = null;
      try {
        if (form.id) {
          const saved = await api.updateAlert(form.id, body);
          state.alerts = state.alerts.map((a) => (a.id === saved.id ? saved : a));
        } else {
          state.alerts = [...state.alerts, await api.createAlert({ subscription: config.subscription_id, ...body })];
        }
        state.form = blank();
      } catch (error) {
        state.error = error.message;
        state.errorField = error.field;
      }
      state.saving = false;
    }

    async function toggle(alert) {
      try {
        const saved = await api.updateAlert(alert.id, { enabled: !alert.enabled });
        state.alerts = state.alerts.map((a) => (a.id === saved.id ? saved : a));
      } catch (error) {
        state.error = error.message;
      }
    }

    async function remove(alert) {
      try {
        await api.deleteAlert(alert.id);
      } catch (error) {
        if (error.code !== "not_found") return (state.error = error.message);
      }
      state.alerts = state.alerts.filter((a) => a.id !== alert.id);
      if (state.form.id === alert.id) state.form = blank();
    }

    load();

    const select = (id, key, options) =>
      h(
        "select",
        { id, class: `form-select form-select-sm${state.errorField === key ? " is-invalid" : ""}`, value: state.form[key], onChange: (e) => (state.form[key] = e.target.value), "aria-describedby": state.errorField === key ? `${id}-error` : undefined },
        options.map(([value, label]) => h("option", { value, selected: state.form[key] === value }, label)),
      );
    const errorFor = (key) => (state.errorField === key ? state.error : null);

    return () => {
      const form = state.form;
      const unit = config.unit_of[form.metric] ?? "";
      return h("div", [
        state.loaded && !state.alerts.length ? h("p", { class: "text-body-secondary", id: "alerts-none" }, "No alerts on this city yet.") : null,
        h(
          "ul",
          { class: "list-group mb-3", id: "alert-list" },
          state.alerts.map((alert) =>
            h("li", { class: "list-group-item d-flex flex-wrap align-items-center gap-2", key: alert.id, "data-alert-id": alert.id, "data-state": alert.state }, [
              h("span", { class: "me-auto" }, [
                describe(alert),
                " ",
                h("span", { class: `badge ${alert.state === "firing" ? "text-bg-danger" : "text-bg-secondary"}` }, alert.enabled ? alert.state : "disabled"),
              ]),
              h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", onClick: () => edit(alert) }, "Edit"),
              h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", onClick: () => toggle(alert) }, alert.enabled ? "Disable" : "Enable"),
              h("button", { type: "button", class: "btn btn-sm btn-outline-danger", onClick: () => remove(alert), "aria-label": `Delete alert: ${describe(alert)}` }, "Delete"),
            ]),
          ),
        ),
        h("form", { class: "row g-2 align-items-end mb-3", id: "alert-form", novalidate: true, onSubmit: save }, [
          field("Measure", "alert-metric", select("alert-metric", "metric", Object.entries(config.labels)), errorFor("metric")),
          field("When it is", "alert-operator", select("alert-operator", "operator", [["below", "below"], ["above", "above"]]), errorFor("operator")),
          field(
            `Threshold (${unit || "index"})`,
            "alert-threshold",
            h("input", { id: "alert-threshold", class: `form-control form-control-sm${state.errorField === "threshold" ? " is-invalid" : ""}`, inputmode: "decimal", value: form.threshold, onInput: (e) => (form.threshold = e.target.value), "aria-describedby": state.errorField === "threshold" ? "alert-threshold-error" : undefined }),
            errorFor("threshold"),
          ),
          field("Looking at", "alert-source", select("alert-source", "source", [["now", "the latest reading"], ["forecast", "the forecast"]]), errorFor("source")),
          form.source === "forecast"
            ? field(
                "Within the next (hours)",
                "alert-within",
                h("input", { id: "alert-within", type: "number", min: 1, max: 48, class: `form-control form-control-sm${state.errorField === "within_hours" ? " is-invalid" : ""}`, value: form.within_hours, onInput: (e) => (form.within_hours = e.target.value) }),
                errorFor("within_hours"),
              )
            : null,
          h("fieldset", { class: "col-12 col-lg-6" }, [
            h("legend", { class: "form-label small mb-1" }, "Tell me by"),
            ...["web", "email", "push"].map((channel) =>
              h("div", { class: "form-check form-check-inline" }, [
                h("input", {
                  class: "form-check-input",
                  type: "checkbox",
                  id: `alert-channel-${channel}`,
                  checked: form.channels.includes(channel),
                  onChange: (e) => (form.channels = e.target.checked ? [...form.channels, channel] : form.channels.filter((c) => c !== channel)),
                }),
                h("label", { class: "form-check-label", for: `alert-channel-${channel}` }, { web: "this page", email: "e-mail", push: "push notification" }[channel]),
              ]),
            ),
            errorFor("channels") ? h("div", { class: "invalid-feedback d-block" }, errorFor("channels")) : null,
          ]),
          h("div", { class: "col-12 d-flex gap-2" }, [
            h("button", { type: "submit", class: "btn btn-primary btn-sm", disabled: state.saving, id: "alert-save" }, form.id ? "Save alert" : "Add alert"),
            form.id ? h("button", { type: "button", class: "btn btn-outline-secondary btn-sm", onClick: () => (state.form = blank()) }, "Cancel") : null,
          ]),
          state.error && !["metric", "operator", "threshold", "source", "within_hours", "channels"].includes(state.errorField)
            ? h("div", { class: "col-12 alert alert-warning mb-0", role: "alert", id: "alert-error" }, state.error)
            : null,
        ]),
        h("h3", { class: "h6" }, "Last events"),
        state.events.length
          ? h(
              "ul",
              { class: "list-unstyled small mb-0", id: "alert-events" },
              state.events.map((event) => h("li", { key: event.id, "data-event-id": event.id }, [h("time", { class: "text-body-secondary me-2", datetime: event.fired_at }, new Date(event.fired_at).toLocaleString()), event.message])),
            )
          : h("p", { class: "small text-body-secondary mb-0", id: "alert-events-none" }, "Nothing has fired here yet."),
      ]);
    };
  },
};

if (mount) {
  mount.replaceChildren();
  createApp(App).mount(mount);
}
