"""A person signs up, follows cities, sees their cards and removes one, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, sign_up


def test_sign_up_add_a_city_see_its_card_and_remove_it(page, server):
    sign_up(page, server, "e2e-person@example.com")
    expect(page.get_by_text("You follow no city yet")).to_be_visible()
    expect(page.locator("#usage")).to_contain_text("0 / 3 cities")

    page.fill("#city-input", "Paris")
    suggestions = page.locator("#suggestions")
    expect(suggestions.get_by_role("option").first).to_be_visible()
    expect(suggestions).to_contain_text("Texas")
    suggestions.get_by_role("option").filter(has_text="FR").first.click()

    card = page.locator("article.weather-card", has_text="Paris")
    expect(card).to_be_visible()
    expect(card.locator("[data-field=temperature]")).to_have_text(re.compile(r"-?\d+(\.\d)? °C"))
    expect(card.locator("[data-field=humidity]")).to_have_text(re.compile(r"\d+ %"))
    expect(page.locator("#usage")).to_contain_text("1 / 3 cities")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    card.get_by_role("button", name=re.compile("Stop following")).click()
    expect(card).to_have_count(0)
    expect(page.locator("#usage")).to_contain_text("0 / 3 cities")
    page.reload()
    expect(page.get_by_text("You follow no city yet")).to_be_visible()


def test_a_fourth_city_shows_how_to_upgrade(page, server):
    sign_up(page, server, "e2e-quota@example.com")
    for name in ["Oslo", "Lima", "Rome"]:
        page.fill("#city-input", name)
        page.click("#add-button")
        expect(page.locator("article.weather-card", has_text=name)).to_be_visible()
    page.fill("#city-input", "Kyiv")
    page.click("#add-button")
    expect(page.locator("#message")).to_contain_text("Your basic plan allows 3 cities")
    expect(page.locator("#message")).to_contain_text("Premium")
    expect(page.locator("article.weather-card")).to_have_count(3)


def test_a_made_up_city_is_refused(page, server):
    sign_up(page, server, "e2e-unknown@example.com")
    page.fill("#city-input", "Xyzzyqwv")
    page.click("#add-button")
    expect(page.locator("#message")).to_contain_text("No city called")
    expect(page.locator("article.weather-card")).to_have_count(0)
