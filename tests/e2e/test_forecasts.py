"""Forecasts in a real browser: each card's strip of the next hours changes live, and the city
page draws the next 48 hours and the 7 days."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import make_server, sign_up
from tests.e2e.test_live_dashboard import follow


@pytest.fixture(scope="module")
def forecasting(tmp_path_factory):
    # Forecasts come due every 3 s here, so a new one arrives while the page is open.
    instance = make_server(tmp_path_factory.mktemp("e2e-forecasts"), FORECAST_REFRESH_SECONDS="3")
    instance.start()
    yield instance
    instance.stop()


def test_a_card_shows_what_is_coming_and_its_strip_changes_live(page, forecasting):
    sign_up(page, forecasting, "forecast-card@example.com")
    card = follow(page, "Oslo")
    hours = card.locator("[data-field=hours] li")
    expect(hours).to_have_count(12, timeout=30000)
    today = card.locator("[data-field=today]")
    expect(today).to_contain_text(re.compile(r"-?\d+° / -?\d+°"))
    expect(today).to_contain_text(re.compile(r"\d\d:\d\d"))  # sunrise and sunset, Oslo's time
    page.evaluate("window.__sameDocument = true")
    before = card.locator("[data-field=hours]").inner_text()

    # The next forecast drifts a little: the strip takes it without a reload.
    expect(card.locator("[data-field=hours]")).not_to_have_text(before, timeout=30000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_the_city_page_draws_48_hours_and_7_days(page, forecasting):
    sign_up(page, forecasting, "forecast-city@example.com")
    card = follow(page, "Lima")
    expect(card.locator("[data-field=hours] li")).to_have_count(12, timeout=30000)
    card.locator("h2 a").click()

    forecast = page.locator("#forecast")
    expect(forecast.locator("[data-forecast-days] li")).to_have_count(7)
    expect(forecast.locator("[data-forecast-issued]")).to_contain_text("Issued")
    drawn = page.evaluate(
        "() => { const chart = window.Chart.getChart(document.querySelector('[data-forecast-chart]'));"
        " return chart ? chart.data.datasets.map((d) => d.data.length) : null; }"
    )
    assert drawn is not None
    assert all(points >= 48 for points in drawn)

    # A new forecast for this city redraws the page's forecast in place.
    issued = forecast.get_attribute("data-issued-at")
    expect(forecast).not_to_have_attribute("data-issued-at", issued, timeout=30000)
