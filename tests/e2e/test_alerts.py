"""Alerts in a real browser: a rule set on the city page fires at the next refresh; the
dashboard open in another tab shows the toast and the bell at once, the city page lists the
event, and the real SMTP server on loopback receives one e-mail."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import make_server, sign_up
from tests.e2e.test_live_dashboard import follow
from tests.support.alert_servers import SmtpServer


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def alerting(tmp_path_factory, smtp):
    instance = make_server(
        tmp_path_factory.mktemp("e2e-alerts"),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        SITE_URL="http://skywatch.test",
    )
    instance.start()
    yield instance
    instance.stop()


def test_a_rule_set_on_the_city_page_fires_a_toast_an_event_and_one_email(page, alerting, smtp):
    sign_up(page, alerting, "alerts-e2e@example.com")
    card = follow(page, "Oslo")
    dashboard = page.context.new_page()
    dashboard.goto(f"{alerting.url}/dashboard/")
    expect(dashboard.locator("#connection")).to_have_attribute("data-state", "live", timeout=15000)
    card.locator("h2 a").click()

    alerts = page.locator("#alerts")
    expect(alerts.locator("#alert-form")).to_be_visible()
    alerts.locator("#alert-threshold").fill("abc")
    alerts.locator("#alert-save").click()
    expect(alerts.locator("#alert-threshold-error")).to_contain_text("number")
    alerts.locator("#alert-metric").select_option("temperature")
    alerts.locator("#alert-operator").select_option("above")
    alerts.locator("#alert-threshold").fill("-100")
    alerts.locator("#alert-save").click()
    rule = alerts.locator("#alert-list li")
    expect(rule).to_have_count(1)
    expect(rule).to_contain_text("Temperature above -100 °C now")

    # The next refresh (every 2 s) finds it true: the event arrives live on both pages.
    expect(alerts.locator("#alert-events li")).to_have_count(1, timeout=30000)
    expect(alerts.locator("#alert-events li")).to_contain_text("Oslo")
    expect(rule).to_have_attribute("data-state", "firing")
    toast = dashboard.locator("#alert-toasts .toast")
    expect(toast).to_have_count(1, timeout=15000)
    expect(toast).to_contain_text("above your -100 °C")
    expect(dashboard.locator("[data-alerted]")).to_contain_text("Oslo")
    dashboard.locator("#alert-bell button").click()
    expect(dashboard.locator("#alert-bell-list li")).to_have_count(1)

    # The sign-up's address confirmation went to the same server: count the alert e-mail only.
    def alert_mails() -> list:
        return [m for m in smtp.messages if "Oslo" in str(m["Subject"])]

    smtp.wait_for(2, timeout=30)
    assert len(alert_mails()) == 1
    assert "above your -100 °C" in str(alert_mails()[0]["Subject"])
    # It stays firing: later refreshes send nothing more.
    page.wait_for_timeout(5000)
    assert len(alert_mails()) == 1
    expect(alerts.locator("#alert-events li")).to_have_count(1)
