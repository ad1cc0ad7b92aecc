"""The alert API: shapes, units, the plan's limit under a lock, tenancy and every refusal."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from notifications.models import Alert
from tests.alerts.conftest import bearer_client, error_of
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

RULE = {"metric": "temperature", "operator": "below", "threshold": 0, "source": "now"}


def create(client, subscription_, **changes):
    return client.post("/api/alerts", {"subscription": subscription_.pk, **RULE, **changes})


def test_it_creates_an_alert_with_the_contract_shape(alice_api, alice_paris):
    response = create(alice_api, alice_paris, source="forecast", within_hours=12)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id", "subscription_id", "city", "metric", "operator", "threshold", "source",
        "within_hours", "channels", "enabled", "state", "last_fired_at", "created_at",
    }  # fmt: skip
    assert body["subscription_id"] == alice_paris.pk
    assert body["city"]["name"] == "Paris"
    assert body["threshold"] == 0
    assert body["within_hours"] == 12
    assert body["channels"] == ["web", "email"]
    assert body["enabled"] is True
    assert body["state"] == "ok"
    assert body["last_fired_at"] is None
    assert alice_api.get("/api/alerts").json() == [body]
    assert alice_api.get(f"/api/alerts/{body['id']}/").json() == body


def test_a_threshold_typed_in_fahrenheit_is_stored_in_celsius_and_shown_as_typed(
    alice, alice_api, alice_paris
):
    alice.units = "imperial"
    alice.save(update_fields=["units"])

    body = create(alice_api, alice_paris, threshold=32).json()

    alert = Alert.objects.get(pk=body["id"])
    assert alert.threshold == pytest.approx(0)
    assert body["threshold"] == 32
    alice.units = "metric"
    alice.save(update_fields=["units"])
    assert alice_api.get(f"/api/alerts/{alert.pk}").json()["threshold"] == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"metric": "pressure"}, "metric"),
        ({"metric": "uv_index"}, "metric"),
        ({"metric": "humidity", "source": "forecast", "within_hours": 3}, "metric"),
        ({"operator": "equals"}, "operator"),
        ({"threshold": "0"}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"threshold": None}, "threshold"),
        ({"source": "yesterday"}, "source"),
        ({"source": "forecast"}, "within_hours"),
        ({"source": "forecast", "within_hours": 0}, "within_hours"),
        ({"source": "forecast", "within_hours": 49}, "within_hours"),
        ({"source": "forecast", "within_hours": 1.5}, "within_hours"),
        ({"within_hours": 3}, "within_hours"),
        ({"channels": []}, "channels"),
        ({"channels": ["sms"]}, "channels"),
        ({"channels": "web"}, "channels"),
        ({"channels": ["web", "web"]}, "channels"),
        ({"enabled": "yes"}, "enabled"),
        ({"subscription": "1"}, "subscription"),
        ({"subscription": None}, "subscription"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_stores_nothing(
    alice_api, alice_paris, changes, field
):
    error_of(create(alice_api, alice_paris, **changes), status=400, code="invalid", field=field)
    assert not Alert.objects.exists()


def test_a_body_that_is_not_an_object_is_invalid(alice_api, alice_paris):
    error_of(alice_api.post("/api/alerts", [1, 2], format="json"), status=400, code="invalid")


def test_someone_elses_subscription_is_not_found(alice_api, bob):
    bobs = SubscriptionFactory(user=bob)
    error_of(create(alice_api, bobs), status=404, code="not_found")
    assert not Alert.objects.exists()


def test_a_fourth_alert_on_basic_exceeds_the_quota(alice_api, alice_paris):
    for threshold in (0, 1, 2):
        assert create(alice_api, alice_paris, threshold=threshold).status_code == 201

    error_of(create(alice_api, alice_paris, threshold=3), status=403, code="quota_exceeded")
    assert Alert.objects.count() == 3


def test_the_alert_limit_is_the_plans_and_editable(alice, alice_api, alice_paris):
    alice.plan.alert_limit = 1
    alice.plan.save()
    assert create(alice_api, alice_paris).status_code == 201
    error_of(create(alice_api, alice_paris), status=403, code="quota_exceeded")


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_creates_cannot_beat_the_quota(alice, alice_paris):
    start = threading.Barrier(6)
    statuses: list[int] = []

    def post() -> None:
        try:
            client = bearer_client(alice)
            start.wait()
            statuses.append(create(client, alice_paris).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 201, 201, 403, 403, 403]
    assert Alert.objects.filter(user=alice).count() == 3


def test_patch_changes_fields_and_rearms(alice_api, alice_paris):
    alert_id = create(alice_api, alice_paris).json()["id"]
    Alert.objects.filter(pk=alert_id).update(state="firing")

    response = alice_api.patch(
        f"/api/alerts/{alert_id}",
        {"threshold": -5, "enabled": False, "source": "forecast", "within_hours": 6},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["threshold"], body["enabled"], body["state"]) == (-5, False, "ok")
    assert (body["source"], body["within_hours"]) == ("forecast", 6)
    back = alice_api.patch(f"/api/alerts/{alert_id}/", {"source": "now"}).json()
    assert (back["source"], back["within_hours"]) == ("now", None)


def test_a_bad_patch_changes_nothing(alice_api, alice_paris):
    before = create(alice_api, alice_paris).json()

    error_of(
        alice_api.patch(f"/api/alerts/{before['id']}", {"enabled": True, "threshold": "x"}),
        status=400,
        code="invalid",
        field="threshold",
    )
    assert alice_api.get(f"/api/alerts/{before['id']}").json() == before


def test_someone_elses_alert_is_not_found_for_every_method(alice_api, bob_api, alice_paris):
    alert_id = create(alice_api, alice_paris).json()["id"]

    error_of(bob_api.get(f"/api/alerts/{alert_id}"), status=404, code="not_found")
    error_of(
        bob_api.patch(f"/api/alerts/{alert_id}", {"enabled": False}), status=404, code="not_found"
    )
    error_of(bob_api.delete(f"/api/alerts/{alert_id}"), status=404, code="not_found")
    assert bob_api.get("/api/alerts").json() == []
    assert Alert.objects.get(pk=alert_id).enabled is True


def test_delete_removes_the_alert(alice_api, alice_paris):
    alert_id = create(alice_api, alice_paris).json()["id"]
    assert alice_api.delete(f"/api/alerts/{alert_id}").status_code == 204
    assert not Alert.objects.exists()


def test_deleting_a_subscription_deletes_its_alerts(alice_api, alice_paris):
    create(alice_api, alice_paris)
    assert alice_api.delete(f"/api/subscriptions/{alice_paris.pk}").status_code == 204
    assert not Alert.objects.exists()


def test_alerts_need_authentication(client, alice_paris):
    assert client.get("/api/alerts").status_code == 401
    assert client.get("/api/alerts/events").status_code == 401


def test_events_are_paged_and_bad_paging_is_invalid(alice_api):
    body = alice_api.get("/api/alerts/events").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    error_of(
        alice_api.get("/api/alerts/events?per_page=7"), status=400, code="invalid", field="per_page"
    )


def test_the_export_has_alerts(alice_api, alice_paris):
    create(alice_api, alice_paris)
    export = alice_api.get("/api/me/export").json()
    assert len(export["alerts"]) == 1
    assert export["alert_events"] == []


def test_the_schema_documents_the_alert_paths(api):
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in ("/api/alerts", "/api/alerts/{alert_id}", "/api/alerts/events", "/api/push/key"):
        assert any(p.rstrip("/") == path for p in paths), sorted(paths)


def test_deleting_the_account_deletes_its_alerts_events_and_browsers(alice, alice_api, alice_paris):
    from notifications.evaluation import alerts_evaluate
    from notifications.models import AlertEvent, PushSubscription
    from tests.alerts.conftest import reading

    create(alice_api, alice_paris)
    reading(alice_paris.city, temperature=-3)
    alerts_evaluate(city_ids=[alice_paris.city_id])
    PushSubscription.objects.create(
        user=alice, endpoint="https://push.example.com/x", p256dh="k", auth="a"
    )

    response = alice_api.delete("/api/me", {"password": "correct horse battery"})

    assert response.status_code == 204, response.content
    assert not Alert.objects.exists()
    assert not AlertEvent.objects.exists()
    assert not PushSubscription.objects.exists()
