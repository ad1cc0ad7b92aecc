"""The websocket against a real server: who may open it, and how long a revoked credential lasts."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from tests.security.conftest import browser_session, cookie_header, next_message, open_socket


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:6666",  # another port of the same host
        "https://127.0.0.1",  # another scheme
        "http://localhost:{port}",  # another host name
        "https://evil.example",
    ],
)
def test_a_page_of_another_origin_cannot_open_a_victims_socket(live_server_process, origin):
    victim = browser_session(live_server_process)

    with pytest.raises(InvalidStatus) as refused:
        open_socket(
            live_server_process,
            origin=origin.format(port=live_server_process.port),
            cookie=cookie_header(victim),
        )

    assert refused.value.response.status_code == 403


def test_the_sites_own_pages_open_the_socket_with_their_session(live_server_process):
    user = browser_session(live_server_process)

    with open_socket(
        live_server_process, origin=live_server_process.url, cookie=cookie_header(user)
    ) as socket:
        assert next_message(socket)["type"] == "snapshot"
