"""When the budget cannot pay for every city every interval, the interval stretches, stalest first."""

from __future__ import annotations

import pytest

from subscriptions import planning, refresh
from subscriptions.models import City
from tests.factories import hours_ago

pytestmark = pytest.mark.django_db


def plan(use_provider, *, budget: str, batch: int, weighted: bool, followed: int, interval: int):
    provider = use_provider("counting", budget=budget, batch_size=batch)
    provider.weight_per_location = weighted
    return planning.refresh_plan(followed=followed, provider=provider, interval=interval)


def test_openweather_free_key_refreshes_100_cities_every_5_minutes_unstretched(use_provider):
    result = plan(
        use_provider,
        budget="60/minute;1000000/month",
        batch=1,
        weighted=False,
        followed=100,
        interval=300,
    )

    assert (result.per_cycle, result.calls_per_cycle) == (100, 100)
    assert result.effective_interval_seconds == 300
    assert not result.stretched


def test_100_cities_every_minute_at_60_a_minute_stretch_to_100_seconds(use_provider):
    result = plan(
        use_provider, budget="60/minute", batch=1, weighted=False, followed=100, interval=60
    )

    assert result.effective_interval_seconds == 100
    assert result.per_cycle == 60


def test_open_meteo_daily_limit_stretches_600_cities_to_every_86_minutes(use_provider):
    result = plan(
        use_provider,
        budget="600/minute;5000/hour;10000/day",
        batch=100,
        weighted=True,
        followed=600,
        interval=300,
    )

    # 600 locations * 86,400 s / 10,000 a day = 5,184 s; 10,000 * 300 / 86,400 = 34 a cycle.
    assert result.effective_interval_seconds == 5184
    assert result.per_cycle == 34
    assert result.stretched


def test_a_batched_unweighted_provider_counts_calls_not_cities(use_provider):
    result = plan(
        use_provider, budget="10/day", batch=100, weighted=False, followed=1000, interval=3600
    )

    # 10 calls a cycle * 86,400 / 10 = 86,400 s; one call (100 cities) fits each hour's share.
    assert result.effective_interval_seconds == 86400
    assert result.per_cycle == 100


def test_a_stretched_cycle_refreshes_only_the_stalest_cities_that_fit(
    use_provider, follow, refresh_every
):
    refresh_every(60)
    provider = use_provider("counting", budget="3/minute", batch_size=1)
    cities = follow(5)
    for age, city in enumerate(cities):
        City.objects.filter(pk=city.pk).update(last_refreshed_at=hours_ago(age + 1))
    stalest = [city.pk for city in reversed(cities)][:3]

    summary = refresh.refresh_followed_cities()

    assert provider.counter.cities == stalest
    assert summary.cities == 3
    status = planning.refresh_status()
    assert status["interval_seconds"] == 60
    assert status["effective_interval_seconds"] == 100
    assert status["cities_per_cycle"] == 3
    assert status["stretched"] is True


def test_the_city_admin_shows_the_effective_interval(
    admin_client, use_provider, follow, refresh_every
):
    refresh_every(60)
    use_provider("counting", budget="3/minute", batch_size=1)
    follow(5)

    response = admin_client.get("/admin/subscriptions/city/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "effective every <strong>100 s</strong>" in text
    assert "the budget pays for 3 stalest cities a cycle" in text
