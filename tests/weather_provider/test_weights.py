"""Every kind of call pays its own weight from the shared budget (in Redis), and the budget's
text, windows and batch sizes come from one place."""

from __future__ import annotations

import pytest

from tests.weather_provider.conftest import replay
from weather_provider.base import CURRENT, CURRENT_AND_FORECAST, FORECAST, Location, ProviderError
from weather_provider.breaker import breaker_for
from weather_provider.limiter import (
    BudgetSpent,
    batch_size_for,
    batch_size_within,
    batches_weight,
    budget_for,
    provider_budget,
)
from weather_provider.retry import CallStats, provider_call

pytestmark = pytest.mark.services

PARIS_FR = Location(id=1, latitude=48.85341, longitude=2.3488)
PARIS_TX = Location(id="tx", latitude=33.66094, longitude=-95.55551)
PARIS_TN = Location(id=3, latitude=36.302, longitude=-88.32671)


@pytest.fixture
def budget(settings, open_meteo):
    """budget("600/minute") → Open-Meteo's shared budget under that text, empty, circuit closed."""
    made = []

    def make(text: str):
        settings.PROVIDER_RATE_LIMIT = text
        spent = budget_for(open_meteo)
        spent.reset()
        made.append(spent)
        return spent

    breaker_for(open_meteo.name).reset()
    yield make
    for spent in made:
        spent.reset()
    breaker_for(open_meteo.name).reset()


def test_the_budget_is_kept_in_redis(budget):
    assert budget("600/minute").client is not None


def test_a_forecast_pays_its_weight_from_every_window(mocked, open_meteo, budget):
    spent = budget("600/minute;5000/hour")
    replay(mocked, "open_meteo/hourly_daily_three")

    forecasts = provider_call(
        kind=FORECAST, provider=open_meteo, locations=[PARIS_FR, PARIS_TX, PARIS_TN], attempts=1
    )

    assert list(forecasts) == [1, "tx", 3]
    # Three locations of 18 variables: 5.4 calls at Open-Meteo, 6 taken.
    assert spent.used() == {"600 per 1 minute": 6, "5000 per 1 hour": 6}


def test_readings_pay_one_per_location(mocked, open_meteo, budget):
    spent = budget("600/minute")
    replay(mocked, "open_meteo/forecast_three")

    provider_call(
        kind=CURRENT, provider=open_meteo, locations=[PARIS_FR, PARIS_TX, PARIS_TN], attempts=1
    )

    assert spent.used() == {"600 per 1 minute": 3}


def test_both_at_once_are_one_call_paying_their_combined_weight(mocked, open_meteo, budget):
    spent = budget("600/minute")
    replay(mocked, "open_meteo/current_hourly_daily_two")
    stats = CallStats()

    readings, forecasts = provider_call(
        kind=CURRENT_AND_FORECAST,
        provider=open_meteo,
        locations=[PARIS_FR, PARIS_TX],
        attempts=1,
        stats=stats,
    )

    assert list(readings) == list(forecasts) == [1, "tx"]
    assert (stats.calls, len(mocked.calls)) == (1, 1)
    assert spent.used() == {"600 per 1 minute": 6}


def test_a_forecast_the_budget_cannot_pay_is_refused_without_a_call(mocked, open_meteo, budget):
    spent = budget("8/minute")
    assert spent.try_acquire(3) == 0

    with pytest.raises(BudgetSpent) as refused:
        provider_call(
            kind=FORECAST,
            provider=open_meteo,
            locations=[PARIS_FR, PARIS_TX, PARIS_TN],
            max_wait=0.2,
            attempts=1,
        )

    assert refused.value.retry_after > 50
    assert len(mocked.calls) == 0
    assert spent.used() == {"8 per 1 minute": 3}


def test_a_forecasts_retry_after_holds_everyone_back(mocked, open_meteo, budget):
    spent = budget("600/minute")
    replay(mocked, "open_meteo/forecast_429")

    with pytest.raises(ProviderError):
        provider_call(kind=FORECAST, provider=open_meteo, locations=[PARIS_FR], attempts=1)

    assert 20 < spent.paused_for() <= 23
    assert spent.used() == {"600 per 1 minute": 2}


def test_batches_are_cut_to_what_the_smallest_window_pays_for_each_kind(open_meteo, budget):
    spent = budget("5/minute;1000/day")

    assert batch_size_within(open_meteo, spent.windows) == 5
    assert batch_size_for(open_meteo, kind=CURRENT) == 5
    # Two forecasts weigh ceil(3.6) = 4, three weigh 6; both at once: one weighs 3, two 6.
    assert batch_size_for(open_meteo, kind=FORECAST) == 2
    assert batch_size_for(open_meteo, kind=CURRENT_AND_FORECAST) == 1


def test_the_weight_of_many_locations_adds_up_batch_by_batch(open_meteo):
    assert batches_weight(open_meteo, 250, batch_size=100) == 250
    assert batches_weight(open_meteo, 250, batch_size=100, kind=FORECAST) == 180 + 180 + 90
    assert batches_weight(open_meteo, 0, batch_size=100, kind=FORECAST) == 0


def test_the_budget_text_is_decided_in_one_place(open_meteo, budget, settings):
    spent = budget("")

    assert provider_budget(open_meteo) == open_meteo.budget == spent.text == open_meteo.rate_limit
    spent = budget(" 30/minute;500000/month ")
    assert provider_budget(open_meteo) == spent.text == "30/minute;500000/month"
    assert [window.amount for window in spent.windows] == [30, 500000]
