"""The pages work under a strict Content-Security-Policy: no inline code, no eval.

The policy is added to every response here (the server's own comes with django-csp); a
violation report in the page fails the test.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_up

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self' ws://127.0.0.1:*; worker-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)


@pytest.fixture
def strict_page(browser):
    # No service worker: it would answer in place of the routes that add the policy.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    context.set_default_timeout(15000)

    def with_policy(route):
        if route.request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch(max_redirects=0)
        route.fulfill(
            response=response,
            headers={**response.headers, "content-security-policy": POLICY},
        )

    context.route("**/*", with_policy)
    page = context.new_page()
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    yield page
    context.close()


def test_dashboard_and_settings_work_under_a_strict_policy(strict_page, server):
    page = strict_page
    sign_up(page, server, "csp-person@example.com")
    page.fill("#city-input", "Oslo")
    page.click("#add-button")
    card = page.locator("article.weather-card", has_text="Oslo")
    expect(card).to_be_visible(timeout=30000)
    city_id = page.locator("[data-city-id]").first.get_attribute("data-city-id")
    page.goto(f"{server.url}/cities/{city_id}/")
    expect(page.locator("canvas").first).to_be_visible()
    page.goto(f"{server.url}/settings/")
    page.get_by_label("Imperial (°F, mph)").check()
    expect(page.locator("#units-note")).to_contain_text("Saved")
    page.fill("#token-name", "csp")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_be_visible()
    page.goto(f"{server.url}/dashboard/")
    expect(card.locator("[data-field=temperature]")).to_contain_text("°F")
    assert page.evaluate("window.__violations") == []
    # The policy is really in force: an inline script is refused (and reported).
    ran = page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.append(s); return window.__ran; }"
    )
    assert ran is None
    page.wait_for_function("window.__violations.length > 0")
