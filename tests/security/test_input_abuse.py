"""Bad input gets a 4xx in the error format from the real server, never a 500 or a traceback."""

from __future__ import annotations

import pytest
import requests
from websockets.exceptions import InvalidStatus

from tests.security.conftest import api_account, open_socket, server_log


def error_of(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"code", "message", "field"}, body
    return body


def test_json_nested_100000_deep_is_400_invalid(live_server_process):
    body = "[" * 100_000 + "]" * 100_000

    response = requests.post(
        f"{live_server_process.url}/api/auth/login",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )

    assert error_of(response, 400)["code"] == "invalid"


def test_a_body_over_the_size_limit_is_413_invalid(live_server_process):
    body = '{"email": "' + "a" * (2_700_000) + '"}'

    response = requests.post(
        f"{live_server_process.url}/api/auth/login",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )

    assert error_of(response, 413)["code"] == "invalid"


def test_a_lone_surrogate_in_a_city_is_400_invalid(live_server_process):
    account = api_account(live_server_process)

    response = requests.post(
        f"{live_server_process.url}/api/subscriptions",
        data='{"city": "\\ud800"}',
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {account['access']}",
        },
        timeout=10,
    )

    assert error_of(response, 400)["code"] == "invalid"


@pytest.mark.parametrize("origin", ["http://[", "http://127.0.0.1:notaport", "null"])
def test_a_websocket_handshake_with_a_malformed_origin_is_refused(live_server_process, origin):
    with pytest.raises(InvalidStatus) as refused:
        open_socket(live_server_process, origin=origin)

    assert refused.value.response.status_code == 403


def test_none_of_this_left_a_traceback_or_a_500_in_the_servers_log(live_server_process):
    # Runs last in this module: every request above has been answered by now.
    log = server_log(live_server_process)

    assert "Traceback" not in log
    assert " 500 " not in log
