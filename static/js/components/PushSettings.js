// Web Push on this browser. Until the server offers a push key (GET /api/push/key), the buttons
// stay disabled and say why.

import { api } from "../api.js";
import { h, onMounted, ref } from "../vue.js";

export const PushSettings = {
  name: "PushSettings",
  setup() {
    const reason = ref("Checking whether this browser and this server support Web Push…");
    const available = ref(false);
    onMounted(async () => {
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
        reason.value = "This browser does not support Web Push notifications.";
        return;
      }
      try {
        await api.pushKey();
        available.value = true;
        reason.value = "";
      } catch (e) {
        reason.value = e.status === 404 ? "Push notifications are not available on this server yet; they will arrive with alerts." : e.message;
      }
    });
    const button = (label, cls) => h("button", { type: "button", class: `btn ${cls}`, disabled: !available.value, "aria-describedby": "push-reason" }, label);
    return () =>
      h("div", [
        h("p", { class: "text-body-secondary", id: "push-reason" }, reason.value || "Get a notification on this device when an alert fires."),
        h("div", { class: "d-flex flex-wrap gap-2" }, [button("Enable on this browser", "btn-primary"), button("Disable", "btn-outline-secondary"), button("Send a test", "btn-outline-secondary")]),
      ]);
  },
};
