"""The websocket as CONTRACT.md describes it, on the in-memory layer and on real Redis."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command

from billing.models import Plan
from billing.services import plan_change
from skywatch.accounts.services import jwt_pair
from skywatch.events import notify_users
from subscriptions.events import readings_publish
from subscriptions.models import City, Subscription
from subscriptions.services import subscription_create, subscription_delete
from tests.factories import CityFactory, ObservationFactory, SubscriptionFactory

# Serialized rollback: the flush after each test leaves no content types behind to collide with
# the next test that restores the migrated data (and every test starts with the seeded plans).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CLOSE_UNAUTHENTICATED = 4401


def city_with_reading(name: str, *, temperature: float = 7.4) -> City:
    city = CityFactory(name=name)
    observation = ObservationFactory(city=city, temperature=temperature)
    City.objects.filter(pk=city.pk).update(latest=observation)
    city.latest = observation
    return city


@pytest.fixture
def paris(db):
    return city_with_reading("Paris", temperature=11.0)


@pytest.fixture
def lima(db):
    return city_with_reading("Lima", temperature=19.5)


@pytest.fixture
def oslo(db):
    return city_with_reading("Oslo", temperature=-3.0)


async def receive(socket, timeout: float = 3) -> dict:
    return await socket.receive_json_from(timeout=timeout)


# Long enough for a frame published through Redis to arrive late on a loaded machine: a socket
# that stays silent this long would have heard a frame that was wrongly sent to it.
QUIET_SECONDS = 1.0


async def silent(socket, timeout: float = QUIET_SECONDS) -> bool:
    return await socket.receive_nothing(timeout=timeout)


def groups_with_members(layer) -> set[str]:
    """Every group some socket of this process is in (the in-memory or Skywatch's layer)."""
    if hasattr(layer, "groups_joined"):
        return layer.groups_joined()
    return {name for name, members in layer.groups.items() if members}


async def access_token(user) -> str:
    """A JWT access token as the API hands it out (with its generation and refresh claims)."""
    return (await database_sync_to_async(jwt_pair)(user=user))["access"]


async def signed_in(open_socket, session_cookie, user):
    """A browser tab of `user`, past its snapshot."""
    socket, connected, _ = await open_socket(cookie=await session_cookie(user))
    assert connected
    snapshot = await receive(socket)
    assert snapshot["type"] == "snapshot"
    return socket, snapshot


async def with_token(open_socket, token: str, *, origin: bytes | None = None):
    """A script: no Origin, no cookie, the token as its first message."""
    socket, connected, _ = await open_socket(origin=origin)
    assert connected
    await socket.send_json_to({"type": "auth", "token": token})
    return socket, await receive(socket)


# --- Authentication -------------------------------------------------------------------------


async def test_a_browser_session_gets_a_snapshot_of_every_subscription_with_its_reading(
    open_socket, session_cookie, alice, paris, lima
):
    first = await database_sync_to_async(SubscriptionFactory)(user=alice, city=paris)
    second = await database_sync_to_async(SubscriptionFactory)(user=alice, city=lima)

    socket, snapshot = await signed_in(open_socket, session_cookie, alice)

    assert set(snapshot) == {"type", "subscriptions"}
    assert [s["id"] for s in snapshot["subscriptions"]] == [first.pk, second.pk]
    assert snapshot["subscriptions"][0]["city"]["name"] == "Paris"
    assert snapshot["subscriptions"][0]["latest"]["temperature"] == 11.0
    assert snapshot["subscriptions"][1]["latest"]["temperature"] == 19.5
    assert await silent(socket)


async def test_a_script_authenticates_with_a_token_as_its_first_message(
    open_socket, fixture_tokens, alice, paris
):
    await database_sync_to_async(SubscriptionFactory)(user=alice, city=paris)

    _, snapshot = await with_token(open_socket, fixture_tokens(alice))

    assert snapshot["type"] == "snapshot"
    assert [s["city"]["name"] for s in snapshot["subscriptions"]] == ["Paris"]


async def test_a_jwt_access_token_authenticates(open_socket, alice, paris):
    await database_sync_to_async(SubscriptionFactory)(user=alice, city=paris)

    _, snapshot = await with_token(open_socket, await access_token(alice))

    assert snapshot["type"] == "snapshot"
    assert [s["city"]["name"] for s in snapshot["subscriptions"]] == ["Paris"]


async def test_a_personal_api_token_authenticates(open_socket, alice, paris):
    from skywatch.accounts.services import api_token_create

    await database_sync_to_async(SubscriptionFactory)(user=alice, city=paris)
    _, raw = await database_sync_to_async(api_token_create)(user=alice, name="script")

    _, snapshot = await with_token(open_socket, raw)

    assert snapshot["type"] == "snapshot"
    assert [s["city"]["name"] for s in snapshot["subscriptions"]] == ["Paris"]


async def test_a_bad_token_is_refused_with_4401(open_socket, alice):
    from rest_framework_simplejwt.tokens import AccessToken

    expired = AccessToken(await access_token(alice))
    expired.set_exp(lifetime=-dt.timedelta(seconds=1))
    for token in ["not-a-token", "", None, 42, "sw_abc_def", "x" * 5000, str(expired)]:
        socket, answer = await with_token(open_socket, token)

        assert answer == {
            "type": "error",
            "code": "authentication_failed",
            "message": "Invalid or expired token.",
        }, token
        assert (await socket.receive_output(timeout=3))["code"] == CLOSE_UNAUTHENTICATED


async def test_a_token_of_a_deactivated_account_is_refused(open_socket, fixture_tokens, alice):
    token = fixture_tokens(alice)
    alice.is_active = False
    await database_sync_to_async(alice.save)()

    socket, answer = await with_token(open_socket, token)

    assert answer["code"] == "authentication_failed"
    assert (await socket.receive_output(timeout=3))["code"] == CLOSE_UNAUTHENTICATED


async def test_no_authentication_in_time_closes_with_4401(open_socket, auth_timeout, alice):
    socket, connected, _ = await open_socket(origin=None)
    assert connected
    await socket.send_json_to({"type": "ping"})
    assert await receive(socket) == {"type": "pong"}

    error = await receive(socket, timeout=auth_timeout + 3)
    closed = await socket.receive_output(timeout=3)

    assert error["type"] == "error"
    assert error["code"] == "not_authenticated"
    assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_a_token_in_the_url_authenticates_nobody(application, auth_timeout, alice):
    from channels.testing import WebsocketCommunicator

    token = await access_token(alice)
    socket = WebsocketCommunicator(application, f"/ws/weather/?token={token}")
    connected, _ = await socket.connect(timeout=5)
    assert connected

    assert (await receive(socket, timeout=auth_timeout + 3))["code"] == "not_authenticated"
    assert (await socket.receive_output(timeout=3))["code"] == CLOSE_UNAUTHENTICATED


async def test_a_second_auth_never_switches_the_user(
    open_socket, session_cookie, fixture_tokens, alice, bob
):
    socket, _ = await signed_in(open_socket, session_cookie, alice)

    await socket.send_json_to({"type": "auth", "token": fixture_tokens(bob)})
    assert (await receive(socket))["code"] == "already_authenticated"

    await database_sync_to_async(notify_users)([bob.pk], {"type": "plan.changed", "plan": {}})
    assert await silent(socket)
    await database_sync_to_async(notify_users)([alice.pk], {"type": "plan.changed", "plan": {}})
    assert (await receive(socket))["type"] == "plan.changed"


async def test_a_token_authenticated_socket_cannot_switch_users_either(
    open_socket, fixture_tokens, alice, bob
):
    socket, _ = await with_token(open_socket, fixture_tokens(alice))

    await socket.send_json_to({"type": "auth", "token": fixture_tokens(bob)})

    assert (await receive(socket))["code"] == "already_authenticated"
    await database_sync_to_async(notify_users)([bob.pk], {"type": "plan.changed", "plan": {}})
    assert await silent(socket)


# --- Origin ---------------------------------------------------------------------------------


FOREIGN_ORIGINS = [
    b"https://evil.example",
    b"http://testserver.evil.example",
    b"null",
    # Another port or scheme of the same host is another origin (a page on :6666 is not us).
    b"http://testserver:6666",
    b"https://testserver",
    b"ws://testserver",
    # Nonsense is refused, not a traceback.
    b"http://[",
    b"http://testserver:port",
    b"",
    b"\xff\xfe",
]


async def test_a_foreign_origin_is_refused_at_the_handshake(open_socket, session_cookie, alice):
    cookie = await session_cookie(alice)
    for origin in FOREIGN_ORIGINS:
        _, connected, _ = await open_socket(cookie=cookie, origin=origin)

        assert not connected, origin


async def test_the_sites_own_origin_is_accepted(open_socket, session_cookie, alice, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    cookie = await session_cookie(alice)
    for origin, host in [
        (b"http://testserver", b"testserver"),
        (b"http://127.0.0.1:8000", b"127.0.0.1:8000"),
        (b"HTTP://TestServer", b"testserver"),
    ]:
        socket, connected, _ = await open_socket(cookie=cookie, origin=origin, host=host)

        assert connected, origin
        assert (await receive(socket))["type"] == "snapshot"


async def test_an_origin_is_not_the_sites_own_when_the_host_is_not_allowed(
    open_socket, session_cookie, alice
):
    cookie = await session_cookie(alice)

    _, connected, _ = await open_socket(
        cookie=cookie, origin=b"http://evil.example", host=b"evil.example"
    )

    assert not connected


async def test_csrf_trusted_origins_are_accepted_and_only_with_their_scheme_and_port(
    open_socket, session_cookie, alice, settings
):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com", "https://*.example.org"]
    cookie = await session_cookie(alice)
    for origin, accepted in [
        (b"https://app.example.com", True),
        (b"https://eu.example.org", True),
        (b"http://app.example.com", False),
        (b"https://app.example.com:8443", False),
        (b"http://eu.example.org", False),
        (b"https://example.org.evil.example", False),
    ]:
        _, connected, _ = await open_socket(cookie=cookie, origin=origin)

        assert connected is accepted, origin


async def test_behind_a_tls_proxy_the_https_origin_is_the_sites_own(
    open_socket, session_cookie, alice, settings
):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    cookie = await session_cookie(alice)
    proxied = ((b"x-forwarded-proto", b"https"),)

    _, https, _ = await open_socket(
        cookie=cookie, origin=b"https://testserver", extra_headers=proxied
    )
    _, http, _ = await open_socket(
        cookie=cookie, origin=b"http://testserver", extra_headers=proxied
    )

    assert https
    assert not http


# --- What a client may send -----------------------------------------------------------------


async def test_ping_is_answered_with_pong(open_socket, session_cookie, alice):
    socket, _ = await signed_in(open_socket, session_cookie, alice)

    await socket.send_json_to({"type": "ping"})

    assert await receive(socket) == {"type": "pong"}


FORGED = [
    ('{"type": "subscribe", "city": "Oslo"}', "unsupported"),
    ('{"type": "subscribe", "city_id": 1}', "unsupported"),
    ('{"type": "join", "group": "user.1"}', "unsupported"),
    ('{"type": "weather", "updates": []}', "unsupported"),
    ('{"city": "Oslo"}', "unsupported"),
    ("[1, 2]", "unsupported"),
    ('"ping"', "unsupported"),
    ("not json", "invalid"),
    ("[" * 3000 + "]" * 3000, "invalid"),
    ('{"type": "ping", "pad": "' + "x" * 9000 + '"}', "invalid"),
]


async def test_anything_but_ping_and_auth_gets_an_error_and_the_socket_stays_open(
    open_socket, session_cookie, alice
):
    socket, _ = await signed_in(open_socket, session_cookie, alice)

    for text, code in FORGED:
        await socket.send_to(text_data=text)
        error = await receive(socket)
        await socket.send_json_to({"type": "ping"})

        assert error["type"] == "error", text
        assert error["code"] == code, text
        assert set(error) == {"type", "code", "message"}
        assert await receive(socket) == {"type": "pong"}


async def test_a_binary_frame_gets_an_error(open_socket, session_cookie, alice):
    socket, _ = await signed_in(open_socket, session_cookie, alice)

    await socket.send_to(bytes_data=json.dumps({"type": "ping"}).encode())

    assert (await receive(socket))["code"] == "invalid"


async def test_forged_messages_before_authentication_get_an_error_too(
    open_socket, fixture_tokens, alice
):
    socket, connected, _ = await open_socket(origin=None)
    assert connected

    await socket.send_json_to({"type": "join", "group": f"user.{alice.pk}"})
    assert (await receive(socket))["code"] == "unsupported"
    await socket.send_json_to({"type": "auth", "token": fixture_tokens(alice)})
    assert (await receive(socket))["type"] == "snapshot"


async def test_forged_subscribe_and_join_never_make_a_user_hear_another_city_or_user(
    open_socket, session_cookie, channel_layer, alice, bob, paris, oslo
):
    await database_sync_to_async(SubscriptionFactory)(user=alice, city=paris)
    await database_sync_to_async(SubscriptionFactory)(user=bob, city=oslo)
    socket, _ = await signed_in(open_socket, session_cookie, alice)

    for forged in (
        {"type": "subscribe", "city": "Oslo"},
        {"type": "subscribe", "city_id": oslo.pk},
        {"type": "join", "group": f"user.{bob.pk}"},
        {"type": "auth", "token": "x", "group": f"user.{bob.pk}"},
    ):
        await socket.send_json_to(forged)
        assert (await receive(socket))["type"] == "error"
    assert groups_with_members(channel_layer) == {f"user.{alice.pk}"}

    await database_sync_to_async(readings_publish)([oslo.pk])
    await database_sync_to_async(notify_users)([bob.pk], {"type": "plan.changed", "plan": {}})
    assert await silent(socket)

    await database_sync_to_async(readings_publish)([paris.pk, oslo.pk])
    update = await receive(socket)
    assert [u["city_id"] for u in update["updates"]] == [paris.pk]
    assert await silent(socket)


# --- What the server pushes -----------------------------------------------------------------


async def test_two_users_following_different_cities_never_hear_each_others(
    open_socket, session_cookie, alice, bob, charlie, paris, oslo
):
    alices = await database_sync_to_async(SubscriptionFactory)(user=alice, city=paris)
    bobs = await database_sync_to_async(SubscriptionFactory)(user=bob, city=oslo)
    alice_socket, _ = await signed_in(open_socket, session_cookie, alice)
    bob_socket, _ = await signed_in(open_socket, session_cookie, bob)
    charlie_socket, _ = await signed_in(open_socket, session_cookie, charlie)

    await database_sync_to_async(readings_publish)([paris.pk, oslo.pk])

    to_alice, to_bob = await receive(alice_socket), await receive(bob_socket)
    assert to_alice["type"] == to_bob["type"] == "weather"
    assert [(u["subscription_id"], u["city_id"]) for u in to_alice["updates"]] == [
        (alices.pk, paris.pk)
    ]
    assert [(u["subscription_id"], u["city_id"]) for u in to_bob["updates"]] == [(bobs.pk, oslo.pk)]
    assert to_alice["updates"][0]["reading"]["temperature"] == 11.0
    assert to_bob["updates"][0]["reading"]["temperature"] == -3.0
    assert await silent(alice_socket)
    assert await silent(bob_socket)
    assert await silent(charlie_socket)


async def test_a_batch_is_one_message_per_user_with_all_their_cities(
    open_socket, session_cookie, alice, bob, paris, lima, oslo
):
    for city in (paris, lima, oslo):
        await database_sync_to_async(SubscriptionFactory)(user=alice, city=city)
    await database_sync_to_async(SubscriptionFactory)(user=bob, city=lima)
    socket, _ = await signed_in(open_socket, session_cookie, alice)
    bob_socket, _ = await signed_in(open_socket, session_cookie, bob)

    users = await database_sync_to_async(readings_publish)([paris.pk, lima.pk, oslo.pk])

    message = await receive(socket)
    assert users == 2
    assert set(message) == {"type", "updates"}
    assert message["type"] == "weather"
    assert sorted(u["city_id"] for u in message["updates"]) == sorted([paris.pk, lima.pk, oslo.pk])
    for update in message["updates"]:
        assert set(update) == {"subscription_id", "city_id", "reading"}
    assert [u["city_id"] for u in (await receive(bob_socket))["updates"]] == [lima.pk]
    assert await silent(socket)
    assert await silent(bob_socket)


async def test_paused_cities_are_never_pushed(open_socket, session_cookie, alice, paris, oslo):
    await database_sync_to_async(SubscriptionFactory)(user=alice, city=paris)
    await database_sync_to_async(SubscriptionFactory)(user=alice, city=oslo, paused=True)
    socket, _ = await signed_in(open_socket, session_cookie, alice)

    assert await database_sync_to_async(readings_publish)([oslo.pk]) == 0
    assert await silent(socket)

    await database_sync_to_async(readings_publish)([paris.pk, oslo.pk])
    assert [u["city_id"] for u in (await receive(socket))["updates"]] == [paris.pk]


async def test_every_tab_of_a_user_hears_a_city_added_and_removed(
    open_socket, session_cookie, alice, bob
):
    first, _ = await signed_in(open_socket, session_cookie, alice)
    second, _ = await signed_in(open_socket, session_cookie, alice)
    bobs, _ = await signed_in(open_socket, session_cookie, bob)

    subscription = await database_sync_to_async(subscription_create)(user=alice, query="Paris")

    for tab in (first, second):
        added = await receive(tab)
        assert added["type"] == "subscription.added"
        assert set(added) == {"type", "subscription"}
        assert added["subscription"]["id"] == subscription.pk
        assert added["subscription"]["city"]["name"] == "Paris"
        # The new city's first reading follows at once.
        first_reading = await receive(tab)
        assert first_reading["type"] == "weather"
        assert first_reading["updates"][0]["subscription_id"] == subscription.pk
        # ...and so does its first forecast: 48 hours ahead and 7 days.
        first_forecast = await receive(tab)
        assert first_forecast["type"] == "forecast"
        (update,) = first_forecast["updates"]
        assert update["subscription_id"] == subscription.pk
        assert len(update["forecast"]["hourly"]) >= 48
        assert len(update["forecast"]["daily"]) == 7

    await database_sync_to_async(subscription_delete)(user=alice, subscription_id=subscription.pk)

    for tab in (first, second):
        assert await receive(tab) == {"type": "subscription.removed", "id": subscription.pk}
    assert await silent(bobs)


async def test_removing_a_city_resumes_a_paused_one_in_every_tab(
    open_socket, session_cookie, alice, paris, lima, oslo
):
    rome = await database_sync_to_async(city_with_reading)("Rome")
    subscriptions = [
        await database_sync_to_async(SubscriptionFactory)(user=alice, city=city)
        for city in (paris, lima, oslo, rome)
    ]
    await database_sync_to_async(Subscription.objects.filter(pk=subscriptions[-1].pk).update)(
        paused=True
    )
    tab, snapshot = await signed_in(open_socket, session_cookie, alice)
    assert [s["paused"] for s in snapshot["subscriptions"]] == [False, False, False, True]

    await database_sync_to_async(subscription_delete)(
        user=alice, subscription_id=subscriptions[0].pk
    )

    assert await receive(tab) == {"type": "subscription.removed", "id": subscriptions[0].pk}
    resynced = await receive(tab)
    assert resynced["type"] == "snapshot"
    assert [(s["city"]["name"], s["paused"]) for s in resynced["subscriptions"]] == [
        ("Lima", False),
        ("Oslo", False),
        ("Rome", False),
    ]


async def test_a_plan_change_reaches_every_tab(open_socket, session_cookie, alice, bob):
    first, _ = await signed_in(open_socket, session_cookie, alice)
    second, _ = await signed_in(open_socket, session_cookie, alice)
    bobs, _ = await signed_in(open_socket, session_cookie, bob)
    premium = await database_sync_to_async(Plan.objects.get)(slug="premium")

    await database_sync_to_async(plan_change)(user=alice, plan=premium)

    expected = {
        "type": "plan.changed",
        "plan": {"slug": "premium", "name": "Premium", "city_limit": 15},
    }
    assert await receive(first) == expected
    assert await receive(second) == expected
    assert await silent(bobs)


async def test_set_plan_downgrade_sends_plan_changed_and_a_snapshot_with_paused_cities(
    open_socket, session_cookie, bob, paris, lima, oslo
):
    rome = await database_sync_to_async(city_with_reading)("Rome")
    for city in (paris, lima, oslo, rome):
        await database_sync_to_async(SubscriptionFactory)(user=bob, city=city)
    socket, _ = await signed_in(open_socket, session_cookie, bob)

    await database_sync_to_async(call_command)("set_plan", bob.email, "basic")

    assert await receive(socket) == {
        "type": "plan.changed",
        "plan": {"slug": "basic", "name": "Basic", "city_limit": 3},
    }
    resynced = await receive(socket)
    assert resynced["type"] == "snapshot"
    assert [s["paused"] for s in resynced["subscriptions"]] == [False, False, False, True]
    await database_sync_to_async(readings_publish)([rome.pk])
    assert await silent(socket)


async def test_events_carry_only_the_contracts_fields(open_socket, session_cookie, alice):
    socket, _ = await signed_in(open_socket, session_cookie, alice)

    await database_sync_to_async(notify_users)(
        [alice.pk], {"type": "subscription.removed", "id": 7, "internal": "not for clients"}
    )

    assert await receive(socket) == {"type": "subscription.removed", "id": 7}


async def test_a_closed_tab_leaves_its_group(
    open_socket, session_cookie, channel_layer, alice, bob
):
    socket, _ = await signed_in(open_socket, session_cookie, alice)
    other, _ = await signed_in(open_socket, session_cookie, alice)
    bobs, _ = await signed_in(open_socket, session_cookie, bob)

    await socket.disconnect()
    await bobs.disconnect()
    await database_sync_to_async(notify_users)([alice.pk], {"type": "plan.changed", "plan": {}})

    assert (await receive(other))["type"] == "plan.changed"
    assert groups_with_members(channel_layer) == {f"user.{alice.pk}"}
    await other.disconnect()
    assert groups_with_members(channel_layer) == set()
