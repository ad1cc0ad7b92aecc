"""Every page works under the Content-Security-Policy: scripts and styles from the site only."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import sign_up


def watch_violations(page) -> list[str]:
    """What the browser refused under the policy: console reports and violation events."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " console.error('Content Security Policy violation: ' + e.violatedDirective"
        " + ' ' + e.blockedURI));"
    )
    return violations


def test_every_page_is_served_with_a_strict_policy(server):
    for path in ["/", "/accounts/login/", "/accounts/signup/", "/api/docs/"]:
        policy = requests.get(f"{server.url}{path}", timeout=10).headers["Content-Security-Policy"]

        assert "script-src 'self'" in policy, path
        assert "style-src 'self'" in policy, path
        assert "unsafe-inline" not in policy, path
        assert "unsafe-eval" not in policy, path
        assert "frame-ancestors 'none'" in policy, path


def test_the_pages_work_without_a_single_policy_violation(page, server):
    violations = watch_violations(page)
    page.goto(f"{server.url}/")
    page.goto(f"{server.url}/accounts/login/")
    sign_up(page, server, "e2e-csp@example.com")

    page.fill("#city-input", "Paris")
    page.locator("#suggestions").get_by_role("option").filter(has_text="FR").first.click()
    card = page.locator("#cards [data-city-id]", has_text="Paris")
    expect(card).to_be_visible(timeout=15000)
    # The wind arrow's rotation is set from script, which the policy must not block.
    expect(card.locator(".wind-arrow")).to_have_css("transform", re.compile(r"matrix"))
    city_id = card.get_attribute("data-city-id")
    page.goto(f"{server.url}/cities/{city_id}/")
    expect(page.locator("canvas").first).to_be_visible()
    share = page.get_by_test_id("share-url").input_value()
    page.goto(share)
    expect(page.locator("canvas").first).to_be_visible()
    page.goto(f"{server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible()

    assert violations == []
