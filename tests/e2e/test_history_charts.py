"""A person opens a followed city, sees its chart grow live, narrows it, and shares it."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, sign_up

POINTS = """canvas => {
  const chart = Chart.getChart(canvas);
  return chart ? chart.data.datasets.map(d => d.data.filter(p => p.y !== null).length) : null;
}"""


def temperature_points(page) -> int:
    counts = page.locator("canvas[data-chart=temperature]").first.evaluate(POINTS)
    assert counts is not None, "no Chart.js chart on the canvas"
    return max(counts)


def follow(page, name: str) -> int:
    page.fill("#city-input", name)
    page.click("#add-button")
    card = page.locator("#cards [data-city-id]", has_text=name)
    expect(card).to_be_visible(timeout=15000)
    return int(card.get_attribute("data-city-id"))


def test_a_city_chart_grows_live_and_follows_the_range(page, server):
    sign_up(page, server, "e2e-history@example.com")
    city_id = follow(page, "Oslo")
    # The card's title links to the city page.
    page.locator(f'#cards [data-city-id="{city_id}"] a[href="/cities/{city_id}/"]').click()
    expect(page).to_have_url(f"{server.url}/cities/{city_id}/")
    expect(page.get_by_test_id("city-title")).to_contain_text("Oslo")
    # Three charts of stored readings (the forecast's is above them).
    expect(page.locator("canvas[data-chart]")).to_have_count(3)
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('canvas[data-chart]'))?.data.datasets[0].data.length > 0"
    )
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    before = temperature_points(page)
    # The embedded scheduler refreshes every 2 s; the new reading is appended without a reload.
    page.wait_for_function(
        f"() => Chart.getChart(document.querySelector('canvas[data-chart]')).data.datasets[0].data.length > {before}",
        timeout=20000,
    )

    page.locator("details[data-points-table] summary").click()
    expect(page.locator("details[data-points-table] tbody tr").first).to_be_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "city-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "city-phone.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="7 days").click()
    expect(page).to_have_url(re.compile(r"\?last=7d$"))
    expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "true")
    assert temperature_points(page) > 0

    today = dt.datetime.now(dt.UTC).date()
    page.fill("#range-start", (today - dt.timedelta(days=1)).isoformat())
    page.fill("#range-end", today.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"start={today - dt.timedelta(days=1)}&end={today}$"))
    expect(page.get_by_test_id("history-summary")).to_contain_text("UTC, drawn as")
    assert temperature_points(page) > 0

    page.fill("#range-start", (today + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("range-error")).to_contain_text(
        "The start date is after the end date"
    )
    expect(page.locator("canvas[data-chart]")).to_have_count(0)


def test_a_share_link_shows_the_charts_to_anyone_until_a_new_link_retires_it(page, server, browser):
    sign_up(page, server, "e2e-share@example.com")
    city_id = follow(page, "Lima")
    page.goto(f"{server.url}/cities/{city_id}/")
    link = page.get_by_test_id("share-url").input_value()
    assert re.fullmatch(rf"{server.url}/share/[A-Za-z0-9_-]{{43}}/", link)

    stranger = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        shared = stranger.new_page()
        assert shared.goto(link).status == 200
        expect(shared.get_by_role("heading", name="Shared weather")).to_be_visible()
        expect(shared.get_by_role("link", name=re.compile("Lima"))).to_be_visible()
        shared.wait_for_function(
            "() => Chart.getChart(document.querySelector('canvas'))?.data.datasets[0].data.length > 0"
        )
        expect(shared.locator("body")).not_to_contain_text("e2e-share@example.com")
        shared.screenshot(path=str(ARTIFACTS / "share-phone.png"), full_page=True)

        page.get_by_test_id("share-rotate").click()
        expect(page.get_by_text("The old one no longer works")).to_be_visible()
        new_link = page.get_by_test_id("share-url").input_value()
        assert new_link != link
        assert shared.goto(link).status == 404
        assert shared.goto(new_link).status == 200
    finally:
        stranger.close()
