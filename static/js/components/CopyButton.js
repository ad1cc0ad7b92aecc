// Copies a text to the clipboard and says so for a moment (a status screen readers hear).
import { h, ref } from "../vue.js";

export const CopyButton = {
  name: "CopyButton",
  props: { text: { type: String, required: true }, label: { type: String, default: "Copy" }, id: { type: String, default: undefined } },
  setup(props) {
    const said = ref("");
    async function copy() {
      try {
        await navigator.clipboard.writeText(props.text);
        said.value = "Copied";
      } catch {
        said.value = "Select the text and copy it";
      }
      setTimeout(() => (said.value = ""), 2500);
    }
    return () => [
      h("button", { type: "button", class: "btn btn-outline-secondary", id: props.id, onClick: copy }, [h("i", { class: "bi bi-clipboard", "aria-hidden": "true" }), ` ${props.label}`]),
      h("span", { class: "visually-hidden", role: "status" }, said.value),
      said.value ? h("span", { class: "small text-body-secondary align-self-center ms-2", "aria-hidden": "true" }, said.value) : null,
    ];
  },
};
