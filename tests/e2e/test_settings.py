"""Every settings action, end to end in Chromium: tokens, units, share link, history, export,
push, alerts and deleting the account."""

from __future__ import annotations

import json
import re

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import sign_up

PASSWORD = "a long pass phrase 7"


def open_settings(page, server):
    page.goto(f"{server.url}/settings/")
    expect(page.locator("#tokens")).to_be_visible()


def test_a_token_made_in_the_page_works_until_it_is_revoked_there(page, server):
    sign_up(page, server, "settings-token@example.com")
    open_settings(page, server)
    page.fill("#token-name", "e2e script")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text().strip()
    assert secret.startswith("sw_")

    me = requests.get(f"{server.url}/api/me", headers={"X-API-Token": secret}, timeout=10)
    assert me.status_code == 200
    assert me.json()["email"] == "settings-token@example.com"

    page.reload()
    row = page.locator("#token-list li", has_text="e2e script")
    expect(row).to_contain_text(re.compile(r"last used (?!never)"))
    expect(page.locator("#new-token")).to_have_count(0)  # shown that once only
    row.get_by_role("button", name="Revoke e2e script").click()
    row.get_by_role("button", name="Yes, revoke").click()
    expect(page.locator("#token-list li", has_text="e2e script")).to_have_count(0)

    gone = requests.get(f"{server.url}/api/me", headers={"X-API-Token": secret}, timeout=10)
    assert gone.status_code == 401


def test_imperial_in_settings_shows_fahrenheit_on_every_open_dashboard(page, server):
    sign_up(page, server, "settings-units@example.com")
    page.fill("#city-input", "Oslo")
    page.click("#add-button")
    card = page.locator("article.weather-card", has_text="Oslo")
    expect(card.locator("[data-field=temperature]")).to_have_text(re.compile("°C"), timeout=30000)

    settings = page.context.new_page()
    open_settings(settings, server)
    settings.get_by_label("Imperial (°F, mph)").check()
    expect(settings.locator("#units-note")).to_contain_text("Saved")

    # The dashboard in the other tab hears a snapshot and redraws in °F, without a reload.
    expect(card.locator("[data-field=temperature]")).to_have_text(re.compile(r"-?\d+(\.\d)? °F"))
    expect(card.locator("[data-field=wind]")).to_contain_text("mph")
    settings.goto(f"{server.url}/dashboard/")
    expect(settings.locator("article.weather-card [data-field=temperature]")).to_have_text(
        re.compile("°F")
    )
    settings.close()


def test_the_share_link_can_be_copied_and_rotated(page, server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    sign_up(page, server, "settings-share@example.com")
    open_settings(page, server)
    old = page.input_value("#share-url")
    assert requests.get(old, timeout=10).status_code == 200
    page.click("#share-copy")
    assert page.evaluate("navigator.clipboard.readText()") == old

    page.click("#share-rotate")
    expect(page.locator("#share-url")).not_to_have_value(old)
    assert requests.get(old, timeout=10).status_code == 404
    assert requests.get(page.input_value("#share-url"), timeout=10).status_code == 200


def test_search_history_is_listed_paged_and_cleared(page, server):
    sign_up(page, server, "settings-history@example.com")
    for index in range(12):
        status = page.evaluate(
            "(city) => fetch('/api/weather?city=' + city).then(r => r.status)",
            ["Oslo", "Lima", "Rome"][index % 3],
        )
        assert status == 200
    open_settings(page, server)
    history = page.locator("#history")
    expect(history.locator("#history-list li")).to_have_count(10)
    expect(history).to_contain_text("12 searches")
    history.get_by_role("button", name="Older").click()
    expect(history.locator("#history-list li")).to_have_count(2)
    history.get_by_role("button", name="Clear history").click()
    history.get_by_role("button", name="Yes, clear all").click()
    expect(history.locator("#history-empty")).to_be_visible()


def test_alerts_and_push_say_what_is_not_there_yet(page, server):
    sign_up(page, server, "settings-push@example.com")
    open_settings(page, server)
    expect(page.locator("#alerts")).to_contain_text("No alerts yet")
    push = page.locator("#push")
    expect(push).to_contain_text("not available on this server yet")
    for name in ("Enable on this browser", "Disable", "Send a test"):
        expect(push.get_by_role("button", name=name)).to_be_disabled()


def test_the_export_downloads_my_data(page, server):
    sign_up(page, server, "settings-export@example.com")
    page.fill("#city-input", "Lima")
    page.click("#add-button")
    expect(page.locator("article.weather-card", has_text="Lima")).to_be_visible(timeout=30000)
    open_settings(page, server)
    with page.expect_download() as download_info:
        page.click("#export-link")
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    with open(download.path(), encoding="utf-8") as file:
        body = json.load(file)
    assert body["account"]["email"] == "settings-export@example.com"
    assert [s["city"]["name"] for s in body["subscriptions"]] == ["Lima"]


def test_deleting_the_account_logs_out_and_the_login_then_fails(page, server):
    sign_up(page, server, "settings-delete@example.com", PASSWORD)
    open_settings(page, server)
    delete = page.locator("#delete")
    delete.get_by_label("Your password").fill("not my password")
    delete.get_by_role("button", name="Delete my account").click()
    expect(delete.locator("#delete-error")).to_contain_text("wrong")

    delete.get_by_label("Your password").fill(PASSWORD)
    delete.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(f"{server.url}/")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")
    ).to_be_visible()
    page.goto(f"{server.url}/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.fill("input[name=login]", "settings-delete@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("form")).to_contain_text(re.compile("not correct|incorrect", re.I))
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
