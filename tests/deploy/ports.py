"""Ports for servers the deployment tests start: this suite's range, 8120-8129."""

from __future__ import annotations

import socket

PORT_RANGE = range(8120, 8129)  # 8129 stays closed: tests use it as "nothing listens here"


def free_port() -> int:
    """The first port of the range that nothing listens on."""
    for port in PORT_RANGE:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")
