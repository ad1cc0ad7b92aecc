"""Sentry: on only with a DSN, and no key, token, password or cookie ever leaves in an event."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from skywatch.sentry import FILTERED, scrub_event, secret_values, sentry_init
from tests.deploy.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_KEY = "0123456789abcdef0123456789abcdef"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo0Mn0.c2lnbmF0dXJlLW9mLXRoZS1qd3Q"
PERSONAL_TOKEN = "sw_pt_7Hq2xLr9Vb3nKd8Wm4Zs"
SESSION = "k9x8c7v6b5n4m3l2k1j0h9g8f7d6s5a4"


def realistic_event() -> dict:
    """An event as the Django integration builds it for a failed provider call."""
    url = f"https://api.openweathermap.org/data/2.5/weather?lat=51.5&lon=-0.1&appid={PROVIDER_KEY}"
    return {
        "level": "error",
        "message": f"Provider call failed for {url}",
        "logentry": {"message": "Provider call failed for %s", "params": [url]},
        "exception": {
            "values": [
                {
                    "type": "HTTPError",
                    "value": f"401 Client Error: Unauthorized for url: {url}",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "fetch",
                                "vars": {
                                    "api_key": f"'{PROVIDER_KEY}'",
                                    "params": {"appid": PROVIDER_KEY, "q": "London"},
                                    "headers": f"{{'Authorization': 'Bearer {JWT}'}}",
                                    "city": "'London'",
                                },
                            }
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {
            "values": [
                {"category": "httplib", "data": {"url": url, "method": "GET"}},
                {"category": "query", "message": f"SELECT 1 -- token {PERSONAL_TOKEN}"},
                {"category": "log", "message": f"using key {PROVIDER_KEY}"},
            ]
        },
        "request": {
            "url": "https://skywatch.example.com/api/weather",
            "method": "GET",
            "query_string": f"city=London&token={PERSONAL_TOKEN}",
            "headers": {
                "Authorization": f"Bearer {JWT}",
                "X-Api-Token": PERSONAL_TOKEN,
                "Cookie": f"sessionid={SESSION}; csrftoken=abcdefgh12345678",
                "User-Agent": "curl/8.5",
            },
            "cookies": {"sessionid": SESSION, "csrftoken": "abcdefgh12345678"},
            "data": {"email": "alice@example.com", "password": "correct horse battery"},
        },
        "extra": {"DATABASE_URL": "postgres://skywatch:db-pass-123@db:5432/skywatch"},
    }


@pytest.fixture
def provider_key(settings):
    settings.OPENWEATHER_API_KEY = PROVIDER_KEY
    return PROVIDER_KEY


def test_scrubbing_removes_the_provider_key_everywhere(provider_key):
    event = scrub_event(realistic_event(), {})

    text = json.dumps(event)
    assert PROVIDER_KEY not in text
    assert FILTERED in event["message"]
    assert FILTERED in event["exception"]["values"][0]["value"]
    assert FILTERED in event["breadcrumbs"]["values"][0]["data"]["url"]
    assert event["breadcrumbs"]["values"][2]["message"] == f"using key {FILTERED}"
    assert event["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]["api_key"] == FILTERED


def test_scrubbing_removes_tokens_passwords_and_cookies(provider_key):
    event = scrub_event(realistic_event(), {})

    text = json.dumps(event)
    for secret in (JWT, PERSONAL_TOKEN, SESSION, "correct horse battery", "db-pass-123"):
        assert secret not in text
    headers = event["request"]["headers"]
    assert headers["Authorization"] == FILTERED
    assert headers["X-Api-Token"] == FILTERED
    assert headers["Cookie"] == FILTERED
    assert event["request"]["cookies"] == FILTERED
    assert event["request"]["data"]["password"] == FILTERED
    assert event["request"]["query_string"] == f"city=London&token={FILTERED}"


def test_scrubbing_keeps_what_is_needed_to_debug(provider_key):
    event = scrub_event(realistic_event(), {})

    assert event["request"]["headers"]["User-Agent"] == "curl/8.5"
    assert event["request"]["data"]["email"] == "alice@example.com"
    assert "lat=51.5&lon=-0.1" in event["message"]
    assert event["exception"]["values"][0]["type"] == "HTTPError"
    assert event["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]["city"] == "'London'"


def test_scrubbing_removes_share_tokens_from_urls(provider_key):
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-x"
    event = {
        "request": {"url": f"https://skywatch.example.com/share/{token}/cities/7/"},
        "transaction": f"/share/{token}/",
    }

    scrubbed = scrub_event(event, {})

    assert token not in json.dumps(scrubbed)
    assert scrubbed["request"]["url"] == (
        f"https://skywatch.example.com/share/{FILTERED}/cities/7/"
    )


def test_scrubbing_handles_headers_and_query_strings_sent_as_pairs(provider_key):
    event = {
        "request": {
            "headers": [["Authorization", f"Bearer {JWT}"], ["Accept", "application/json"]],
            "query_string": [["city", "Paris"], ["appid", PROVIDER_KEY]],
        }
    }

    request = scrub_event(event, {})["request"]

    assert request["headers"] == [["Authorization", FILTERED], ["Accept", "application/json"]]
    assert request["query_string"] == [["city", "Paris"], ["appid", FILTERED]]


def test_a_key_read_from_a_mounted_file_is_scrubbed_too(settings, tmp_path):
    key_file = tmp_path / "openweather-api-key"
    key_file.write_text("fedcba9876543210fedcba9876543210\n")
    settings.OPENWEATHER_API_KEY = ""
    settings.OPENWEATHER_API_KEY_FILE = str(key_file)

    event = scrub_event({"message": "bad key fedcba9876543210fedcba9876543210"}, {})

    assert event["message"] == f"bad key {FILTERED}"


def test_the_django_secret_key_is_among_the_secret_values(settings):
    settings.SECRET_KEY = "a-django-secret-key-that-is-long-enough"

    assert "a-django-secret-key-that-is-long-enough" in secret_values()


def test_sentry_stays_off_without_a_dsn():
    assert sentry_init(dsn="", environment="production") is False


class EnvelopeCollector(BaseHTTPRequestHandler):
    """A stand-in Sentry ingest endpoint on loopback that keeps what it receives."""

    envelopes: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.envelopes.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_endpoint():
    EnvelopeCollector.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), EnvelopeCollector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_prod_sends_scrubbed_events_with_release_and_environment(sentry_endpoint, tmp_path):
    port = sentry_endpoint.server_address[1]
    env = {
        **os.environ,
        "DJANGO_ENV": "prod",
        "DJANGO_SECRET_KEY": "prod-test-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "skywatch.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/1",
        "SENTRY_RELEASE": "skywatch@1.2.3",
        "SENTRY_ENVIRONMENT": "staging",
        "OPENWEATHER_API_KEY": PROVIDER_KEY,
    }
    env.pop("REDIS_URL", None)
    script = (
        "import django, sentry_sdk; django.setup(); "
        f"sentry_sdk.capture_message('provider refused appid={PROVIDER_KEY} for {JWT}'); "
        "sentry_sdk.flush(5)"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}"},
        check=True,
        timeout=60,
    )

    assert EnvelopeCollector.envelopes, "no event reached the Sentry endpoint"
    items = [json.loads(line) for line in EnvelopeCollector.envelopes[0].splitlines() if line]
    event = next(item for item in items if "message" in item or "logentry" in item)
    assert event["release"] == "skywatch@1.2.3"
    assert event["environment"] == "staging"
    raw = b"".join(EnvelopeCollector.envelopes).decode()
    assert PROVIDER_KEY not in raw
    assert JWT not in raw
    assert FILTERED in raw
