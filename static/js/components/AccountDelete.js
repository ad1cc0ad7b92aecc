// Deleting the account: confirmed with the password, or with the e-mail address for accounts
// that log in with GitHub or Google and have no password.

import { api } from "../api.js";
import { h, ref } from "../vue.js";

export const AccountDelete = {
  name: "AccountDelete",
  props: { hasPassword: { type: Boolean, required: true }, email: { type: String, required: true } },
  setup(props) {
    const value = ref("");
    const error = ref("");
    const busy = ref(false);
    const field = props.hasPassword ? "password" : "email";

    async function submit(event) {
      event.preventDefault();
      error.value = "";
      busy.value = true;
      try {
        await api.deleteAccount({ [field]: value.value });
        window.location.assign("/");
      } catch (e) {
        error.value = e.message;
        busy.value = false;
      }
    }

    return () =>
      h("form", { id: "delete-form", onSubmit: submit, novalidate: true }, [
        h("p", "Your subscriptions, search history, API tokens and sessions are deleted for good. Download your data first if you want to keep it."),
        h("label", { class: "form-label", for: "delete-confirm" }, props.hasPassword ? "Your password" : `Type your e-mail address (${props.email}) to confirm`),
        h("input", {
          id: "delete-confirm",
          class: ["form-control mb-2", { "is-invalid": error.value }],
          type: props.hasPassword ? "password" : "email",
          autocomplete: props.hasPassword ? "current-password" : "off",
          required: true,
          value: value.value,
          "aria-describedby": error.value ? "delete-error" : undefined,
          onInput: (e) => (value.value = e.target.value),
        }),
        error.value ? h("div", { class: "invalid-feedback d-block mb-2", id: "delete-error" }, error.value) : null,
        h("button", { type: "submit", class: "btn btn-danger", disabled: busy.value || !value.value }, "Delete my account"),
      ]);
  },
};
