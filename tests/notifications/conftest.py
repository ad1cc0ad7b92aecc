"""Websocket test world: every consumer test runs on the in-memory layer and on real Redis."""

from __future__ import annotations

import copy
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from notifications import auth, consumers

ORIGIN = b"http://testserver"
FIXTURE_TOKENS: dict[str, object] = {}


def _fixture_scheme(token: str):
    """A token scheme registered by the tests: `fixture-<email>` is that user's token."""
    return FIXTURE_TOKENS.get(token)


@pytest.fixture(autouse=True)
def _no_persistent_connections(monkeypatch):
    """Consumers query from worker threads; their connections must not outlive the test."""
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)


@pytest.fixture(
    params=["memory", pytest.param("redis", marks=pytest.mark.services)],
)
def channel_layer(request, settings):
    """The in-memory layer, or the layer the settings build for REDIS_URL, on a prefix of its own."""
    if request.param == "memory":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    else:
        configured = copy.deepcopy(django_settings.CHANNEL_LAYERS["default"])
        assert configured["BACKEND"].startswith(("channels_redis.", "notifications."))
        # A prefix of its own, so parallel runs never share a group.
        configured["CONFIG"]["prefix"] = f"sw-test-{uuid.uuid4().hex[:8]}"
        settings.CHANNEL_LAYERS = {"default": configured}
    return get_channel_layer()


@pytest.fixture
def application(channel_layer):
    from skywatch.routing import build_router

    return build_router(None)


@pytest.fixture
def auth_timeout(monkeypatch):
    """The 10-second authentication window, shrunk for tests."""
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.3)
    return 0.3


@pytest.fixture
def fixture_tokens(monkeypatch):
    """Registers a test token scheme next to the real ones; returns a token maker."""
    monkeypatch.setattr(auth, "TOKEN_SCHEMES", [*auth.TOKEN_SCHEMES, _fixture_scheme])

    def token_for(user) -> str:
        token = f"fixture-{user.email}"
        FIXTURE_TOKENS[token] = user
        return token

    yield token_for
    FIXTURE_TOKENS.clear()


@pytest.fixture
def session_cookie(client):
    """The Cookie header of a browser logged in as `user`."""

    @database_sync_to_async
    def cookie_for(user) -> bytes:
        client.force_login(user)
        value = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        client.cookies.clear()
        return f"{django_settings.SESSION_COOKIE_NAME}={value}".encode()

    return cookie_for


@pytest.fixture
async def open_socket(application):
    """Opens /ws/weather/ like a browser (Origin, optional cookie); closes them all at the end."""
    opened: list[WebsocketCommunicator] = []

    async def opener(
        *,
        cookie: bytes | None = None,
        origin: bytes | None = ORIGIN,
        host: bytes = b"testserver",
        extra_headers: tuple = (),
    ):
        headers = [(b"host", host), *extra_headers]
        if origin is not None:
            headers.append((b"origin", origin))
        if cookie is not None:
            headers.append((b"cookie", cookie))
        communicator = WebsocketCommunicator(application, "/ws/weather/", headers=headers)
        connected, code = await communicator.connect(timeout=5)
        opened.append(communicator)
        return communicator, connected, code

    yield opener
    for communicator in opened:
        await communicator.disconnect()
