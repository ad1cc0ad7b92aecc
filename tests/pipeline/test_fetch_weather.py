"""`manage.py fetch_weather [--city NAME]`: the same pipeline, a progress bar and a summary."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from subscriptions.models import City
from weather_provider import ProviderError

pytestmark = pytest.mark.django_db


def fetch_weather(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("fetch_weather", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_refreshes_every_followed_city_and_prints_a_summary(use_provider, follow):
    provider = use_provider("counting", batch_size=2)
    cities = follow(3)

    out, _ = fetch_weather()

    assert "Provider counting, budget 6000/minute" in out
    assert "3 cities, 2 calls, 0 failures, " in out
    assert out.strip().endswith("seconds")
    assert sorted(provider.counter.cities) == sorted(city.pk for city in cities)


def test_it_refreshes_every_city_even_beyond_a_stretched_cycle(use_provider, follow, refresh_every):
    refresh_every(60)
    provider = use_provider("counting", budget="3/minute;100/day", batch_size=1)
    follow(3)
    provider.counter.budget = "3/minute"

    out, _ = fetch_weather()

    assert "3 cities, 3 calls, 0 failures" in out
    assert provider.counter.refused == []


def test_one_city_by_name_is_refreshed_even_when_nobody_follows_it(counting):
    out, _ = fetch_weather("--city", "London, GB")

    london = City.objects.get(name="London", country="GB")
    assert "London, GB: followed by 0 people (refreshed on request all the same)" in out
    assert "1 city, 1 call, 0 failures" in out
    assert counting.counter.cities == [london.pk]
    london.refresh_from_db()
    assert london.latest is not None


def test_an_unknown_city_is_refused_clearly(counting):
    with pytest.raises(CommandError, match="No city called “Xyzzyqwv” was found"):
        fetch_weather("--city", "Xyzzyqwv")

    assert counting.calls == []


def test_failures_are_counted_and_end_in_an_error(counting, follow):
    follow(1)
    counting.failures = [ProviderError("The API key was refused.", permanent=True)]
    out = StringIO()

    with pytest.raises(CommandError, match="The API key was refused"):
        call_command("fetch_weather", stdout=out, stderr=StringIO())

    assert "1 city, 1 call, 1 failure," in out.getvalue()
