"""The probes: /healthz answers while the process runs, /readyz names what is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from skywatch.health import scheduler_state
from subscriptions.planning import LAST_SUCCESS_KEY
from subscriptions.refresh import refresh_followed_cities

# Nothing listens here (a port of this suite's range): connections are refused at once.
CLOSED_REDIS = "redis://127.0.0.1:8129/0"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_channel_layer_answer(client, settings):
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["down"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is True
    assert ("broker" in body["checks"]) is bool(settings.REDIS_URL)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz/", "/readyz/"])
def test_probes_answer_with_a_trailing_slash_too(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_readyz_names_channel_layer_and_broker_when_redis_refuses(client, settings):
    settings.REDIS_URL = CLOSED_REDIS
    settings.CELERY_BROKER_URL = CLOSED_REDIS
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [CLOSED_REDIS]},
        }
    }

    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["down"] == ["channel_layer", "broker"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["error"] == "ConnectionError"
    assert "8129" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_reports_a_scheduler_that_never_ran(client):
    scheduler = client.get("/readyz").json()["scheduler"]

    assert scheduler["state"] == "never"
    assert scheduler["last_success_at"] is None
    assert scheduler["interval_seconds"] > 0
    assert scheduler["effective_interval_seconds"] >= scheduler["interval_seconds"]


@pytest.mark.django_db
def test_readyz_reports_the_last_successful_refresh_as_fresh(client):
    refresh_followed_cities()

    scheduler = client.get("/readyz").json()["scheduler"]

    assert scheduler["state"] == "fresh"
    last = timezone.datetime.fromisoformat(scheduler["last_success_at"])
    assert timezone.now() - last < timedelta(minutes=1)


@pytest.mark.django_db
def test_a_stale_scheduler_is_reported_but_does_not_make_web_unready(client):
    two_hours_ago = (timezone.now() - timedelta(hours=2)).isoformat()
    cache.set(LAST_SUCCESS_KEY, two_hours_ago, timeout=None)

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["scheduler"]["state"] == "stale"
    assert response.json()["scheduler"]["last_success_at"] == two_hours_ago


def test_scheduler_state_turns_stale_after_three_missed_intervals():
    now = timezone.now()
    recent = (now - timedelta(seconds=899)).isoformat()
    old = (now - timedelta(seconds=901)).isoformat()

    assert scheduler_state(last_success_at=recent, interval_seconds=300) == "fresh"
    assert scheduler_state(last_success_at=old, interval_seconds=300) == "stale"
    assert scheduler_state(last_success_at=None, interval_seconds=300) == "never"


def test_scheduler_state_reads_a_naive_timestamp_as_utc():
    naive = (timezone.now() - timedelta(seconds=5)).replace(tzinfo=None).isoformat()

    assert scheduler_state(last_success_at=naive, interval_seconds=300) == "fresh"


@pytest.fixture
def prod_like(settings):
    """Prod's host and HTTPS rules, with the probe middleware first as prod.py puts it."""
    settings.ALLOWED_HOSTS = ["skywatch.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.MIDDLEWARE = ["skywatch.health.ProbeMiddleware", *settings.MIDDLEWARE]
    return settings


def test_kubelet_probe_with_the_pod_ip_as_host_gets_healthz(client, prod_like):
    response = client.get("/healthz", HTTP_HOST="10.42.0.17:8000")

    assert response.status_code == 200


@pytest.mark.django_db
def test_kubelet_probe_with_the_pod_ip_as_host_gets_readyz(client, prod_like):
    response = client.get("/readyz", HTTP_HOST="10.42.0.17:8000")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_other_pages_still_refuse_an_unknown_host(client, prod_like):
    response = client.get("/", HTTP_HOST="10.42.0.17:8000")

    assert response.status_code == 400


def test_probes_over_plain_http_are_not_redirected_but_pages_are(client, prod_like):
    assert client.get("/healthz", HTTP_HOST="skywatch.example.com").status_code == 200
    page = client.get("/", HTTP_HOST="skywatch.example.com")
    assert page.status_code == 301
    assert page["Location"] == "https://skywatch.example.com/"


@pytest.mark.django_db
def test_readyz_tells_a_stranger_only_the_status(client):
    response = client.get("/readyz", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "down": []}


@pytest.mark.django_db
def test_readyz_details_are_for_staff_and_the_probes_networks(client, settings, prod_like):
    from tests.factories import UserFactory

    settings.HEALTH_DETAIL_NETWORKS = ["10.42.0.0/16"]
    probe = client.get("/readyz", REMOTE_ADDR="10.42.0.1", HTTP_HOST="10.42.0.17:8000")
    client.force_login(UserFactory(email="ops@example.com", is_staff=True))
    staff = client.get("/readyz", REMOTE_ADDR="203.0.113.9", HTTP_HOST="10.42.0.17:8000")

    assert set(probe.json()) == set(staff.json()) == {"status", "down", "checks", "scheduler"}
    assert staff.json()["checks"]["database"]["ok"] is True
