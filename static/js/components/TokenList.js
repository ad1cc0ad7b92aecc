// Personal API tokens: create one (its secret is shown this once, with a copy button), see each
// one's last use, revoke one after a confirmation.

import { api } from "../api.js";
import { dateTime } from "../format.js";
import { h, onMounted, ref } from "../vue.js";
import { CopyButton } from "./CopyButton.js";

export const TokenList = {
  name: "TokenList",
  setup() {
    const tokens = ref([]);
    const name = ref("");
    const created = ref(null);
    const confirming = ref(null);
    const error = ref("");

    async function load() {
      tokens.value = await api.tokens();
    }
    onMounted(() => load().catch((e) => (error.value = e.message)));

    async function create(event) {
      event.preventDefault();
      error.value = "";
      try {
        created.value = await api.createToken(name.value);
        name.value = "";
        await load();
      } catch (e) {
        error.value = e.message;
      }
    }

    async function revoke(token) {
      error.value = "";
      try {
        await api.revokeToken(token.id);
      } catch (e) {
        if (e.code !== "not_found") error.value = e.message;
      }
      confirming.value = null;
      if (created.value?.id === token.id) created.value = null;
      await load();
    }

    function row(token) {
      const asking = confirming.value === token.id;
      return h("li", { class: "list-group-item d-flex flex-wrap align-items-center gap-2", "data-token-id": token.id }, [
        h("div", { class: "me-auto" }, [
          h("div", { class: "fw-semibold token-name" }, token.name),
          h("div", { class: "small text-body-secondary" }, `created ${dateTime(token.created_at)} · last used ${token.last_used_at ? dateTime(token.last_used_at) : "never"}`),
        ]),
        asking
          ? h("div", { class: "d-flex flex-wrap align-items-center gap-2", role: "group", "aria-label": `Revoke ${token.name}?` }, [
              h("span", { class: "small" }, "Scripts using it stop working."),
              h("button", { type: "button", class: "btn btn-sm btn-danger", onClick: () => revoke(token) }, "Yes, revoke"),
              h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", onClick: () => (confirming.value = null) }, "Cancel"),
            ])
          : h("button", { type: "button", class: "btn btn-sm btn-outline-danger", "aria-label": `Revoke ${token.name}`, onClick: () => (confirming.value = token.id) }, "Revoke"),
      ]);
    }

    return () =>
      h("div", [
        h("form", { class: "d-flex flex-wrap gap-2 mb-3", id: "token-form", onSubmit: create }, [
          h("label", { class: "visually-hidden", for: "token-name" }, "Token name"),
          h("input", { id: "token-name", class: "form-control flex-grow-1 w-auto", maxlength: 100, placeholder: "What is it for? e.g. laptop script", value: name.value, onInput: (e) => (name.value = e.target.value) }),
          h("button", { type: "submit", class: "btn btn-primary" }, "Create token"),
        ]),
        error.value ? h("div", { class: "alert alert-danger", role: "alert" }, error.value) : null,
        created.value
          ? h("div", { class: "alert alert-success", id: "new-token-box", role: "status" }, [
              h("p", { class: "mb-2" }, [h("strong", created.value.name), ": copy this token now, it is shown only this once. Send it in the X-API-Token header."]),
              h("div", { class: "d-flex flex-wrap gap-2" }, [
                h("code", { id: "new-token", class: "user-select-all text-break bg-body p-2 rounded flex-grow-1" }, created.value.token),
                h(CopyButton, { text: created.value.token, label: "Copy token" }),
              ]),
            ])
          : null,
        tokens.value.length
          ? h("ul", { class: "list-group", id: "token-list", "aria-label": "Your API tokens" }, tokens.value.map(row))
          : h("p", { class: "text-body-secondary mb-0", id: "token-list" }, "No tokens yet."),
      ]);
  },
};
