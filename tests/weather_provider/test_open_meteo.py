"""Open-Meteo against its recorded answers: geocoding, batched readings and every failure."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from responses import matchers

from tests.weather_provider.conftest import FAKE_OPEN_METEO_KEY, recording, replay
from weather_provider.base import CityNotFound, Location, Place, ProviderError, Reading
from weather_provider.open_meteo import (
    CUSTOMER_FORECAST_URL,
    CUSTOMER_GEOCODING_URL,
    FORECAST_URL,
    OpenMeteoProvider,
    coordinate,
    quota_wait,
)
from weather_provider.open_meteo_answers import hour_value

PARIS_FR = Location(id=1, latitude=48.85341, longitude=2.3488)
PARIS_TX = Location(id="tx", latitude=33.66094, longitude=-95.55551)
PARIS_TN = Location(id=3, latitude=36.302, longitude=-88.32671)
OBSERVED = dt.datetime(2026, 11, 23, 10, 15, tzinfo=dt.UTC)


def test_it_declares_its_batch_size_and_budget(open_meteo):
    assert open_meteo.name == "open-meteo"
    assert open_meteo.batch_size == 100
    assert open_meteo.rate_limit == "600/minute;5000/hour;10000/day"
    assert open_meteo.weight_per_location is True
    assert open_meteo.call_weight([PARIS_FR, PARIS_TX, PARIS_TN]) == 3


def test_search_offers_paris_fr_first_then_paris_tx(mocked, open_meteo):
    replay(mocked, "open_meteo/search_paris")

    places = open_meteo.search("Paris")

    assert [(p.country, p.admin1) for p in places] == [
        ("FR", "Île-de-France"),
        ("US", "Texas"),
        ("US", "Tennessee"),
        ("CA", ""),
    ]
    assert places[0] == Place(
        key="om:2988507",
        name="Paris",
        country="FR",
        admin1="Île-de-France",
        latitude=48.8534,
        longitude=2.3488,
        timezone="Europe/Paris",
        population=2138551,
    )
    assert places[3].population == 0


def test_search_sends_a_user_agent_and_a_timeout(mocked, open_meteo):
    call = replay(mocked, "open_meteo/search_paris")
    call.match.append(matchers.header_matcher({"User-Agent": "Skywatch/0.1"}))

    open_meteo.search("Paris")

    assert mocked.calls[0].request.req_kwargs["timeout"] == (3.05, 10.0)


def test_search_cuts_the_candidates_to_the_limit(mocked, open_meteo):
    call = replay(mocked, "open_meteo/search_paris")
    call.match = [matchers.query_param_matcher({"name": "Paris", "count": "2"}, strict_match=False)]

    assert len(open_meteo.search("Paris", limit=2)) == 2


def test_search_for_an_unknown_name_is_empty(mocked, open_meteo):
    replay(mocked, "open_meteo/search_unknown")

    assert open_meteo.search("Xyzzyqwv") == []


def test_search_for_a_blank_name_asks_nobody(mocked, open_meteo):
    assert open_meteo.search("   ") == []
    assert len(mocked.calls) == 0


def test_search_with_a_country_filters_on_it(mocked, open_meteo):
    call = replay(mocked, "open_meteo/search_paris")
    call.match = [
        matchers.query_param_matcher({"name": "Paris", "countryCode": "FR"}, strict_match=False)
    ]

    assert open_meteo.search("Paris, FR")[0].key == "om:2988507"


def test_search_with_a_state_asks_again_with_the_text_as_typed(mocked, open_meteo):
    first = replay(mocked, "open_meteo/search_unknown")
    first.match = [
        matchers.query_param_matcher({"name": "Paris", "countryCode": "TX"}, strict_match=False)
    ]
    second = replay(mocked, "open_meteo/search_paris")
    second.match = [matchers.query_param_matcher({"name": "Paris, TX"}, strict_match=False)]

    assert open_meteo.search("Paris, TX")


def test_lookup_finds_the_place_a_search_offered(mocked, open_meteo):
    replay(mocked, "open_meteo/get_paris")

    place = open_meteo.lookup("om:2988507")

    assert place.key == "om:2988507"
    assert (place.name, place.country, place.timezone) == ("Paris", "FR", "Europe/Paris")


def test_lookup_of_an_unknown_id_is_city_not_found(mocked, open_meteo):
    replay(mocked, "open_meteo/get_unknown")

    with pytest.raises(CityNotFound) as caught:
        open_meteo.lookup("om:99999999")

    assert caught.value.permanent is True


@pytest.mark.parametrize("key", ["gn:2988507", "om:", "om:paris", "om:0", "om:99999999999", "ow:1"])
def test_lookup_of_a_foreign_or_malformed_key_asks_nobody(mocked, open_meteo, key):
    with pytest.raises(CityNotFound):
        open_meteo.lookup(key)
    assert len(mocked.calls) == 0


def test_lookup_of_a_malformed_answer_is_transient(mocked, open_meteo):
    mocked.get(f"{open_meteo.geocoding_url}/get", json={"id": 2988507})

    with pytest.raises(ProviderError, match="unexpected shape") as caught:
        open_meteo.lookup("om:2988507")

    assert caught.value.permanent is False


def test_one_location_maps_every_field_of_a_reading(mocked, open_meteo):
    replay(mocked, "open_meteo/forecast_one")

    readings = open_meteo.current([PARIS_FR])

    assert readings == {
        1: Reading(
            observed_at=OBSERVED,
            temperature=7.4,
            feels_like=5.1,
            humidity=81,
            clouds=75,
            wind_speed=4.2,
            wind_direction=250,
            precipitation_probability=40,
            pressure=1012.4,
            condition="Light rain",
            icon="rain",
        )
    }
    assert readings[1].observed_at.tzinfo is dt.UTC


def test_several_locations_come_back_in_one_call_keyed_by_location_id(mocked, open_meteo):
    replay(mocked, "open_meteo/forecast_three")

    readings = open_meteo.current([PARIS_FR, PARIS_TX, PARIS_TN])

    assert len(mocked.calls) == 1
    assert list(readings) == [1, "tx", 3]
    assert (readings[1].temperature, readings[1].icon) == (7.4, "rain")
    assert (readings["tx"].temperature, readings["tx"].condition, readings["tx"].icon) == (
        18.9,
        "Clear sky",
        "clear",
    )
    assert readings["tx"].precipitation_probability == 0
    assert (readings[3].temperature, readings[3].icon, readings[3].wind_direction) == (
        -1.3,
        "snow",
        0,
    )
    assert readings[3].precipitation_probability == 85


def test_the_answer_order_follows_location_id_when_given(mocked, open_meteo):
    body = recording("open_meteo/forecast_three")["response"]["json"]
    body[0]["location_id"] = 0
    mocked.get(FORECAST_URL, json=[body[1], body[2], body[0]])

    readings = open_meteo.current([PARIS_FR, PARIS_TX, PARIS_TN])

    assert readings[1].temperature == 7.4
    assert readings["tx"].temperature == 18.9
    assert readings[3].temperature == -1.3


def test_a_location_without_values_is_left_out_not_invented(mocked, open_meteo):
    body = recording("open_meteo/forecast_three")["response"]["json"]
    body[1]["current"]["temperature_2m"] = None
    mocked.get(FORECAST_URL, json=body)

    readings = open_meteo.current([PARIS_FR, PARIS_TX, PARIS_TN])

    assert set(readings) == {1, 3}


def test_more_locations_than_a_batch_are_split_into_several_calls(mocked, open_meteo):
    locations = [Location(id=i, latitude=10 + i / 1000, longitude=20) for i in range(250)]
    body = recording("open_meteo/forecast_one")["response"]["json"]

    def answer(request):
        count = request.params["latitude"].count(",") + 1
        return 200, {}, json.dumps([body] * count)

    mocked.add_callback("GET", FORECAST_URL, callback=answer)

    readings = open_meteo.current(locations)

    assert len(readings) == 250
    sizes = [call.request.params["latitude"].count(",") + 1 for call in mocked.calls]
    assert sizes == [100, 100, 50]


def test_every_request_url_stays_under_eight_kilobytes(open_meteo):
    open_meteo.batch_size = 1000
    far = [Location(id=i, latitude=-89.123456, longitude=-179.123456) for i in range(1000)]

    chunks = list(open_meteo._chunks(far))

    assert sum(len(chunk) for chunk in chunks) == 1000
    for chunk in chunks:
        request = requests.Request(
            "GET",
            FORECAST_URL,
            params={
                "latitude": ",".join(coordinate(x.latitude) for x in chunk),
                "longitude": ",".join(coordinate(x.longitude) for x in chunk),
                "current": "x" * 200,
            },
        ).prepare()
        assert len(request.url) < 8000


def test_no_locations_means_no_call(mocked, open_meteo):
    assert open_meteo.current([]) == {}


def test_a_bad_request_is_permanent_and_says_why(mocked, open_meteo):
    replay(mocked, "open_meteo/error_400")

    with pytest.raises(ProviderError) as caught:
        open_meteo.current([PARIS_FR])

    assert caught.value.permanent is True
    assert "Latitude must be in range" in caught.value.message


def test_429_is_transient_and_waits_for_the_minute_window(mocked, open_meteo):
    replay(mocked, "open_meteo/error_429")

    with pytest.raises(ProviderError) as caught:
        open_meteo.current([PARIS_FR])

    assert caught.value.permanent is False
    assert caught.value.retry_after == 60.0
    assert "Minutely API request limit exceeded" in caught.value.message


def test_429_with_retry_after_uses_the_header(mocked, open_meteo):
    replay(mocked, "open_meteo/error_429", headers={"Retry-After": "42"})

    with pytest.raises(ProviderError) as caught:
        open_meteo.current([PARIS_FR])

    assert caught.value.retry_after == 42.0


def test_quota_wait_reads_the_window_from_the_reason():
    now = dt.datetime(2026, 11, 23, 10, 15, 30, tzinfo=dt.UTC)
    assert quota_wait("Minutely API request limit exceeded.", now) == 60.0
    assert quota_wait("Hourly API request limit exceeded.", now) == 2670.0
    assert (
        quota_wait("Daily API request limit exceeded. Please try again tomorrow.", now) == 49470.0
    )
    assert (
        quota_wait("Hourly API request limit exceeded.", now.replace(minute=59, second=50)) == 60.0
    )


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(mocked, open_meteo, status):
    mocked.get(FORECAST_URL, body="<html>Bad gateway</html>", status=status)

    with pytest.raises(ProviderError, match=f"HTTP {status}") as caught:
        open_meteo.current([PARIS_FR])

    assert caught.value.permanent is False


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
    ],
)
def test_timeouts_are_transient(mocked, open_meteo, failure):
    mocked.get(FORECAST_URL, body=failure)

    with pytest.raises(ProviderError, match="did not answer in time") as caught:
        open_meteo.current([PARIS_FR])

    assert caught.value.permanent is False


def test_an_unreachable_host_is_transient(mocked, open_meteo):
    mocked.get(FORECAST_URL, body=requests.exceptions.ConnectionError("Name or service unknown"))

    with pytest.raises(ProviderError, match="could not be reached") as caught:
        open_meteo.current([PARIS_FR])

    assert caught.value.permanent is False


def test_malformed_json_is_transient(mocked, open_meteo):
    mocked.get(FORECAST_URL, body='{"latitude": 48.86, "current": {', status=200)

    with pytest.raises(ProviderError, match="could not be read") as caught:
        open_meteo.current([PARIS_FR])

    assert caught.value.permanent is False


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"latitude": 48.86},
        [
            {
                "current": {
                    **recording("open_meteo/forecast_one")["response"]["json"]["current"],
                    "time": "soon",
                }
            }
        ],
        [{"location_id": 7, "current": {}}],
    ],
)
def test_an_answer_in_an_unexpected_shape_is_transient(mocked, open_meteo, body):
    mocked.get(FORECAST_URL, json=body)

    with pytest.raises(ProviderError, match="unexpected shape") as caught:
        open_meteo.current([PARIS_FR])

    assert caught.value.permanent is False


def test_a_search_answer_in_an_unexpected_shape_is_transient(mocked, open_meteo):
    mocked.get(f"{open_meteo.geocoding_url}/search", json=[1, 2])
    with pytest.raises(ProviderError, match="unexpected shape"):
        open_meteo.search("Paris")


def test_a_search_result_without_coordinates_is_transient(mocked, open_meteo):
    mocked.get(f"{open_meteo.geocoding_url}/search", json={"results": [{"id": 1, "name": "X"}]})
    with pytest.raises(ProviderError, match="unexpected shape"):
        open_meteo.search("Paris")


def test_another_client_error_is_permanent(mocked, open_meteo):
    mocked.get(FORECAST_URL, body="I'm a teapot", status=418)

    with pytest.raises(ProviderError, match="HTTP 418") as caught:
        open_meteo.current([PARIS_FR])

    assert caught.value.permanent is True


def test_the_current_hour_gives_the_chance_of_rain():
    hourly = {"time": [0, 3600, 7200], "precipitation_probability": [10, 20.4, None]}
    assert hour_value(hourly, "precipitation_probability", 3600 + 900) == 20
    assert hour_value(hourly, "precipitation_probability", 7300) is None
    assert hour_value(hourly, "precipitation_probability", -5) == 10
    assert hour_value({}, "precipitation_probability", 100) is None


def test_a_commercial_key_switches_to_the_customer_hosts(mocked):
    provider = OpenMeteoProvider(api_key=FAKE_OPEN_METEO_KEY)
    replay(mocked, "open_meteo/search_paris", url=f"{CUSTOMER_GEOCODING_URL}/search").match.append(
        matchers.query_param_matcher({"apikey": FAKE_OPEN_METEO_KEY}, strict_match=False)
    )
    replay(mocked, "open_meteo/forecast_one", url=CUSTOMER_FORECAST_URL).match.append(
        matchers.query_param_matcher({"apikey": FAKE_OPEN_METEO_KEY}, strict_match=False)
    )

    assert provider.search("Paris")
    assert provider.current([PARIS_FR])
    assert FAKE_OPEN_METEO_KEY not in repr(provider)
    provider.close()


def test_the_commercial_key_comes_from_settings(settings):
    settings.OPEN_METEO_API_KEY = FAKE_OPEN_METEO_KEY
    provider = OpenMeteoProvider()
    assert provider.commercial is True
    assert provider.forecast_url == CUSTOMER_FORECAST_URL
    provider.close()


def test_a_refused_commercial_key_is_permanent_and_not_repeated(mocked):
    provider = OpenMeteoProvider(api_key=FAKE_OPEN_METEO_KEY)
    mocked.get(
        CUSTOMER_FORECAST_URL,
        json={"error": True, "reason": f"API key {FAKE_OPEN_METEO_KEY} is invalid"},
        status=401,
    )

    with pytest.raises(ProviderError, match="OPEN_METEO_API_KEY") as caught:
        provider.current([PARIS_FR])

    assert caught.value.permanent is True
    assert FAKE_OPEN_METEO_KEY not in str(caught.value)
    provider.close()


def test_without_a_key_the_free_hosts_get_no_apikey(mocked, open_meteo):
    replay(mocked, "open_meteo/forecast_one")
    open_meteo.current([PARIS_FR])
    assert "apikey" not in mocked.calls[0].request.url
    assert repr(open_meteo) == "OpenMeteoProvider(commercial=False)"


def test_coordinates_are_sent_to_four_decimals_without_trailing_zeros():
    assert coordinate(2.35) == "2.35"
    assert coordinate(-95.555513) == "-95.5555"
    assert coordinate(10.0) == "10"
    assert coordinate(0.00001) == "0"
