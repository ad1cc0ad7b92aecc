"""The city page: only for a follower, filters, a clear message for a bad date, escaped names."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import CityFactory, SubscriptionFactory
from tests.history.conftest import at, put_readings


def chart_data(response) -> list[dict]:
    content = response.content.decode()
    blocks = re.findall(r'<script type="application/json">(.*?)</script>', content, re.S)
    return [json.loads(block) for block in blocks]


def test_a_follower_sees_the_chart_of_their_city(alice_client, oslo):
    put_readings(oslo, [at("2026-03-01 10:00"), at("2026-03-01 11:00")])
    response = alice_client.get(f"/cities/{oslo.pk}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in content
    assert "Oslo, NO" in content
    # Three charts of stored readings, and the forecast's.
    assert content.count("<canvas") == 4
    assert content.count("data-forecast-chart") == 1
    assert "vendor/chartjs/chart.umd.min.js" in content
    assert 'type="module" src="/static/js/city_chart.js"' in content
    (data,) = chart_data(response)
    assert data["city_id"] == oslo.pk
    assert data["bucket"] == "raw"
    assert data["live"] is True
    assert len(data["time"]) == 2
    assert data["series"]["temperature"]["value"] == [10.0, 10.0]
    assert 'data-testid="summary-table"' in content
    assert "2 readings from" in content


def test_the_chart_is_in_the_units_of_the_person(alice, alice_client, oslo):
    alice.units = "imperial"
    alice.save()
    put_readings(oslo, [at("2026-03-01 10:00")], temperature=lambda i, moment: 100.0)
    (data,) = chart_data(alice_client.get(f"/cities/{oslo.pk}/"))
    assert data["series"]["temperature"]["value"] == [212.0]
    assert data["units"] == "imperial"


def test_a_paused_city_is_still_followed(alice, alice_client):
    city = CityFactory()
    SubscriptionFactory(user=alice, city=city, paused=True)
    assert alice_client.get(f"/cities/{city.pk}/").status_code == 200


def test_someone_elses_city_is_not_found(alice_client, lima):
    put_readings(lima, [at("2026-03-01 10:00")])
    response = alice_client.get(f"/cities/{lima.pk}/")
    assert response.status_code == 404
    assert b"Lima" not in response.content


def test_a_city_nobody_i_know_follows_is_not_found(alice_client, db):
    city = CityFactory()
    assert alice_client.get(f"/cities/{city.pk}/").status_code == 404


@pytest.mark.parametrize("city_id", ["999999", "99999999999999999999999"])
def test_a_city_that_does_not_exist_is_not_found(alice_client, city_id):
    assert alice_client.get(f"/cities/{city_id}/").status_code == 404


def test_the_city_page_needs_a_login(client, oslo):
    response = client.get(f"/cities/{oslo.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_date_filter_narrows_the_chart_and_stays_in_the_form(alice_client, oslo):
    put_readings(oslo, [at("2026-02-28 23:59"), at("2026-03-01 00:00"), at("2026-03-02 00:00")])
    response = alice_client.get(f"/cities/{oslo.pk}/?start=2026-03-01&end=2026-03-01")
    (data,) = chart_data(response)
    assert len(data["time"]) == 1
    assert data["live"] is False  # a range in the past gets no live points
    content = response.content.decode()
    assert 'name="start" class="form-control form-control-sm" value="2026-03-01"' in content


def test_a_quick_range_is_marked_as_the_current_one(alice_client, oslo):
    content = alice_client.get(f"/cities/{oslo.pk}/?last=7d").content.decode()
    assert re.search(r'class="btn btn-outline-primary active" href="[^"]*\?last=7d"', content)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-02-30", "The start date “2026-02-30” is not a day of the calendar."),
        ("end=tomorrow", "The end date must be written YYYY-MM-DD, not “tomorrow”."),
        ("start=2026-03-02&end=2026-03-01", "The start date is after the end date."),
        ("last=forever", "A quick range is one of 24h, 7d, 30d or all."),
    ],
)
def test_a_bad_filter_shows_a_clear_message_instead_of_a_chart(alice_client, oslo, query, message):
    response = alice_client.get(f"/cities/{oslo.pk}/?{query}")
    content = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="range-error"' in content
    assert message in content
    # No chart of stored readings; the forecast does not depend on the range.
    assert content.count("<canvas") == content.count("data-forecast-chart") == 1
    assert 'id="range-form"' in content


NASTY = "<script>alert(1)</script>"
NASTY_REGION = '"><img src=x onerror=alert(2)>'


def test_every_provider_string_is_escaped(alice, alice_client):
    city = CityFactory(name=NASTY, admin1=NASTY_REGION, country="<b")
    SubscriptionFactory(user=alice, city=city)
    put_readings(city, [at("2026-03-01 10:00")], condition=NASTY, icon=NASTY)
    response = alice_client.get(f"/cities/{city.pk}/?start=%22%3E%3Cscript%3Ealert(3)")
    content = response.content.decode()
    assert response.status_code == 400
    assert "<script>alert" not in content
    assert "<img src=x" not in content
    assert "<b," not in content
    assert "<b<" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in content
    assert "&quot;&gt;&lt;script&gt;alert(3)" in content
    ok = alice_client.get(f"/cities/{city.pk}/").content.decode()
    assert "<script>alert" not in ok
    assert "<img src=x" not in ok
    assert "&lt;b" in ok


def test_the_city_page_takes_a_bounded_number_of_queries(
    alice_client, oslo, django_assert_max_num_queries
):
    put_readings(oslo, [at("2026-03-01 10:00"), at("2026-03-01 11:00")])
    with django_assert_max_num_queries(6):
        assert alice_client.get(f"/cities/{oslo.pk}/").status_code == 200
