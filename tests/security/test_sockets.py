"""The websocket against a real server: who may open it, and how long a revoked credential lasts."""

from __future__ import annotations

import contextlib
import json
import time

import jwt
import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.security.conftest import (
    PASSWORD,
    api_account,
    browser_session,
    cookie_header,
    log_in,
    next_message,
    open_socket,
)


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


# --- Revocation: the socket closes (4401) within 5 seconds -----------------------------------

REVOCATION_SECONDS = 5


def closed_within(socket, seconds: float) -> int:
    """Reads until the server closes the socket; returns the close code, failing after `seconds`."""
    deadline = time.monotonic() + seconds
    with contextlib.suppress(ConnectionClosed):
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the socket is still open"
            try:
                socket.recv(timeout=remaining)
            except TimeoutError:
                raise AssertionError(f"still open after {seconds} s") from None
    return socket.close_code


def still_open(socket) -> bool:
    socket.send(json.dumps({"type": "ping"}))
    return next_message(socket) == {"type": "pong"}


def by_token(server, token: str):
    socket = open_socket(server)
    socket.send(json.dumps({"type": "auth", "token": token}))
    assert next_message(socket)["type"] == "snapshot"
    return socket


def by_session(server, session: requests.Session):
    socket = open_socket(server, origin=server.url, cookie=cookie_header(session))
    assert next_message(socket)["type"] == "snapshot"
    return socket


def test_revoking_a_personal_token_closes_its_socket(live_server_process):
    account = api_account(live_server_process)
    auth = {"Authorization": f"Bearer {account['access']}"}
    created = requests.post(
        f"{live_server_process.url}/api/tokens", json={"name": "script"}, headers=auth, timeout=10
    ).json()
    with by_token(live_server_process, created["token"]) as socket:
        revoked = requests.delete(
            f"{live_server_process.url}/api/tokens/{created['id']}", headers=auth, timeout=10
        )
        assert revoked.status_code == 204

        assert closed_within(socket, REVOCATION_SECONDS) == 4401


def test_an_api_logout_closes_the_socket_its_access_token_opened(live_server_process):
    account = api_account(live_server_process)
    with by_token(live_server_process, account["access"]) as socket:
        logout = requests.post(
            f"{live_server_process.url}/api/auth/logout",
            json={"refresh": account["refresh"]},
            timeout=10,
        )
        assert logout.status_code == 204

        assert closed_within(socket, REVOCATION_SECONDS) == 4401


def test_a_web_logout_closes_that_sessions_socket_and_no_other(live_server_process):
    first = browser_session(live_server_process)
    second = requests.Session()
    second.cookies.update(first.cookies)
    del second.cookies["sessionid"]
    log_in(live_server_process, second, first.email)
    with (
        by_session(live_server_process, first) as logged_out,
        by_session(live_server_process, second) as other,
    ):
        response = first.post(
            f"{live_server_process.url}/accounts/logout/",
            data={"csrfmiddlewaretoken": first.cookies["csrftoken"]},
            headers={"Referer": f"{live_server_process.url}/"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302

        assert closed_within(logged_out, REVOCATION_SECONDS) == 4401
        assert still_open(other)


def test_a_password_change_closes_every_socket_of_the_account(live_server_process):
    changer = browser_session(live_server_process)
    other = requests.Session()
    log_in(live_server_process, other, changer.email)
    access = requests.post(
        f"{live_server_process.url}/api/auth/login",
        json={"email": changer.email, "password": PASSWORD},
        timeout=10,
    ).json()["access"]
    with (
        by_session(live_server_process, changer) as changers,
        by_session(live_server_process, other) as others,
        by_token(live_server_process, access) as scripts,
    ):
        response = changer.post(
            f"{live_server_process.url}/accounts/password/change/",
            data={
                "csrfmiddlewaretoken": changer.cookies["csrftoken"],
                "oldpassword": PASSWORD,
                "password1": "a brand new pass phrase 8",
                "password2": "a brand new pass phrase 8",
            },
            headers={"Referer": f"{live_server_process.url}/accounts/password/change/"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:500]

        assert closed_within(others, REVOCATION_SECONDS) == 4401
        assert closed_within(scripts, REVOCATION_SECONDS) == 4401
        # Django gives the changing browser a new session key; the socket of the old one closes.
        assert closed_within(changers, REVOCATION_SECONDS) == 4401
    # That browser stays signed in (under its new key) and opens a new socket; the other cannot.
    with by_session(live_server_process, changer) as reopened:
        assert still_open(reopened)
    with open_socket(
        live_server_process, origin=live_server_process.url, cookie=cookie_header(other)
    ) as anonymous:
        anonymous.send(json.dumps({"type": "ping"}))
        assert next_message(anonymous) == {"type": "pong"}
        assert (
            requests.get(
                f"{live_server_process.url}/api/me",
                cookies=other.cookies,
                timeout=10,
            ).status_code
            == 401
        )


def test_logging_out_everywhere_closes_every_socket(live_server_process):
    account = api_account(live_server_process)
    with by_token(live_server_process, account["access"]) as socket:
        response = requests.post(
            f"{live_server_process.url}/api/me/logout-everywhere",
            headers={"Authorization": f"Bearer {account['access']}"},
            timeout=10,
        )
        assert response.status_code == 204

        assert closed_within(socket, REVOCATION_SECONDS) == 4401


def test_a_socket_closes_when_the_jwt_it_authenticated_with_expires(live_server_process):
    account = api_account(live_server_process)
    claims = jwt.decode(account["access"], options={"verify_signature": False})
    claims["exp"] = int(time.time()) + 2
    # Signed with the server's own key, as the server would sign a token that expires soon.
    short_lived = jwt.encode(
        claims, live_server_process.env["DJANGO_SECRET_KEY"], algorithm="HS256"
    )
    with by_token(live_server_process, short_lived) as socket:
        assert closed_within(socket, 2 + REVOCATION_SECONDS) == 4401
