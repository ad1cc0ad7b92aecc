"""A socket closes (4401) within seconds of its own credential being revoked, and only then."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from rest_framework_simplejwt.tokens import AccessToken

from notifications import consumers
from skywatch.accounts.models import User
from skywatch.accounts.services import (
    api_token_create,
    api_token_revoke,
    jwt_pair,
    jwt_revoke,
    user_credentials_revoke,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CLOSE_UNAUTHENTICATED = 4401
# The contract's promise: closed within 5 seconds of the revocation.
REVOCATION_SECONDS = 5


async def receive(socket, timeout: float = 3) -> dict:
    return await socket.receive_json_from(timeout=timeout)


async def assert_signed_out(socket, timeout: float = REVOCATION_SECONDS) -> None:
    error = await receive(socket, timeout=timeout)
    assert error["type"] == "error", error
    assert error["code"] == "authentication_failed", error
    assert await socket.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHENTICATED,
    }


async def assert_still_open(socket) -> None:
    await socket.send_json_to({"type": "ping"})
    assert await receive(socket) == {"type": "pong"}


async def by_token(open_socket, token: str):
    socket, connected, _ = await open_socket(origin=None)
    assert connected
    await socket.send_json_to({"type": "auth", "token": token})
    assert (await receive(socket))["type"] == "snapshot"
    return socket


async def by_session(open_socket, session_cookie, user):
    socket, connected, _ = await open_socket(cookie=await session_cookie(user))
    assert connected
    assert (await receive(socket))["type"] == "snapshot"
    return socket


def session_key_of(cookie: bytes) -> str:
    return cookie.decode().split("=", 1)[1]


async def test_revoking_a_personal_token_closes_its_socket_and_no_other(
    open_socket, session_cookie, alice
):
    token, raw = await database_sync_to_async(api_token_create)(user=alice, name="script")
    _, other_raw = await database_sync_to_async(api_token_create)(user=alice, name="other")
    revoked = await by_token(open_socket, raw)
    other = await by_token(open_socket, other_raw)
    browser = await by_session(open_socket, session_cookie, alice)

    await database_sync_to_async(api_token_revoke)(user=alice, token_id=token.pk)

    await assert_signed_out(revoked)
    await assert_still_open(other)
    await assert_still_open(browser)


async def test_an_api_logout_closes_the_sockets_of_that_login_only(open_socket, alice):
    first = await database_sync_to_async(jwt_pair)(user=alice)
    second = await database_sync_to_async(jwt_pair)(user=alice)
    logged_out = await by_token(open_socket, first["access"])
    still_in = await by_token(open_socket, second["access"])

    await database_sync_to_async(jwt_revoke)(refresh=first["refresh"])

    await assert_signed_out(logged_out)
    await assert_still_open(still_in)


async def test_a_web_logout_closes_the_sockets_of_that_session_only(
    open_socket, session_cookie, alice
):
    from django.contrib.auth import logout
    from django.contrib.sessions.backends.db import SessionStore

    cookie = await session_cookie(alice)
    logged_out, connected, _ = await open_socket(cookie=cookie)
    assert connected
    assert (await receive(logged_out))["type"] == "snapshot"
    other = await by_session(open_socket, session_cookie, alice)

    def log_out() -> None:
        request = RequestFactory().post("/accounts/logout/")
        request.session = SessionStore(session_key=session_key_of(cookie))
        request.user = User.objects.get(pk=alice.pk)
        logout(request)

    await database_sync_to_async(log_out)()

    await assert_signed_out(logged_out)
    await assert_still_open(other)


async def test_a_password_change_closes_every_socket_of_the_account(
    open_socket, session_cookie, alice, bob
):
    _, raw = await database_sync_to_async(api_token_create)(user=alice, name="script")
    browser = await by_session(open_socket, session_cookie, alice)
    jwt_socket = await by_token(
        open_socket, (await database_sync_to_async(jwt_pair)(user=alice))["access"]
    )
    personal = await by_token(open_socket, raw)
    bobs = await by_session(open_socket, session_cookie, bob)

    def change_password() -> None:
        user = User.objects.get(pk=alice.pk)
        user.set_password("a brand new pass phrase 8")
        user.save()

    await database_sync_to_async(change_password)()

    await assert_signed_out(browser)
    await assert_signed_out(jwt_socket)
    # A personal token is a script's key, not a login: it lives until it is revoked.
    await assert_still_open(personal)
    await assert_still_open(bobs)


async def test_logging_out_everywhere_closes_every_session_and_jwt_socket(
    open_socket, session_cookie, alice
):
    browser = await by_session(open_socket, session_cookie, alice)
    jwt_socket = await by_token(
        open_socket, (await database_sync_to_async(jwt_pair)(user=alice))["access"]
    )

    await database_sync_to_async(user_credentials_revoke)(user=alice)

    await assert_signed_out(browser)
    await assert_signed_out(jwt_socket)


@pytest.mark.parametrize("how", ["deactivated", "deleted"])
async def test_a_deactivated_or_deleted_account_loses_its_sockets(
    open_socket, session_cookie, alice, how
):
    browser = await by_session(open_socket, session_cookie, alice)
    jwt_socket = await by_token(
        open_socket, (await database_sync_to_async(jwt_pair)(user=alice))["access"]
    )

    def end_account() -> None:
        user = User.objects.get(pk=alice.pk)
        if how == "deleted":
            user.delete()
        else:
            user.is_active = False
            user.save()

    await database_sync_to_async(end_account)()

    await assert_signed_out(browser)
    await assert_signed_out(jwt_socket)


async def test_a_socket_closes_when_its_jwt_expires(open_socket, alice):
    token = AccessToken((await database_sync_to_async(jwt_pair)(user=alice))["access"])
    token.set_exp(lifetime=dt.timedelta(seconds=1))
    socket = await by_token(open_socket, str(token))

    await assert_signed_out(socket, timeout=3)


async def test_a_revocation_whose_push_was_lost_is_caught_by_the_periodic_recheck(
    open_socket, session_cookie, alice, monkeypatch
):
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.5)
    browser = await by_session(open_socket, session_cookie, alice)

    # Sessions deleted behind the application's back: nothing is pushed.
    await database_sync_to_async(Session.objects.all().delete)()

    await assert_signed_out(browser, timeout=3)


async def test_a_signed_out_socket_hears_nothing_more_of_the_user(
    open_socket, session_cookie, alice
):
    from skywatch.events import notify_users

    _, raw = await database_sync_to_async(api_token_create)(user=alice, name="script")
    socket = await by_token(open_socket, raw)
    token_id = (await database_sync_to_async(list)(alice.api_tokens.values_list("pk", flat=True)))[
        0
    ]
    await database_sync_to_async(api_token_revoke)(user=alice, token_id=token_id)
    await assert_signed_out(socket)

    await database_sync_to_async(notify_users)([alice.pk], {"type": "plan.changed", "plan": {}})

    assert await socket.receive_nothing(timeout=1)


async def test_a_recheck_that_cannot_reach_the_database_keeps_the_socket(
    open_socket, session_cookie, alice, monkeypatch
):
    from django.db import OperationalError

    browser = await by_session(open_socket, session_cookie, alice)

    def database_away(session_key, user_id):
        def check() -> bool:
            raise OperationalError("the database is away")

        return check

    monkeypatch.setattr(consumers, "_session_still_signs_in", database_away)
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.2)
    second = await by_session(open_socket, session_cookie, alice)
    await consumers_notify_check(alice)
    await asyncio.sleep(0.6)  # a few periodic re-checks too

    await assert_still_open(second)
    await assert_still_open(browser)


async def consumers_notify_check(user) -> None:
    from skywatch.events import notify_users

    await database_sync_to_async(notify_users)([user.pk], {"type": "credentials.check"})
