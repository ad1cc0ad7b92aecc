"""Redis killed and started again under a live web server: pages keep serving, sockets resync."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from skywatch.accounts.services import api_token_create, jwt_pair
from subscriptions.models import Subscription
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import CityFactory, SubscriptionFactory
from tests.resilience.live_client import LiveClient
from tests.resilience.processes import wait_until

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OUTAGE_SECONDS = 3
RESYNC_SECONDS = 30
REQUEST_TIMEOUT = 10


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt_pair(user=user)['access']}"}


def session_cookie(client, user) -> str:
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def snapshot_cities(tab: LiveClient) -> set[str]:
    snapshot = tab.latest_snapshot() or {"subscriptions": []}
    return {item["city"]["name"] for item in snapshot["subscriptions"]}


def weather_cities(tab: LiveClient, *, since: float) -> set[int]:
    return {
        update["city_id"]
        for frame in tab.of_type("weather", since=since)
        for update in frame.data["updates"]
    }


@pytest.fixture
def world(alice, bob):
    SubscriptionFactory(user=alice, city=CityFactory(name="London", country="GB"))
    SubscriptionFactory(user=bob, city=CityFactory(name="Oslo", country="NO"))


def test_redis_restarted_under_open_sockets_keeps_pages_serving_and_resyncs_every_socket(
    processes, redis_server, world, alice, bob, client
):
    web, url = processes.web()
    socket_url = url.replace("http://", "ws://") + "/ws/weather/"
    cookie = session_cookie(client, alice)
    _, personal_token = api_token_create(user=bob, name="script")
    alice_tab = LiveClient(socket_url, cookie=cookie, origin=url)
    bob_jwt = LiveClient(socket_url, token=jwt_pair(user=bob)["access"])
    bob_script = LiveClient(socket_url, token=personal_token)
    tabs = [alice_tab, bob_jwt, bob_script]
    with alice_tab, bob_jwt, bob_script:
        wait_until(lambda: all(t.latest_snapshot() for t in tabs), timeout=30, what="snapshots")
        # The random provider loads its list of cities on the first search; not what is timed.
        warm = requests.get(f"{url}/api/cities/search?q=Par", headers=bearer(bob), timeout=60)
        assert warm.status_code == 200, warm.text
        assert [snapshot_cities(t) for t in tabs] == [{"London"}, {"Oslo"}, {"Oslo"}]

        redis_server.kill()
        down_at = time.monotonic()

        # Pages, probes and the API go on answering from the database, each without hanging.
        login = requests.get(f"{url}/accounts/login/", timeout=REQUEST_TIMEOUT)
        dashboard = requests.get(
            f"{url}/dashboard/", headers={"Cookie": cookie}, timeout=REQUEST_TIMEOUT
        )
        ready = requests.get(f"{url}/readyz", timeout=REQUEST_TIMEOUT)
        listed = requests.get(f"{url}/api/subscriptions", headers=bearer(bob), timeout=10)
        # A change nobody can be told about now: bob follows Paris while Redis is away.
        added = requests.post(
            f"{url}/api/subscriptions", json={"city": "Paris"}, headers=bearer(bob), timeout=10
        )
        outage_requests = time.monotonic() - down_at
        time.sleep(max(0.0, OUTAGE_SECONDS - outage_requests))
        redis_server.start()
        back_at = time.monotonic()

        # Every open socket gets a snapshot with what it missed (it may stay or reconnect).
        wait_until(
            lambda: (
                all(t.of_type("snapshot", since=back_at) for t in tabs)
                and "Paris" in snapshot_cities(bob_jwt) & snapshot_cities(bob_script)
            ),
            timeout=RESYNC_SECONDS,
            what="every socket to resync",
        )
        resynced_in = time.monotonic() - back_at

        # Live updates flow again, to their followers only.
        paris = Subscription.objects.get(user=bob, city__name="Paris")
        refreshed_at = time.monotonic()
        refreshed = requests.post(
            f"{url}/api/subscriptions/{paris.pk}/refresh", headers=bearer(bob), timeout=10
        )
        assert refreshed.status_code == 200, refreshed.text
        wait_until(
            lambda: all(paris.city_id in weather_cities(t, since=refreshed_at) for t in tabs[1:]),
            timeout=10,
            what="bob's sockets to hear Paris' new reading",
        )
        ready_again = requests.get(f"{url}/readyz", timeout=REQUEST_TIMEOUT)

    assert login.status_code == 200
    assert dashboard.status_code == 200
    assert "London" in dashboard.text
    assert ready.status_code == 503
    assert ready.json()["down"] == ["channel_layer", "broker"]
    assert listed.status_code == 200, listed.text
    assert added.status_code == 201, added.text
    assert outage_requests < 5
    assert resynced_in < RESYNC_SECONDS
    assert weather_cities(alice_tab, since=refreshed_at) == set()
    assert snapshot_cities(alice_tab) == {"London"}
    assert ready_again.status_code == 200, ready_again.text
    assert web.running


@pytest.fixture
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def test_an_open_dashboard_shows_a_city_added_while_redis_was_down_once_it_is_back(
    processes, redis_server, world, alice, client, chromium_path
):
    web, url = processes.web()
    # Everything that touches the database first: Playwright runs an event loop in this thread.
    session = session_cookie(client, alice).split("=", 1)[1]
    headers = bearer(alice)
    warm = requests.get(f"{url}/api/cities/search?q=Lima", headers=headers, timeout=60)
    assert warm.status_code == 200, warm.text
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.set_default_timeout(15000)
            context.add_cookies([{"name": "sessionid", "value": session, "url": url}])
            page = context.new_page()
            page.goto(f"{url}/dashboard/")
            connection = page.locator("#connection")
            expect(connection).to_have_attribute("data-state", "live")
            expect(page.locator("article.weather-card", has_text="London")).to_be_visible()
            page.evaluate("window.__sameDocument = true")

            redis_server.kill()
            added = requests.post(
                f"{url}/api/subscriptions", json={"city": "Lima"}, headers=headers, timeout=10
            )
            assert added.status_code == 201, added.text
            other_tab = context.new_page()  # the pages keep serving: another tab opens meanwhile
            opened = other_tab.goto(f"{url}/dashboard/")
            assert opened.status == 200
            time.sleep(OUTAGE_SECONDS)
            assert page.locator("article.weather-card", has_text="Lima").count() == 0
            redis_server.start()

            # No reload: the snapshot sent once Redis is back brings the card in.
            expect(page.locator("article.weather-card", has_text="Lima")).to_be_visible(
                timeout=RESYNC_SECONDS * 1000
            )
            expect(connection).to_have_attribute("data-state", "live")
            assert page.evaluate("window.__sameDocument") is True
        finally:
            browser.close()
    assert web.running
