"""The dashboard is live in a real browser: cards change, tabs keep in step, the link recovers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, make_server, sign_up


def follow(page, name: str):
    page.fill("#city-input", name)
    page.click("#add-button")
    card = page.locator("article.weather-card", has_text=name)
    # A fresh server loads its city list on the first search: allow for it.
    expect(card).to_be_visible(timeout=30000)
    return card


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"live-{name}.png"), full_page=True)


def test_a_card_changes_in_front_of_you_without_a_reload(page, server):
    sign_up(page, server, "live-card@example.com")
    card = follow(page, "Oslo")
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(card.locator("[data-field=temperature]")).to_have_text(re.compile(r"-?\d+(\.\d)? °C"))
    page.evaluate("window.__sameDocument = true")
    first = card.get_attribute("data-observed-at")
    shot(page, "card-before")

    # The server refreshes every 2 s; the card must take the new reading by itself.
    expect(card).not_to_have_attribute("data-observed-at", first, timeout=15000)
    expect(card).to_have_class(re.compile(r"\bflash\b"))
    shot(page, "card-after")

    assert page.evaluate("window.__sameDocument") is True
    expect(card.locator(".updated")).to_have_text(re.compile(r"updated (just now|\d+ s ago)"))


def test_updated_ago_follows_the_local_clock(page, server):
    page.clock.install()
    sign_up(page, server, "live-clock@example.com")
    updated = follow(page, "Lima").locator(".updated")
    expect(updated).to_have_text(re.compile(r"updated (just now|\d s ago)"))

    # Ninety seconds pass on the page's clock: the text follows, whatever the pushes bring.
    page.clock.fast_forward("01:30")

    expect(updated).to_have_text("updated 1 min ago")


def test_a_city_added_in_one_tab_appears_in_the_other(page, server):
    sign_up(page, server, "live-tabs@example.com")
    other = page.context.new_page()
    other.goto(f"{server.url}/dashboard/")
    for tab in (page, other):
        expect(tab.locator("#connection")).to_have_attribute("data-state", "live")

    follow(page, "Rome")

    mirrored = other.locator("article.weather-card", has_text="Rome")
    expect(mirrored).to_be_visible()
    expect(other.locator("#usage")).to_contain_text("1 / 3 cities")
    shot(other, "second-tab")

    page.locator("article.weather-card", has_text="Rome").get_by_role(
        "button", name=re.compile("Stop following")
    ).click()
    expect(mirrored).to_have_count(0)
    expect(other.locator("#usage")).to_contain_text("0 / 3 cities")
    other.close()


def test_the_indicator_goes_offline_with_the_network_and_live_when_it_returns(page, server):
    sign_up(page, server, "live-network@example.com")
    indicator = page.locator("#connection")
    expect(indicator).to_have_attribute("data-state", "live")

    page.context.set_offline(True)
    expect(indicator).to_have_attribute("data-state", "offline")
    expect(indicator).to_have_text(re.compile("offline"))
    shot(page, "offline")

    page.context.set_offline(False)
    expect(indicator).to_have_attribute("data-state", "live", timeout=20000)


@pytest.fixture
def own_server(tmp_path):
    instance = make_server(tmp_path)
    instance.port = 8153  # this work's port range, fixed so a restart comes back on it
    instance.start()
    yield instance
    instance.stop()


def test_the_indicator_shows_reconnecting_while_the_server_is_gone_and_live_after(page, own_server):
    sign_up(page, own_server, "live-restart@example.com")
    card = follow(page, "Kyiv")
    indicator = page.locator("#connection")
    expect(indicator).to_have_attribute("data-state", "live")

    own_server.stop()
    expect(indicator).to_have_attribute("data-state", "reconnecting")
    expect(indicator).to_have_text(re.compile("reconnecting"))
    shot(page, "reconnecting")

    own_server.start()
    # Backoff with jitter: the retry comes within the current ceiling (seconds, not minutes).
    expect(indicator).to_have_attribute("data-state", "live", timeout=45000)
    before = card.get_attribute("data-observed-at")
    expect(card).not_to_have_attribute("data-observed-at", before, timeout=15000)
    shot(page, "live-again")
