// One websocket to /ws/weather/ that stays up by itself: reconnects with exponential backoff and
// jitter, notices a dead connection with a ping every 25 s, lets go of a long-hidden tab, waits
// for the network to come back. The server resends a snapshot on every connect, so a page that
// renders snapshots is right again after any gap. Nothing here asks the server for data.

const TIMING = {
  baseDelay: 1000, // first retry after 0.5–1 s
  maxDelay: 30000, // retries never wait more than 15–30 s
  heartbeat: 25000, // a ping this often while open...
  pongTimeout: 10000, // ...and a connection that answers nothing for this long is dead
  hiddenClose: 5 * 60000, // a tab hidden this long gives its connection back
};

export const LIVE = "live";
export const RECONNECTING = "reconnecting";
export const OFFLINE = "offline";
export const CLOSE_UNAUTHENTICATED = 4401;

/** Keeps a connection open and hands every server message but pong to `onMessage`. */
export function openLive({ onMessage, onState, onUnauthenticated, path = "/ws/weather/", timing = {} }) {
  const t = { ...TIMING, ...timing };
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}${path}`;
  let socket = null;
  let state = null;
  let attempts = 0;
  let stopped = false;
  let retryTimer = null;
  let heartbeatTimer = null;
  let pongTimer = null;
  let hiddenTimer = null;

  function setState(next) {
    if (next === state) return;
    state = next;
    onState?.(next);
  }

  function stopHeartbeat() {
    clearTimeout(heartbeatTimer);
    clearTimeout(pongTimer);
    heartbeatTimer = pongTimer = null;
  }

  function beat() {
    heartbeatTimer = setTimeout(() => {
      ping();
      beat();
    }, t.heartbeat);
  }

  function ping() {
    if (socket?.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: "ping" }));
    clearTimeout(pongTimer);
    pongTimer = setTimeout(() => drop(socket, 4000), t.pongTimeout);
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (stopped || socket) return;
    if (navigator.onLine === false) {
      setState(OFFLINE);
      return;
    }
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener("open", () => {
      if (ws === socket) beat();
    });
    ws.addEventListener("message", (event) => {
      if (ws !== socket) return;
      clearTimeout(pongTimer); // anything at all proves the connection alive
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (data.type === "snapshot") {
        attempts = 0;
        setState(LIVE);
      }
      if (data.type === "error") console.warn("Skywatch live updates:", data.code, data.message);
      if (data.type !== "pong") onMessage(data);
    });
    ws.addEventListener("close", (event) => {
      if (ws === socket) dropped(event.code);
    });
  }

  // Forget a connection now (a dead one may take minutes to report its own close).
  function drop(ws, code) {
    if (!ws || ws !== socket) return;
    socket = null;
    try {
      ws.close(1000);
    } catch {
      // already closing
    }
    dropped(code);
  }

  function dropped(code) {
    socket = null;
    stopHeartbeat();
    if (code === CLOSE_UNAUTHENTICATED) {
      stopped = true;
      setState(OFFLINE);
      onUnauthenticated?.();
      return;
    }
    if (navigator.onLine === false) {
      setState(OFFLINE); // the online event reconnects
      return;
    }
    setState(RECONNECTING);
    const ceiling = Math.min(t.maxDelay, t.baseDelay * 2 ** attempts);
    attempts += 1;
    // Equal jitter: never sooner than half the ceiling, so a restarted server is not stampeded.
    retryTimer = setTimeout(connect, ceiling / 2 + Math.random() * (ceiling / 2));
  }

  function reconnectNow() {
    if (stopped) return;
    attempts = 0;
    if (socket) ping();
    else connect();
  }

  window.addEventListener("offline", () => {
    clearTimeout(retryTimer);
    setState(OFFLINE);
    drop(socket, 1006);
  });
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    clearTimeout(hiddenTimer);
    hiddenTimer = null;
    if (document.hidden) {
      hiddenTimer = setTimeout(() => {
        hiddenTimer = null;
        if (!document.hidden || !socket) return;
        const ws = socket;
        socket = null;
        stopHeartbeat();
        clearTimeout(retryTimer);
        ws.close(1000);
        setState(RECONNECTING); // shown when the tab is back, until the snapshot arrives
      }, t.hiddenClose);
    } else {
      reconnectNow(); // back in view: reconnect at once, or check the open connection now
    }
  });

  setState(RECONNECTING);
  connect();
  return {
    get state() {
      return state;
    },
    send(message) {
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
  };
}
