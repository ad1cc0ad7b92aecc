"""Delivery end to end with real parts: an SMTP server and a Web Push service on loopback that
verifies the VAPID signature and decrypts the payload; one e-mail and one push a firing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from notifications.delivery import background_wait
from notifications.email import alert_email_send
from notifications.models import AlertEvent, PushSubscription
from subscriptions import refresh
from subscriptions.models import City
from tests.alerts.conftest import bearer_client, error_of
from tests.support.alert_servers import PushService, SmtpServer, vapid_pem

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CONTACT = "mailto:ops@example.com"


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = False
        settings.ALERT_DELIVERY = "thread"
        settings.SITE_URL = "http://skywatch.test"
        yield server


@pytest.fixture
def push_service(settings):
    with PushService(contact=CONTACT) as service:
        settings.WEBPUSH_VAPID_PRIVATE_KEY = vapid_pem()
        settings.WEBPUSH_CONTACT = CONTACT
        settings.WEBPUSH_ALLOWED_HOSTS = ["127.0.0.1"]
        yield service


def run(provider, city, *, hourly: list[float]) -> None:
    provider.hourly = hourly
    cities = City.objects.filter(pk=city.pk)
    refresh.refresh_cities(cities, forecasts=cities)
    background_wait()


def test_frost_in_the_next_12_hours_is_one_email_and_one_push_until_it_clears(
    tunable, smtp, push_service, alice, alice_paris
):
    api = bearer_client(alice)
    browser = push_service.browser("laptop")
    assert (
        api.post("/api/push/subscriptions", browser.subscription(push_service.url)).status_code
        == 201
    )
    created = api.post(
        "/api/alerts",
        {
            "subscription": alice_paris.pk,
            "metric": "temperature",
            "operator": "below",
            "threshold": 0,
            "source": "forecast",
            "within_hours": 12,
            "channels": ["web", "email", "push"],
        },
    )
    assert created.status_code == 201, created.content
    frost = [4.0] * 9 + [-2.0] + [4.0] * 38

    run(tunable, alice_paris.city, hourly=frost)
    run(tunable, alice_paris.city, hourly=frost)  # still frosty: nothing new

    messages = smtp.wait_for(1)
    assert len(messages) == 1
    event = AlertEvent.objects.get()
    email = messages[0]
    assert email["To"] == "alice@example.com"
    assert email["Subject"].strip() == event.message
    assert event.message.startswith("Paris, FR: temperature -2 °C expected at ")
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    city_url = f"http://skywatch.test/cities/{alice_paris.city_id}/"
    for body in (text, html):
        assert event.message in body
        assert city_url in body
        assert "http://skywatch.test/settings/" in body
    assert push_service.refused == []
    assert browser.received == [
        {
            "title": "Skywatch: Paris, FR",
            "body": event.message,
            "url": f"/cities/{alice_paris.city_id}/",
            "tag": f"alert-{event.alert_id}",
        }
    ]
    assert event.emailed_at is not None
    assert event.pushed_at is not None

    run(tunable, alice_paris.city, hourly=[4.0] * 48)  # cleared: re-armed, nothing sent
    run(tunable, alice_paris.city, hourly=frost)  # frost again: a second firing

    assert len(smtp.wait_for(2)) == 2
    assert len(browser.received) == 2
    assert AlertEvent.objects.count() == 2
    listed = api.get("/api/alerts/events").json()
    assert listed["count"] == 2
    assert listed["results"][0]["value"] == -2
    assert listed["results"][0]["city"]["name"] == "Paris"


def test_a_failing_smtp_server_never_breaks_the_refresh(tunable, settings, alice_paris):
    from tests.alerts.conftest import alert_on
    from tests.support.servers import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.ALERT_DELIVERY = "thread"
    alert_on(alice_paris)
    tunable.temperature = -5

    summary = refresh.refresh_cities(City.objects.filter(pk=alice_paris.city_id))
    background_wait()

    assert summary.stored == 1
    event = AlertEvent.objects.get()
    assert event.emailed_at is None  # retried, then given up; the next job may try again


def test_an_email_job_run_twice_sends_once(tunable, smtp, alice_paris):
    from notifications.tasks import alert_email_task
    from tests.alerts.conftest import alert_on, reading

    alert_on(alice_paris)
    settings_delivery = smtp  # the SMTP fixture; the job is run here as Celery would
    reading(alice_paris.city, temperature=-3)
    from django.db import transaction

    from notifications.evaluation import alerts_evaluate

    with transaction.atomic():
        (event,) = alerts_evaluate(city_ids=[alice_paris.city_id]).events
    background_wait()
    settings_delivery.wait_for(1)
    alert_email_task.apply(args=(alice_paris.user_id, [event.pk]), throw=True)
    assert alert_email_send(user_id=alice_paris.user_id, event_ids=[event.pk]) == 0
    assert len(smtp.messages) == 1


def test_a_browser_the_push_service_forgot_is_removed(tunable, push_service, alice, alice_paris):
    from tests.alerts.conftest import alert_on

    api = bearer_client(alice)
    gone = push_service.browser("old-phone")
    api.post("/api/push/subscriptions", gone.subscription(push_service.url))
    gone.status = 410
    alert_on(alice_paris, channels=["push"])
    tunable.temperature = -5

    refresh.refresh_cities(City.objects.filter(pk=alice_paris.city_id))
    background_wait()

    assert not PushSubscription.objects.exists()


def test_push_key_is_404_until_configured_then_the_public_key(settings, alice):
    api = bearer_client(alice)
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    settings.WEBPUSH_VAPID_PRIVATE_KEY_FILE = ""
    error_of(api.get("/api/push/key"), status=404, code="not_found")
    settings.WEBPUSH_VAPID_PRIVATE_KEY = vapid_pem()
    settings.WEBPUSH_CONTACT = CONTACT
    key = api.get("/api/push/key/").json()["public_key"]
    assert len(key) == 87  # 65 bytes, base64url


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://push.example.com/x",
        "https://127.0.0.1/push",
        "https://10.1.2.3/push",
        "https://[::1]/push",
        "https://localhost/push",
        "https://169.254.169.254/latest",
        "https://does-not-resolve.invalid/push",
        "ftp://push.example.com/x",
        "https://user:pw@push.example.com/x",
        "not a url",
        "",
        None,
        42,
    ],
)
def test_push_endpoints_that_would_reach_inside_are_refused(settings, alice, endpoint):
    settings.WEBPUSH_ALLOWED_HOSTS = []
    browser = PushService(contact=CONTACT).browser("b")
    body = {**browser.subscription("https://x"), "endpoint": endpoint}
    error_of(
        bearer_client(alice).post("/api/push/subscriptions", body, format="json"),
        status=400,
        code="invalid",
        field="endpoint",
    )
    assert not PushSubscription.objects.exists()


def test_push_subscriptions_are_saved_once_and_deleted_by_their_owner_only(
    settings, alice, bob, push_service
):
    api, other = bearer_client(alice), bearer_client(bob)
    body = push_service.browser("tab").subscription(push_service.url)
    first = api.post("/api/push/subscriptions", body)
    again = api.post("/api/push/subscriptions/", body)
    bad = api.post("/api/push/subscriptions", {**body, "keys": {"p256dh": "abc", "auth": "x"}})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    error_of(bad, status=400, code="invalid", field="keys")
    push_id = first.json()["id"]
    error_of(other.delete(f"/api/push/subscriptions/{push_id}"), status=404, code="not_found")
    assert api.delete(f"/api/push/subscriptions/{push_id}").status_code == 204
    assert not PushSubscription.objects.exists()


def test_webpush_keys_prints_a_key_the_server_accepts(settings, capsys):
    call_command("webpush_keys")
    pem = capsys.readouterr().out
    settings.WEBPUSH_VAPID_PRIVATE_KEY = pem
    settings.WEBPUSH_CONTACT = CONTACT
    from notifications.webpush import vapid_public_key

    # A PEM private key (the marker is spelled in two parts so no scanner takes it for a key).
    assert pem.startswith("-----BEGIN " + "PRIVATE KEY-----")
    assert vapid_public_key()
