"""An attacker's view: a real server on loopback, real HTTP and real websockets against it."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from websockets.sync.client import connect

from tests.support.servers import Server, make_server

PASSWORD = "a long pass phrase 7"


@pytest.fixture(scope="package")
def live_server_process(tmp_path_factory):
    """`make run`'s server (embedded mode), shared by the package; its log is checked too."""
    instance = make_server(tmp_path_factory.mktemp("security-server"))
    instance.start()
    yield instance
    instance.stop()


def server_log(server: Server) -> str:
    return (server.workdir / "server.log").read_text(errors="replace")


def browser_session(server: Server, email: str | None = None) -> requests.Session:
    """A browser that signed up through the web form: it holds a session cookie."""
    email = email or f"web-{uuid.uuid4().hex[:10]}@example.com"
    session = requests.Session()
    session.get(f"{server.url}/accounts/signup/", timeout=10)
    response = session.post(
        f"{server.url}/accounts/signup/",
        data={
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        headers={"Referer": f"{server.url}/accounts/signup/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    session.email = email
    return session


def log_in(server: Server, session: requests.Session, email: str) -> None:
    """A second browser signs in to an existing account through the web form."""
    session.get(f"{server.url}/accounts/login/", timeout=10)
    response = session.post(
        f"{server.url}/accounts/login/",
        data={
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "login": email,
            "password": PASSWORD,
        },
        headers={"Referer": f"{server.url}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]


def api_account(server: Server) -> dict:
    """A script's account: registered through the API; returns its JWT pair and e-mail."""
    email = f"api-{uuid.uuid4().hex[:10]}@example.com"
    response = requests.post(
        f"{server.url}/api/auth/register", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "email": email}


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


def open_socket(server: Server, *, origin: str | None = None, cookie: str | None = None):
    """A real websocket to /ws/weather/; the handshake's refusal raises InvalidStatus."""
    headers = {"Cookie": cookie} if cookie else None
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/weather/",
        origin=origin,
        additional_headers=headers,
        open_timeout=10,
        proxy=None,
        legacy=True,
    )


def next_message(socket, timeout: float = 5) -> dict:
    return json.loads(socket.recv(timeout=timeout))
