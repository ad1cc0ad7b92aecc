"""Forecasts through the refresh pipeline: due ones fetched after the readings, under the same
budget, deduplicated, idempotent, pushed once per user per batch."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from subscriptions import events as subscription_events
from subscriptions import planning, refresh
from subscriptions.models import Forecast
from subscriptions.tasks import city_batch_refresh_task
from weather_provider import CURRENT, CURRENT_AND_FORECAST, FORECAST

pytestmark = pytest.mark.django_db


@pytest.fixture
def forecasting(settings):
    settings.FORECAST_REFRESH_SECONDS = 3600


@pytest.fixture
def published(monkeypatch):
    calls: list[list[int]] = []
    monkeypatch.setattr(
        subscription_events, "forecasts_publish", lambda ids: calls.append(sorted(ids))
    )
    return calls


def test_a_cycle_fetches_each_followed_city_forecast_once_then_waits_for_the_interval(
    counting, follow, forecasting, alice, django_capture_on_commit_callbacks, published
):
    cities = follow(3)
    follow(1, user=alice)  # another city, and a second follower for nothing

    with django_capture_on_commit_callbacks(execute=True):
        first = refresh.refresh_followed_cities()
    second = refresh.refresh_followed_cities()

    assert (first.forecasts, first.forecasts_stored) == (4, 4)
    assert (second.forecasts, second.forecasts_stored) == (0, 0)
    assert Forecast.objects.filter(city__in=cities).count() == 3
    assert published == [sorted(Forecast.objects.values_list("city", flat=True))]


def test_readings_go_before_forecasts_and_a_spent_budget_defers_only_forecasts(
    use_provider, follow, forecasting
):
    provider = use_provider("counting", budget="2/minute", batch_size=1)
    follow(2)

    summary = refresh.refresh_cities(
        list(planning.followed_cities()), forecasts=list(planning.followed_cities())
    )

    assert (summary.stored, summary.deferred) == (2, 0)
    assert (summary.forecasts_stored, summary.forecasts_deferred) == (0, 2)
    assert len(provider.calls) == 2


def test_one_call_fetches_reading_and_forecast_where_the_provider_charges_less(
    use_provider, follow, forecasting
):
    provider = use_provider("combined")
    cities = follow(3)

    summary = refresh.refresh_followed_cities()

    assert provider.kinds == [CURRENT_AND_FORECAST]
    assert (summary.stored, summary.forecasts_stored, summary.calls) == (3, 3, 1)
    assert sum(call.weight for call in provider.counter.calls) == 12  # not 6 + 9
    assert Forecast.objects.filter(city__in=cities).count() == 3


def test_without_a_saving_readings_and_forecasts_are_separate_calls(counting, follow, forecasting):
    follow(2)

    summary = refresh.refresh_followed_cities()

    assert (summary.stored, summary.forecasts_stored, summary.calls) == (2, 2, 2)


def test_a_tight_budget_stretches_the_forecast_interval_and_says_so(use_provider, follow, settings):
    settings.FORECAST_REFRESH_SECONDS = 600
    use_provider("counting", budget="12/hour", batch_size=1)
    follow(2)

    plan = planning.refresh_plan(followed=2, interval=300)
    status = planning.refresh_status()

    # 12 calls an hour pay for 1 each 5-minute cycle: the readings take it, forecasts get one
    # city a cycle at the least, so each comes round every 600 s... and readings stretch too.
    assert plan.forecasts_per_cycle == 1
    assert plan.effective_forecast_interval_seconds >= 600
    assert status["forecast_interval_seconds"] == 600
    assert "effective_forecast_interval_seconds" in status
    assert status["forecast_stretched"] == plan.forecast_stretched


def test_forecasts_can_be_turned_off(counting, follow, settings):
    settings.FORECAST_REFRESH_SECONDS = 0
    follow(2)

    summary = refresh.refresh_followed_cities()

    assert (summary.forecasts, summary.calls) == (0, 1)
    assert planning.refresh_plan(followed=2).forecasts_per_cycle == 0


def test_the_beat_fan_out_queues_forecast_batches_and_a_task_run_twice_fetches_once(
    counting, follow, forecasting
):
    cities = follow(2)
    queued: list = []

    refresh.refresh_fan_out(enqueue=lambda *task: queued.append(task))
    kinds = [kind for _, _, kind in queued]
    assert kinds == [CURRENT, FORECAST]
    for city_ids, enqueued_at, kind in queued * 2:
        city_batch_refresh_task.apply(args=(city_ids, enqueued_at, kind))

    assert Forecast.objects.filter(city__in=cities).count() == 2
    assert len(counting.calls) == 2  # one reading call, one forecast call: the copies skip


def test_a_failed_forecast_keeps_the_previous_one_and_does_not_make_the_card_stale(
    counting, follow, forecasting
):
    (city,) = follow(1)
    refresh.refresh_followed_cities()
    kept = Forecast.objects.get(city=city).issued_at

    def broken(locations):
        from weather_provider import ProviderError

        raise ProviderError("HTTP 500.")

    counting.forecast = broken
    summary = refresh.refresh_cities([], forecasts=[city], attempts=1)

    city.refresh_from_db()
    assert summary.forecast_failures == 1
    assert not city.stale
    assert Forecast.objects.get(city=city).issued_at == kept


def test_fetch_weather_forecast_refreshes_every_followed_forecast_now(
    counting, follow, forecasting, capsys
):
    cities = follow(2)
    Forecast.objects.all().delete()

    call_command("fetch_weather", "--forecast", verbosity=0)

    assert "2 forecasts" in capsys.readouterr().out
    assert Forecast.objects.filter(city__in=cities).count() == 2


def test_a_forecast_batch_is_pushed_once_per_follower_in_a_fixed_number_of_queries(
    counting, follow, forecasting, alice, monkeypatch
):
    for size in (1, 15):
        cities = follow(size, user=alice)
        refresh.refresh_cities([], forecasts=cities)
        sent: list = []
        monkeypatch.setattr(subscription_events, "notify_each", sent.extend)
        with CaptureQueriesContext(connection) as queries:
            subscription_events.forecasts_publish([city.pk for city in cities])
        assert len(queries) == 1
        ((user_id, event),) = sent
        assert user_id == alice.pk
        assert event["type"] == "forecast"
        assert len(event["updates"]) == size


def test_a_stored_forecast_shows_48_hours_from_now_and_7_days(counting, follow, forecasting):
    from subscriptions.forecasts import forecast_as_dict

    (city,) = follow(1)
    refresh.refresh_cities([], forecasts=[city])
    now = timezone.now()

    shown = forecast_as_dict(Forecast.objects.get(city=city), units="imperial", now=now)

    first = shown["hourly"][0]["time"]
    assert first <= now.isoformat()[:19] + "Z"
    assert len(shown["hourly"]) >= 48
    assert len(shown["daily"]) == 7
    assert shown["units"] == "imperial"
