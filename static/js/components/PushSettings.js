// Web Push on this browser: enable (subscribe with the server's VAPID key and register the
// subscription), disable, and a test notification shown by the service worker. Until the
// server offers a push key (GET /api/push/key), the buttons stay disabled and say why.

import { api } from "../api.js";
import { h, onMounted, ref } from "../vue.js";

const STORED_ID = "skywatch.pushSubscriptionId";

function keyBytes(base64url) {
  const text = atob(base64url.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export const PushSettings = {
  name: "PushSettings",
  setup() {
    const reason = ref("Checking whether this browser and this server support Web Push…");
    const available = ref(false);
    const enabled = ref(false);
    const note = ref("");
    let publicKey = null;

    async function currentSubscription() {
      const registration = await navigator.serviceWorker.ready;
      return [registration, await registration.pushManager.getSubscription()];
    }

    onMounted(async () => {
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
        reason.value = "This browser does not support Web Push notifications.";
        return;
      }
      try {
        publicKey = (await api.pushKey()).public_key;
        available.value = true;
        reason.value = "";
        const [, subscription] = await currentSubscription();
        enabled.value = !!subscription;
      } catch (e) {
        reason.value = e.status === 404 ? "Push notifications are not available on this server yet: it has no Web Push key configured." : e.message;
      }
    });

    async function enable() {
      note.value = "";
      try {
        if ((await Notification.requestPermission()) !== "granted") {
          note.value = "Notifications are blocked for this site in the browser's settings.";
          return;
        }
        const [registration] = await currentSubscription();
        const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
        const saved = await api.pushSubscribe(subscription.toJSON());
        localStorage.setItem(STORED_ID, String(saved.id));
        enabled.value = true;
        note.value = "Enabled: alerts that use push reach this browser.";
      } catch (e) {
        note.value = e.message || "This browser refused to subscribe.";
      }
    }

    async function disable() {
      note.value = "";
      try {
        const [, subscription] = await currentSubscription();
        await subscription?.unsubscribe();
        const id = localStorage.getItem(STORED_ID);
        if (id) await api.pushUnsubscribe(id).catch(() => null);
        localStorage.removeItem(STORED_ID);
        enabled.value = false;
        note.value = "Disabled on this browser.";
      } catch (e) {
        note.value = e.message;
      }
    }

    async function test() {
      const [registration] = await currentSubscription();
      await registration.showNotification("Skywatch", { body: "Notifications from Skywatch show up like this.", tag: "skywatch-test", data: { url: "/dashboard/" } });
      note.value = "A test notification was shown.";
    }

    const button = (label, cls, onClick, disabled) => h("button", { type: "button", class: `btn ${cls}`, disabled: !available.value || disabled, "aria-describedby": "push-reason", onClick }, label);
    return () =>
      h("div", [
        h("p", { class: "text-body-secondary", id: "push-reason" }, reason.value || (enabled.value ? "Web Push is on for this browser." : "Get a notification on this device when an alert fires.")),
        h("div", { class: "d-flex flex-wrap gap-2" }, [
          button("Enable on this browser", "btn-primary", enable, enabled.value),
          button("Disable", "btn-outline-secondary", disable, !enabled.value),
          button("Send a test", "btn-outline-secondary", test, !enabled.value),
        ]),
        note.value ? h("p", { class: "small mt-2 mb-0", role: "status", id: "push-note" }, note.value) : null,
      ]);
  },
};
