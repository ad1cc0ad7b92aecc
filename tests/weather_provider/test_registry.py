"""The one provider factory: names, shared instances, budgets and clear refusals."""

from __future__ import annotations

import pytest

from weather_provider.base import ProviderError
from weather_provider.open_meteo import OpenMeteoProvider
from weather_provider.openweather import OpenWeatherProvider
from weather_provider.random import RandomProvider
from weather_provider.registry import PROVIDERS, get_provider, provider_names, reset_providers


def test_every_provider_of_the_contract_is_registered():
    assert provider_names() == ["open-meteo", "openweather", "random"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("open-meteo", OpenMeteoProvider),
        ("openweather", OpenWeatherProvider),
        ("random", RandomProvider),
    ],
)
def test_weather_provider_picks_the_provider(settings, name, kind):
    settings.WEATHER_PROVIDER = name
    provider = get_provider()
    assert isinstance(provider, kind)
    assert provider.name == name


def test_an_unknown_name_is_a_clear_value_error():
    with pytest.raises(ValueError, match="Unknown WEATHER_PROVIDER 'openmeteo'") as caught:
        get_provider("openmeteo")
    assert "open-meteo, openweather, random" in str(caught.value)


def test_one_instance_is_shared_until_reset():
    first = get_provider("open-meteo")
    assert get_provider("open-meteo") is first
    reset_providers()
    assert get_provider("open-meteo") is not first


def test_reset_closes_the_http_sessions():
    provider = get_provider("open-meteo")
    closed = []
    provider.http.session.close = lambda: closed.append(True)
    reset_providers()
    assert closed == [True]


def test_openweather_without_a_key_is_built_but_refuses_with_how_to(settings):
    settings.OPENWEATHER_API_KEY = ""
    settings.OPENWEATHER_API_KEY_FILE = ""
    provider = get_provider("openweather")
    with pytest.raises(ProviderError, match="set OPENWEATHER_API_KEY") as caught:
        provider.search("Paris")
    assert caught.value.permanent is True


@pytest.mark.parametrize(
    ("name", "budget"),
    [
        ("open-meteo", "600/minute;5000/hour;10000/day"),
        ("openweather", "60/minute;1000000/month"),
    ],
)
def test_the_budget_is_the_free_tier_by_default(settings, name, budget):
    settings.PROVIDER_RATE_LIMIT = ""
    assert get_provider(name).budget == budget


def test_provider_rate_limit_overrides_the_budget(settings):
    settings.PROVIDER_RATE_LIMIT = " 30/minute;500000/month "
    assert get_provider("openweather").budget == "30/minute;500000/month"
    assert get_provider("random").budget == "30/minute;500000/month"


def test_the_registry_names_only_importable_classes():
    for name in PROVIDERS:
        assert get_provider(name).name == name
