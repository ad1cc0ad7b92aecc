"""A TCP proxy on loopback that can cut every connection and refuse or swallow new ones."""

from __future__ import annotations

import contextlib
import socket
import threading

FORWARD = "forward"
REFUSE = "refuse"  # nothing listens: connections are refused at once (a stopped server)
BLACKHOLE = "blackhole"  # connections are accepted and never answered (a network partition)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv() on it
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target` while `mode` is FORWARD."""

    def __init__(self, *, port: int, target: tuple[str, int]) -> None:
        self.port = port
        self.target = target
        self.mode = FORWARD
        self.accepted = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._stopped = threading.Event()

    def __enter__(self) -> TcpProxy:
        self._listen()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._unlisten()
        self.cut()

    # --- Switches -----------------------------------------------------------------------

    def cut(self) -> int:
        """Close every open connection, both sides, as a restarting server does; how many."""
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)
        return len(sockets)

    def refuse(self) -> None:
        """Cut everything and stop listening."""
        self.mode = REFUSE
        self._unlisten()
        self.cut()

    def blackhole(self) -> None:
        """Cut everything, then accept connections and never answer them."""
        self.mode = BLACKHOLE
        self.cut()
        self._listen()

    def forward(self) -> None:
        """Forward again (listening again if needed)."""
        self.mode = FORWARD
        self._listen()

    # --- Plumbing -----------------------------------------------------------------------

    def _listen(self) -> None:
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def _unlisten(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)  # it notices within its 0.1 s accept timeout
        listener.close()

    def _track(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._open.update(sockets)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set() and listener is self._listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            client.settimeout(None)
            if self.mode == BLACKHOLE:
                self._track(client)  # held open, read by nobody, until the next cut
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            self._track(client, upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _close(source)
            _close(sink)
