"""The settings page, and what makes every page an installable, CSP-safe app."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from subscriptions.services import subscription_create

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


def page_state(content: str, name: str) -> dict:
    return json.loads(
        content.split(f'id="{name}" type="application/json">')[1].split("</script>")[0]
    )


def test_the_settings_page_needs_a_login(client, db):
    response = client.get("/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_settings_page_hands_the_account_to_the_page(alice_client, alice, charlie):
    subscription_create(user=alice, query="Oslo")
    subscription_create(user=charlie, query="Lima")
    response = alice_client.get("/settings/")
    assert response.status_code == 200
    state = page_state(response.content.decode(), "settings-state")
    assert state["user"]["email"] == "alice@example.com"
    assert state["user"]["usage"] == {"cities": 1}
    assert state["user"]["share_url"].endswith(f"/share/{alice.share_token}/")
    assert [plan["slug"] for plan in state["plans"]] == ["basic", "premium"]
    assert state["has_password"] is True
    assert [value for value, _ in state["units_choices"]] == ["metric", "imperial"]


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/dashboard/", "/settings/"])
def test_every_page_links_the_manifest_and_has_no_inline_script(alice_client, path):
    browser = Client() if path in ("/", "/accounts/login/") else alice_client
    content = browser.get(path).content.decode()
    assert 'rel="manifest"' in content
    assert "js/pwa.js" in content
    assert "js/theme.js" in content
    for attributes, body in SCRIPT.findall(content):
        # State travels as JSON data (json_script); code only in files, for the CSP.
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
        assert "src=" not in attributes or not body.strip()
    assert not re.search(r"\son[a-z]+=", content), "no inline event handlers"


def test_the_service_worker_is_served_from_the_root_for_the_whole_site(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert 'const OFFLINE_URL = "/offline/"' in body
    assert 'addEventListener("push"' in body
    assert 'addEventListener("notificationclick"' in body


def test_the_offline_page_is_the_same_for_everyone(alice_client):
    response = alice_client.get("/offline/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "You are offline" in content
    assert "alice@example.com" not in content


def test_the_manifest_installs_the_dashboard(client, db):
    with open(finders.find("manifest.webmanifest"), encoding="utf-8") as file:
        manifest = json.load(file)
    assert manifest["start_url"] == "/dashboard/"
    assert manifest["scope"] == "/"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(f"icons/{icon['src'].split('/')[-1]}")
