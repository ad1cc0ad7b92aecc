// The one module that talks to the REST API from a page: the browser session plus CSRF, JSON in
// and out, and the contract's one error format turned into an ApiError.

export class ApiError extends Error {
  constructor({ status, code, message, field }) {
    super(message || `The server answered ${status}.`);
    this.status = status;
    this.code = code || "server_error";
    this.field = field ?? null;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function request(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError({ status: 0, code: "network", message: "The server cannot be reached; check your connection." });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError({ status: response.status, ...(data || {}) });
  return data;
}

const query = (params) => new URLSearchParams(params).toString();

export const api = {
  me: () => request("GET", "/api/me"),
  setUnits: (units) => request("PATCH", "/api/me", { units }),
  rotateShare: () => request("POST", "/api/me/share"),
  deleteAccount: (confirmation) => request("DELETE", "/api/me", confirmation),
  exportUrl: "/api/me/export",

  tokens: () => request("GET", "/api/tokens"),
  createToken: (name) => request("POST", "/api/tokens", { name }),
  revokeToken: (id) => request("DELETE", `/api/tokens/${id}`),

  history: (page = 1, perPage = "10") => request("GET", `/api/history?${query({ per_page: perPage, page })}`),
  clearHistory: () => request("DELETE", "/api/history"),

  searchCities: (q) => request("GET", `/api/cities/search?${query({ q })}`),
  follow: (body) => request("POST", "/api/subscriptions", body),
  unfollow: (id) => request("DELETE", `/api/subscriptions/${id}`),

  pushKey: () => request("GET", "/api/push/key"),
  pushSubscribe: (subscription) => request("POST", "/api/push/subscriptions", subscription),
  pushUnsubscribe: (id) => request("DELETE", `/api/push/subscriptions/${id}`),

  subscriptions: () => request("GET", "/api/subscriptions"),
  alerts: () => request("GET", "/api/alerts"),
  createAlert: (body) => request("POST", "/api/alerts", body),
  updateAlert: (id, body) => request("PATCH", `/api/alerts/${id}`, body),
  deleteAlert: (id) => request("DELETE", `/api/alerts/${id}`),
  alertEvents: (perPage = "10") => request("GET", `/api/alerts/events?${query({ per_page: perPage })}`),
};
