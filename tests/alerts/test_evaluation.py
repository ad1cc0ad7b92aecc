"""Evaluation in the pipeline: edge-triggered, re-armed past the margin, a flat number of
queries a batch, one event per firing however often or concurrently a batch runs."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications.delivery import background_wait
from notifications.evaluation import alerts_evaluate
from notifications.models import AlertEvent
from subscriptions import refresh
from subscriptions.models import City
from tests.alerts.conftest import alert_on, forecast, reading
from tests.factories import CityFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db


def refresh_at(provider, city, temperature: float, *, forecasts: bool = False) -> None:
    provider.temperature = temperature
    cities = City.objects.filter(pk=city.pk)
    refresh.refresh_cities(cities, forecasts=cities if forecasts else cities.none())


def test_it_fires_once_stays_quiet_and_rearms_past_the_margin(tunable, alice_paris):
    alert = alert_on(alice_paris)
    states = []
    for temperature in (3, -0.5, -2, 0.5, 0.9, 1.0, -0.1):
        refresh_at(tunable, alice_paris.city, temperature)
        alert.refresh_from_db()
        states.append(alert.state)

    assert states == ["ok", "firing", "firing", "firing", "firing", "ok", "firing"]
    events = list(AlertEvent.objects.order_by("fired_at", "pk"))
    assert [e.value for e in events] == [-0.5, -0.1]
    assert [e.firing for e in events] == [1, 2]
    assert events[0].message.startswith("Paris, FR: temperature -0.5 °C at ")
    assert events[0].message.endswith(", below your 0 °C")


def test_the_margin_is_two_degrees_fahrenheit_for_imperial_users(tunable, alice, alice_paris):
    alice.units = "imperial"
    alice.save(update_fields=["units"])
    alert = alert_on(alice_paris, operator="above", threshold=30.0, typed_threshold=86.0)
    alert.typed_units = "imperial"
    alert.save()

    refresh_at(tunable, alice_paris.city, 31)  # 87.8 °F: fires
    refresh_at(tunable, alice_paris.city, 29.2)  # 84.56 °F: within 2 °F, still firing
    alert.refresh_from_db()
    assert alert.state == "firing"
    refresh_at(tunable, alice_paris.city, 28.8)  # 83.84 °F: re-armed
    alert.refresh_from_db()
    assert alert.state == "ok"
    assert "86 °F" in AlertEvent.objects.get().message


def test_a_forecast_rule_fires_for_the_first_hour_within_its_window(tunable, alice_paris):
    alert = alert_on(alice_paris, source="forecast", within_hours=12)
    tunable.hourly = [5.0] * 20 + [-3.0] * 28

    refresh_at(tunable, alice_paris.city, 5, forecasts=True)
    assert not AlertEvent.objects.exists()  # the frost is 20 hours away

    tunable.hourly = [5.0] * 6 + [-1.0, -4.0] + [5.0] * 40
    refresh_at(tunable, alice_paris.city, 5, forecasts=True)
    event = AlertEvent.objects.get()
    assert event.value == -1.0
    assert "expected at" in event.message
    alert.refresh_from_db()
    assert alert.state == "firing"


def test_paused_subscriptions_and_disabled_alerts_are_not_evaluated(tunable, alice, bob, paris):
    alert_on(SubscriptionFactory(user=alice, city=paris, paused=True))
    alert_on(SubscriptionFactory(user=bob, city=paris), enabled=False)

    refresh_at(tunable, paris, -5)

    assert not AlertEvent.objects.exists()


def test_a_batch_run_twice_stores_one_event(tunable, alice_paris):
    alert_on(alice_paris)
    reading(alice_paris.city, temperature=-3)

    with transaction.atomic():
        alerts_evaluate(city_ids=[alice_paris.city_id])
    with transaction.atomic():
        alerts_evaluate(city_ids=[alice_paris.city_id])

    assert AlertEvent.objects.count() == 1


def test_the_database_refuses_a_second_event_for_one_firing(tunable, alice_paris):
    alert_on(alice_paris)
    reading(alice_paris.city, temperature=-3)
    alerts_evaluate(city_ids=[alice_paris.city_id])
    event = AlertEvent.objects.get()

    event.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        event.save()


def world(cities: int, alerts_per_city: int) -> list[int]:
    ids = []
    for city in CityFactory.create_batch(cities):
        for i in range(alerts_per_city):
            subscription = SubscriptionFactory(user=UserFactory(), city=city)
            alert_on(subscription, source="forecast" if i % 2 else "now", within_hours=12)
        reading(city, temperature=-3)
        forecast(city, [{"temperature": -2.0}] * 24)
        ids.append(city.pk)
    return ids


def test_evaluation_costs_the_same_queries_for_6_or_60_alerts(tunable):
    small, large = world(3, 2), world(20, 3)

    with CaptureQueriesContext(connection) as few:
        alerts_evaluate(city_ids=small)
    with CaptureQueriesContext(connection) as many:
        alerts_evaluate(city_ids=large)

    assert AlertEvent.objects.count() == 66
    assert len(many.captured_queries) == len(few.captured_queries) <= 7, [
        q["sql"][:60] for q in many.captured_queries
    ]


def test_the_hourly_cap_limits_each_channel(tunable, settings, alice, paris):
    settings.ALERT_MAX_PER_HOUR = 1
    subscription = SubscriptionFactory(user=alice, city=paris)
    alert_on(subscription)
    alert_on(subscription, operator="above", threshold=-10.0, channels=["web"])
    reading(paris, temperature=-3)

    alerts_evaluate(city_ids=[paris.pk])

    events = list(AlertEvent.objects.order_by("pk"))
    assert len(events) == 2
    assert [(e.send_web, e.send_email) for e in events] == [(True, True), (False, False)]


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_running_one_batch_store_and_send_one_event(tunable, settings, alice, paris):
    settings.ALERT_DELIVERY = "thread"
    alert_on(SubscriptionFactory(user=alice, city=paris))
    tunable.temperature = -4
    tunable.rendezvous = threading.Barrier(2)  # both copies read before either stores
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            refresh.refresh_cities(City.objects.filter(pk=paris.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tunable.rendezvous = None
    refresh.refresh_cities(City.objects.filter(pk=paris.pk))  # and once more, later
    background_wait()

    assert errors == []
    assert AlertEvent.objects.count() == 1
    assert len(mail.outbox) == 1
    assert AlertEvent.objects.get().emailed_at is not None
