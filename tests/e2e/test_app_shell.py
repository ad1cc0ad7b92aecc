"""Every page as an app: our own Vue, a manifest and a service worker at /, the system's colour
scheme, 390 px without sideways scrolling, axe-core clean, usable with the keyboard."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import ARTIFACTS, sign_up

SCREENS = ARTIFACTS / "screens"
PHONE = {"width": 390, "height": 844}


def follow(page, name: str):
    page.fill("#city-input", name)
    page.click("#add-button")
    card = page.locator("article.weather-card", has_text=name)
    expect(card).to_be_visible(timeout=30000)
    return card


def page_urls(page, server) -> dict[str, str]:
    """Every kind of page a person sees (admin excluded), for a logged-in `page` with a city."""
    share_url = page.evaluate("fetch('/api/me').then(r => r.json()).then(me => me.share_url)")
    city_id = page.locator("[data-city-id]").first.get_attribute("data-city-id")
    return {
        "dashboard": f"{server.url}/dashboard/",
        "city": f"{server.url}/cities/{city_id}/",
        "settings": f"{server.url}/settings/",
        "share": share_url,
        "share-city": f"{share_url}cities/{city_id}/",
    }


ANONYMOUS = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]


def new_page(browser, **options):
    # bypass_csp: axe-core is injected as a script tag, which a strict policy would refuse.
    context = browser.new_context(bypass_csp=True, **options)
    context.set_default_timeout(15000)
    return context.new_page()


@pytest.fixture
def light_page(browser):
    page = new_page(browser, viewport={"width": 1280, "height": 900}, color_scheme="light")
    yield page
    page.context.close()


@pytest.fixture
def dark_page(browser):
    page = new_page(browser, viewport={"width": 1280, "height": 900}, color_scheme="dark")
    yield page
    page.context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport=PHONE, color_scheme="light", has_touch=True)
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


def wait_ready(page, name: str) -> None:
    if name == "dashboard":
        expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    elif name == "settings":
        expect(page.locator("#token-list")).to_be_visible()
        expect(page.locator("#push-reason")).to_contain_text("server")
    elif name in ("city", "share", "share-city"):
        expect(page.locator("canvas").first).to_be_visible()
        page.wait_for_timeout(300)  # Chart.js draws on the next frame


def test_vue_comes_from_our_own_static_files(page, server):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    sign_up(page, server, "shell-vue@example.com")
    follow(page, "Oslo")
    assert f"{server.url}/static/vendor/vue/vue.runtime.esm-browser.prod.js" in requested
    foreign = [url for url in requested if not url.startswith((server.url, "ws://127.0.0.1"))]
    assert foreign == []
    # The runtime-only build: no template compiler in the page, nothing for 'unsafe-eval'.
    assert not [url for url in requested if re.search(r"vue(\.esm-browser|\.global)", url)]


def test_the_manifest_and_the_service_worker_make_it_an_app(page, server):
    page.goto(f"{server.url}/")
    manifest_url = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = requests.get(f"{server.url}{manifest_url}", timeout=10).json()
    assert manifest["start_url"] == "/dashboard/"
    for icon in manifest["icons"]:
        icon_url = f"{server.url}{manifest_url.rsplit('/', 1)[0]}/{icon['src']}"
        assert requests.get(icon_url, timeout=10).headers["Content-Type"] == "image/png"
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{server.url}/"

    sign_up(page, server, "shell-sw@example.com")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    try:
        page.goto(f"{server.url}/settings/")
        expect(page.get_by_test_id("offline-title")).to_have_text("You are offline")
    finally:
        page.context.set_offline(False)
    page.goto(f"{server.url}/settings/")
    expect(page.locator("#tokens")).to_be_visible()


def test_dark_mode_follows_the_system_and_its_changes(dark_page, server):
    page = dark_page
    page.goto(f"{server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.emulate_media(color_scheme="light")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
    page.emulate_media(color_scheme="dark")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")


def test_charts_take_the_colours_of_the_scheme(dark_page, server):
    page = dark_page
    sign_up(page, server, "shell-chart@example.com")
    follow(page, "Lima")
    page.goto(page_urls(page, server)["city"])
    expect(page.locator("canvas").first).to_be_visible()
    dark = page.evaluate("Chart.defaults.color")
    assert dark == page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--bs-secondary-color').trim()"
    )
    page.emulate_media(color_scheme="light")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    assert page.evaluate("Chart.defaults.color") != dark


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (page.url, width)


def test_at_390_px_no_page_scrolls_sideways_and_the_menu_collapses(phone_page, server):
    page = phone_page
    for path in ANONYMOUS:
        page.goto(f"{server.url}{path}")
        no_sideways_scroll(page)
    sign_up(page, server, "shell-phone@example.com")
    follow(page, "Rome")
    for name, url in page_urls(page, server).items():
        page.goto(url)
        wait_ready(page, name)
        no_sideways_scroll(page)
    menu = page.get_by_role("link", name="Settings")
    expect(menu).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(menu).to_be_visible()
    menu.click()
    expect(page).to_have_url(re.compile("/settings/$"))


def test_every_page_is_axe_clean_in_light_and_dark(light_page, dark_page, server):
    for path in ANONYMOUS:
        for tab in (light_page, dark_page):
            tab.goto(f"{server.url}{path}")
            assert_accessible(tab)
    for tab in (light_page, dark_page):
        sign_up(tab, server, f"shell-axe-{id(tab)}@example.com")
        follow(tab, "Oslo")
        assert_accessible(tab)
        for name, url in page_urls(tab, server).items():
            tab.goto(url)
            wait_ready(tab, name)
            assert_accessible(tab)


def test_the_dashboard_works_from_the_keyboard(page, server):
    sign_up(page, server, "shell-keys@example.com")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    page.locator("#city-input").focus()
    page.keyboard.type("Paris")
    options = page.locator("#suggestions [role=option]")
    expect(options.first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#city-input")).to_have_attribute("aria-activedescendant", "suggestion-0")
    page.keyboard.press("Escape")
    expect(page.locator("#suggestions")).to_be_hidden()
    page.keyboard.type(" ")
    page.keyboard.press("Backspace")
    expect(options.first).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    chosen = options.nth(1).inner_text().split("\n")[0].split(" ")[0]
    page.keyboard.press("Enter")
    card = page.locator("article.weather-card", has_text=chosen)
    expect(card).to_be_visible()
    # Tab reaches the card's link and its remove button; Enter on the button removes it.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label') || ''").startswith(
            "Stop following"
        ):
            break
    else:
        raise AssertionError("Tab never reached the card's remove button")
    page.keyboard.press("Enter")
    expect(card).to_have_count(0)


def test_every_settings_control_is_reachable_with_tab(page, server):
    sign_up(page, server, "shell-tab@example.com")
    page.goto(f"{server.url}/settings/")
    expect(page.locator("#token-list")).to_be_visible()
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(
            page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        )
    wanted = {
        "units-metric",
        "token-name",
        "Create token",
        "share-url",
        "share-copy",
        "share-rotate",
        "export-link",
        "delete-confirm",
    }
    assert wanted <= reached, wanted - reached


def shoot(page, name: str, *, full_page: bool = False) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=full_page)


def test_screenshots_of_the_main_pages(browser, server):
    """For docs/screenshots (copied from test-artifacts/screens after looking at them)."""
    for scheme, viewport, suffix in (
        ("light", {"width": 1280, "height": 860}, "light"),
        ("dark", {"width": 1280, "height": 860}, "dark"),
        ("light", PHONE, "phone"),
    ):
        page = new_page(browser, viewport=viewport, color_scheme=scheme)
        sign_up(page, server, f"shell-shots-{suffix}@example.com")
        for city in ("Oslo", "Lima"):
            follow(page, city)
        urls = page_urls(page, server)
        page.goto(urls["dashboard"])
        wait_ready(page, "dashboard")
        # Readings arrive every 2 s here: a still picture without the glow of the last one.
        page.add_style_tag(content="*, *::before { animation: none !important; }")
        shoot(page, f"dashboard-{suffix}", full_page=suffix == "phone")
        page.goto(urls["city"])
        wait_ready(page, "city")
        shoot(page, f"city-{suffix}")
        page.goto(urls["settings"])
        wait_ready(page, "settings")
        shoot(page, f"settings-{suffix}", full_page=suffix == "light")
        page.context.close()
