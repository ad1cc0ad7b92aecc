"""OpenWeather against its recorded answers: geocoding, one call per city and every failure."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import requests
from responses import matchers

from tests.weather_provider.conftest import FAKE_OPENWEATHER_KEY, recording, replay
from weather_provider.base import CityNotFound, Location, Place, ProviderError, Reading
from weather_provider.openweather import (
    API_URL,
    OpenWeatherProvider,
    openweather_icon,
    parse_key,
    place_key,
)

WEATHER_URL = f"{API_URL}/data/2.5/weather"
DIRECT_URL = f"{API_URL}/geo/1.0/direct"
REVERSE_URL = f"{API_URL}/geo/1.0/reverse"
PARIS_FR = Location(id=1, latitude=48.8589, longitude=2.32)
PARIS_TX = Location(id="tx", latitude=33.6618, longitude=-95.5555)


def test_it_declares_one_city_per_call_and_its_budget(openweather):
    assert openweather.name == "openweather"
    assert openweather.batch_size == 1
    assert openweather.rate_limit == "60/minute;1000000/month"
    assert openweather.call_weight([PARIS_FR]) == 1


def test_search_offers_paris_fr_and_paris_tx_once_each(mocked, openweather):
    replay(mocked, "openweather/direct_paris")

    places = openweather.search("Paris")

    assert [(p.name, p.country, p.admin1) for p in places] == [
        ("Paris", "FR", "Ile-de-France"),
        ("Paris", "US", "Texas"),
        ("Paris", "US", "Tennessee"),
    ]
    assert places[0] == Place(
        key="ow:48.8589,2.3200,FR,Paris",
        name="Paris",
        country="FR",
        admin1="Ile-de-France",
        latitude=48.8589,
        longitude=2.32,
    )


def test_search_sends_the_key_a_user_agent_and_a_timeout(mocked, openweather):
    call = replay(mocked, "openweather/direct_paris")
    call.match += [
        matchers.query_param_matcher({"appid": FAKE_OPENWEATHER_KEY}, strict_match=False),
        matchers.header_matcher({"User-Agent": "Skywatch/0.1"}),
    ]

    openweather.search("Paris")

    assert mocked.calls[0].request.req_kwargs["timeout"] == (3.05, 10.0)


def test_search_asks_for_at_most_five_candidates(mocked, openweather):
    replay(mocked, "openweather/direct_paris")
    assert len(openweather.search("Paris", limit=10)) == 3


def test_search_cuts_the_candidates_to_the_limit(mocked, openweather):
    call = replay(mocked, "openweather/direct_paris")
    call.match = [matchers.query_param_matcher({"q": "Paris", "limit": "2"}, strict_match=False)]
    assert len(openweather.search("Paris", limit=2)) == 2


def test_search_for_an_unknown_name_is_empty(mocked, openweather):
    replay(mocked, "openweather/direct_unknown")
    assert openweather.search("Xyzzyqwv") == []


def test_search_for_a_blank_name_asks_nobody(mocked, openweather):
    assert openweather.search("  ") == []
    assert len(mocked.calls) == 0


def test_a_404_while_geocoding_is_city_not_found(mocked, openweather):
    replay(mocked, "openweather/error_404", url=DIRECT_URL)

    with pytest.raises(CityNotFound) as caught:
        openweather.search("Atlantis")

    assert caught.value.permanent is True
    assert "Atlantis" in caught.value.message


def test_a_search_answer_in_an_unexpected_shape_is_transient(mocked, openweather):
    mocked.get(DIRECT_URL, json={"cod": 200})
    with pytest.raises(ProviderError, match="unexpected shape") as caught:
        openweather.search("Paris")
    assert caught.value.permanent is False


def test_a_search_result_without_coordinates_is_transient(mocked, openweather):
    mocked.get(DIRECT_URL, json=[{"name": "Paris", "country": "FR"}])
    with pytest.raises(ProviderError, match="unexpected shape"):
        openweather.search("Paris")


def test_lookup_confirms_the_key_by_reverse_geocoding(mocked, openweather):
    replay(mocked, "openweather/reverse_paris")

    place = openweather.lookup("ow:48.8589,2.3200,FR,Paris")

    assert place == Place(
        key="ow:48.8589,2.3200,FR,Paris",
        name="Paris",
        country="FR",
        admin1="Ile-de-France",
        latitude=48.8589,
        longitude=2.32,
    )


def test_lookup_falls_back_to_the_name_when_reverse_geocoding_names_the_county(mocked, openweather):
    replay(mocked, "openweather/reverse_paris_tx")
    replay(mocked, "openweather/direct_paris_us")

    place = openweather.lookup("ow:33.6618,-95.5555,US,Paris")

    assert (place.name, place.country, place.admin1) == ("Paris", "US", "Texas")
    assert place.key == "ow:33.6618,-95.5555,US,Paris"


def test_lookup_of_a_made_up_place_is_city_not_found(mocked, openweather):
    replay(mocked, "openweather/reverse_paris")
    call = replay(mocked, "openweather/direct_unknown")
    call.match = [matchers.query_param_matcher({"q": "Atlantis,FR"}, strict_match=False)]

    with pytest.raises(CityNotFound):
        openweather.lookup("ow:48.8589,2.3200,FR,Atlantis")


def test_lookup_refuses_a_namesake_far_from_the_key(mocked, openweather):
    mocked.get(REVERSE_URL, json=[])
    replay(mocked, "openweather/direct_paris_us")

    with pytest.raises(CityNotFound):
        openweather.lookup("ow:40.0000,-100.0000,US,Paris")


@pytest.mark.parametrize(
    "key",
    [
        "om:2988507",
        "ow:",
        "ow:48.8,2.3,FR",
        "ow:north,2.3,FR,Paris",
        "ow:91,2.3,FR,Paris",
        "ow:48.8,2.3,FR, ",
    ],
)
def test_lookup_of_a_foreign_or_malformed_key_asks_nobody(mocked, openweather, key):
    with pytest.raises(CityNotFound):
        openweather.lookup(key)
    assert len(mocked.calls) == 0


def test_keys_round_trip():
    key = place_key(-33.86787, 151.20732, "AU", "Sydney, City of")
    assert key == "ow:-33.8679,151.2073,AU,Sydney, City of"
    assert parse_key(key) == (-33.8679, 151.2073, "AU", "Sydney, City of")


def test_one_location_maps_every_field_of_a_reading(mocked, openweather):
    replay(mocked, "openweather/weather_paris")

    readings = openweather.current([PARIS_FR])

    assert readings == {
        1: Reading(
            observed_at=dt.datetime(2026, 11, 23, 9, 58, 12, tzinfo=dt.UTC),
            temperature=7.4,
            feels_like=5.1,
            humidity=81,
            clouds=75,
            wind_speed=4.1,
            wind_direction=250,
            precipitation_probability=None,
            pressure=1012.0,
            condition="Light rain",
            icon="rain",
        )
    }


def test_several_locations_are_one_call_each_in_order(mocked, openweather):
    replay(mocked, "openweather/weather_paris")
    replay(mocked, "openweather/weather_paris_tx")

    readings = openweather.current([PARIS_FR, PARIS_TX])

    assert list(readings) == [1, "tx"]
    assert len(mocked.calls) == 2
    assert openweather.call_weight([PARIS_FR, PARIS_TX]) == 2
    calm = readings["tx"]
    assert (calm.condition, calm.icon, calm.wind_speed, calm.wind_direction) == (
        "Few clouds",
        "partly-cloudy",
        0.0,
        0,
    )


def test_a_refused_key_is_permanent_and_says_so(mocked, openweather):
    replay(mocked, "openweather/error_401")

    with pytest.raises(ProviderError) as caught:
        openweather.current([PARIS_FR])

    assert caught.value.permanent is True
    assert caught.value.message.startswith("The OpenWeather API key was refused")


def test_a_refused_key_while_geocoding_is_permanent(mocked, openweather):
    replay(mocked, "openweather/error_401", url=DIRECT_URL)

    with pytest.raises(ProviderError, match="key was refused") as caught:
        openweather.search("Paris")

    assert not isinstance(caught.value, CityNotFound)


def test_429_is_transient_and_carries_retry_after(mocked, openweather):
    replay(mocked, "openweather/error_429")

    with pytest.raises(ProviderError) as caught:
        openweather.current([PARIS_FR])

    assert caught.value.permanent is False
    assert caught.value.retry_after == 17.0


def test_429_without_retry_after_waits_a_minute(mocked, openweather):
    body = recording("openweather/error_429")["response"]["json"]
    mocked.get(WEATHER_URL, json=body, status=429)

    with pytest.raises(ProviderError) as caught:
        openweather.current([PARIS_FR])

    assert caught.value.retry_after == 60.0


def test_429_with_an_http_date_counts_the_seconds_left(mocked, openweather):
    mocked.get(WEATHER_URL, status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})

    with pytest.raises(ProviderError) as caught:
        openweather.current([PARIS_FR])

    assert caught.value.retry_after == 0.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(mocked, openweather, status):
    replay(mocked, "openweather/error_500", status=status)

    with pytest.raises(ProviderError, match=f"HTTP {status}") as caught:
        openweather.current([PARIS_FR])

    assert caught.value.permanent is False


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
    ],
)
def test_timeouts_are_transient(mocked, openweather, failure):
    mocked.get(WEATHER_URL, body=failure)

    with pytest.raises(ProviderError, match="did not answer in time") as caught:
        openweather.current([PARIS_FR])

    assert caught.value.permanent is False


def test_another_request_failure_is_transient(mocked, openweather):
    mocked.get(WEATHER_URL, body=requests.exceptions.TooManyRedirects("loop"))

    with pytest.raises(ProviderError, match="request to OpenWeather failed") as caught:
        openweather.current([PARIS_FR])

    assert caught.value.permanent is False


def test_malformed_json_is_transient(mocked, openweather):
    mocked.get(WEATHER_URL, body="<html><body>upstream connect error</body></html>")

    with pytest.raises(ProviderError, match="could not be read") as caught:
        openweather.current([PARIS_FR])

    assert caught.value.permanent is False


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"cod": 200},
        {"main": {"temp": 1}, "dt": 1795427892},
        {"main": {"temp": "warm", "feels_like": 1, "humidity": 1, "pressure": 1}, "dt": 1},
    ],
)
def test_an_answer_in_an_unexpected_shape_is_transient(mocked, openweather, body):
    mocked.get(WEATHER_URL, json=body)

    with pytest.raises(ProviderError, match="unexpected shape") as caught:
        openweather.current([PARIS_FR])

    assert caught.value.permanent is False


def test_another_client_error_is_permanent_with_openweathers_reason(mocked, openweather):
    mocked.get(WEATHER_URL, json={"cod": "400", "message": "wrong latitude"}, status=400)

    with pytest.raises(ProviderError, match="HTTP 400: wrong latitude") as caught:
        openweather.current([PARIS_FR])

    assert caught.value.permanent is True


def test_a_404_for_coordinates_is_permanent(mocked, openweather):
    mocked.get(WEATHER_URL, body="not found", status=404)

    with pytest.raises(ProviderError, match="HTTP 404") as caught:
        openweather.current([PARIS_FR])

    assert caught.value.permanent is True
    assert not isinstance(caught.value, CityNotFound)


@pytest.mark.parametrize(
    ("code", "icon"),
    [
        (200, "thunderstorm"),
        (232, "thunderstorm"),
        (301, "drizzle"),
        (500, "rain"),
        (511, "rain"),
        (531, "rain"),
        (600, "snow"),
        (616, "snow"),
        (701, "fog"),
        (741, "fog"),
        (771, "cloudy"),
        (781, "thunderstorm"),
        (800, "clear"),
        (801, "partly-cloudy"),
        (802, "partly-cloudy"),
        (803, "cloudy"),
        (804, "cloudy"),
        (999, "cloudy"),
    ],
)
def test_condition_codes_map_onto_the_dashboard_icons(code, icon):
    assert openweather_icon(code) == icon


def test_a_missing_key_is_a_permanent_error_that_says_how_to_set_it(mocked, settings):
    settings.OPENWEATHER_API_KEY = ""
    settings.OPENWEATHER_API_KEY_FILE = ""
    provider = OpenWeatherProvider()

    for call in (
        lambda: provider.search("Paris"),
        lambda: provider.lookup("ow:48.8589,2.3200,FR,Paris"),
        lambda: provider.current([PARIS_FR]),
    ):
        with pytest.raises(ProviderError) as caught:
            call()
        assert caught.value.permanent is True
        assert "OPENWEATHER_API_KEY" in caught.value.message
        assert "OPENWEATHER_API_KEY_FILE" in caught.value.message
    assert len(mocked.calls) == 0
    provider.close()


def test_an_empty_key_is_a_missing_key(mocked):
    provider = OpenWeatherProvider(api_key="")
    with pytest.raises(ProviderError, match="needs an API key"):
        provider.search("Paris")
    provider.close()


def test_the_key_comes_from_settings(mocked, settings):
    settings.OPENWEATHER_API_KEY = FAKE_OPENWEATHER_KEY
    provider = OpenWeatherProvider()
    call = replay(mocked, "openweather/direct_unknown")
    call.match.append(
        matchers.query_param_matcher({"appid": FAKE_OPENWEATHER_KEY}, strict_match=False)
    )

    assert provider.search("Xyzzyqwv") == []
    provider.close()


def test_the_key_comes_from_a_mounted_file(mocked, settings, tmp_path):
    key_file = tmp_path / "openweather-api-key"
    key_file.write_text(f"{FAKE_OPENWEATHER_KEY}\n")
    settings.OPENWEATHER_API_KEY = ""
    settings.OPENWEATHER_API_KEY_FILE = str(key_file)
    provider = OpenWeatherProvider()
    call = replay(mocked, "openweather/direct_unknown")
    call.match.append(
        matchers.query_param_matcher({"appid": FAKE_OPENWEATHER_KEY}, strict_match=False)
    )

    assert provider.search("Xyzzyqwv") == []
    provider.close()


def test_a_rotated_key_file_is_used_without_a_restart(mocked, settings, tmp_path):
    key_file = tmp_path / "openweather-api-key"
    key_file.write_text("the-old-key-0000000000")
    settings.OPENWEATHER_API_KEY = ""
    settings.OPENWEATHER_API_KEY_FILE = str(key_file)
    provider = OpenWeatherProvider()
    for key in ("the-old-key-0000000000", "the-new-key-1111111111"):
        call = replay(mocked, "openweather/direct_unknown")
        call.match.append(matchers.query_param_matcher({"appid": key}, strict_match=False))

    provider.search("Xyzzyqwv")
    key_file.write_text("the-new-key-1111111111")
    stamp = key_file.stat().st_mtime_ns + 1_000_000_000
    os.utime(key_file, ns=(stamp, stamp))
    provider.search("Xyzzyqwv")

    assert len(mocked.calls) == 2
    provider.close()
