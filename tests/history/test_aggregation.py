"""Buckets are computed in the database: known minimum, mean and maximum per bucket."""

from __future__ import annotations

import datetime as dt

import pytest

from subscriptions.history import bucket_choose, city_histories, history_as_dict
from subscriptions.ranges import HistoryRange
from tests.factories import CityFactory
from tests.history.conftest import at, every, put_readings

FIVE_MINUTES = dt.timedelta(minutes=5)


def minute_of_hour(i, moment):
    """12 readings an hour: 0, 1, ... 11 plus the hour, so min/mean/max per hour are known."""
    return moment.hour + moment.minute / 5


def history_of(city, *, max_points, units="metric", history_range=None):
    (history,) = city_histories(
        cities=[city],
        history_range=history_range or HistoryRange(),
        units=units,
        max_points=max_points,
    )
    return history


@pytest.fixture
def three_days(oslo):
    """3 days of readings every 5 minutes (864), from 2026-03-01 00:00 UTC."""
    put_readings(oslo, every(at("2026-03-01 00:00"), FIVE_MINUTES, 864), temperature=minute_of_hour)
    return oslo


def test_few_readings_are_drawn_one_by_one(three_days):
    history = history_of(three_days, max_points=1000)
    assert history.bucket == "raw"
    assert history.points == history.count == 864
    assert history.series["temperature"]["value"][:3] == [0.0, 1.0, 2.0]
    assert "min" not in history.series["temperature"]


def test_hourly_buckets_hold_the_minimum_mean_and_maximum_of_their_hour(three_days):
    history = history_of(three_days, max_points=100)
    assert history.bucket == "hour"
    assert history.points == 72
    assert history.counts == [12] * 72
    first = dt.datetime.fromtimestamp(history.times[0] / 1000, dt.UTC)
    assert first == at("2026-03-01 00:00")
    assert history.times[1] - history.times[0] == 3600 * 1000
    temperature = history.series["temperature"]
    # Hour h holds h, h+1, ... h+11.
    assert temperature["min"][:3] == [0.0, 1.0, 2.0]
    assert temperature["max"][:3] == [11.0, 12.0, 13.0]
    assert temperature["value"][:3] == [5.5, 6.5, 7.5]
    assert temperature["value"][23] == 28.5
    assert temperature["value"][24] == 5.5


def test_daily_buckets_when_hours_would_be_too_many(three_days):
    history = history_of(three_days, max_points=50)
    assert history.bucket == "day"
    assert history.points == 3
    assert history.counts == [288, 288, 288]
    temperature = history.series["temperature"]
    assert temperature["min"] == [0.0, 0.0, 0.0]
    assert temperature["max"] == [34.0, 34.0, 34.0]
    assert temperature["value"] == [17.0, 17.0, 17.0]  # mean of 0..23 plus mean of 0..11
    assert history.series["humidity"]["value"] == [50.0, 50.0, 50.0]


def test_buckets_follow_the_date_filter(three_days):
    history = history_of(
        three_days,
        max_points=50,
        history_range=HistoryRange(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 2)),
    )
    assert history.bucket == "hour"
    assert history.count == 288
    assert history.points == 24


def test_the_summary_covers_the_whole_range(three_days):
    history = history_of(three_days, max_points=50)
    assert history.summary["temperature"] == {"min": 0.0, "mean": 17.0, "max": 34.0}
    assert history.summary["precipitation_probability"] == {"min": 10, "mean": 10.0, "max": 10}
    assert [row["label"] for row in history.summary_rows][:2] == ["Temperature", "Feels like"]


def test_imperial_units_convert_every_figure(three_days):
    history = history_of(three_days, max_points=50, units="imperial")
    assert history.series["temperature"]["min"] == [32.0, 32.0, 32.0]
    assert history.series["temperature"]["value"] == [62.6, 62.6, 62.6]
    assert history.series["wind_speed"]["value"] == [4.5, 4.5, 4.5]  # 2 m/s
    assert history.summary["temperature"]["max"] == 93.2
    assert history_as_dict(history)["units"] == "imperial"


def test_a_missing_chance_of_rain_stays_missing(oslo):
    put_readings(oslo, [at("2026-03-01 00:00")], precipitation_probability=None)
    history = history_of(oslo, max_points=10)
    assert history.series["precipitation_probability"]["value"] == [None]
    assert history.summary["precipitation_probability"]["mean"] is None


def test_a_city_without_readings_has_an_empty_history(oslo):
    history = history_of(oslo, max_points=10)
    assert (history.count, history.points, history.series) == (0, 0, {})
    assert history_as_dict(history)["time"] == []


def day(text: str) -> dt.datetime:
    return at(f"{text} 00:00")


@pytest.mark.parametrize(
    ("count", "first", "last", "bucket"),
    [
        (288, day("2026-03-01"), at("2026-03-01 23:55"), "raw"),  # 24 h every 5 min
        (2016, day("2026-03-01"), at("2026-03-07 23:55"), "hour"),  # 7 days: 168 hours
        (8640, day("2026-03-01"), at("2026-03-30 23:55"), "hour"),  # 30 days: 720 hours
        (105120, day("2025-03-01"), at("2026-02-28 23:55"), "day"),  # a year: 365 days
        (10**6, day("2016-01-01"), day("2026-01-01"), "week"),  # ten years: 523 weeks
        (10**7, day("1900-01-01"), day("2026-01-01"), "month"),
    ],
)
def test_the_bucket_is_chosen_by_the_length_of_the_range(count, first, last, bucket):
    assert bucket_choose(count=count, first=first, last=last, max_points=2000) == bucket


def test_hour_buckets_are_counted_from_whole_hours():
    # 00:59 to 02:00 touches three hours (00, 01, 02), however short it is.
    first, last = at("2026-03-01 00:59"), at("2026-03-01 02:00")
    assert bucket_choose(count=10, first=first, last=last, max_points=3) == "hour"
    assert bucket_choose(count=10, first=first, last=last, max_points=2) == "day"


def test_weekly_and_monthly_buckets_are_computed_in_the_database(oslo):
    moments = every(at("2026-01-05 00:00"), dt.timedelta(hours=12), 56)  # four weeks from a Monday
    put_readings(oslo, moments, temperature=lambda i, moment: float(i))
    weekly = history_of(oslo, max_points=20)
    assert weekly.bucket == "week"
    assert weekly.counts == [14, 14, 14, 14]
    assert weekly.series["temperature"]["min"] == [0.0, 14.0, 28.0, 42.0]
    assert weekly.series["temperature"]["value"] == [6.5, 20.5, 34.5, 48.5]
    monthly = history_of(oslo, max_points=2)
    assert monthly.bucket == "month"
    assert monthly.counts == [54, 2]  # 27 days of January, then 1 February
    assert dt.datetime.fromtimestamp(monthly.times[1] / 1000, dt.UTC) == at("2026-02-01 00:00")


def test_a_page_of_many_cities_shares_the_point_budget(alice):
    cities = [CityFactory() for _ in range(4)]
    for city in cities:
        put_readings(city, every(at("2026-03-01 00:00"), FIVE_MINUTES, 864))
    histories = city_histories(
        cities=cities, history_range=HistoryRange(), units="metric", max_points=400
    )
    assert [h.bucket for h in histories] == ["hour"] * 4
    assert sum(h.points for h in histories) == 4 * 72 <= 400


def test_the_point_budget_holds_for_a_long_dense_range(oslo):
    # Two readings a minute for two days: 5760 readings, more than the budget.
    put_readings(oslo, every(at("2026-03-01 00:00"), dt.timedelta(seconds=30), 5760))
    history = history_of(oslo, max_points=2000)
    assert history.count == 5760
    assert history.points == 48 <= 2000


def test_histories_of_any_number_of_cities_take_a_bounded_number_of_queries(
    alice, django_assert_max_num_queries
):
    cities = [CityFactory() for _ in range(6)]
    for position, city in enumerate(cities):
        # Raw for some cities, hourly and daily buckets for others.
        put_readings(city, every(at("2026-03-01 00:00"), FIVE_MINUTES, 20 + 400 * position))
    with django_assert_max_num_queries(4):
        histories = city_histories(
            cities=cities, history_range=HistoryRange(), units="metric", max_points=1200
        )
    assert {h.bucket for h in histories} == {"raw", "hour"}


def test_the_summary_mean_of_buckets_weighs_only_readings_that_have_the_measure(oslo):
    moments = every(at("2026-03-01 00:00"), dt.timedelta(minutes=30), 4)
    for moment, chance in zip(moments, [None, 20, 40, 60], strict=True):
        put_readings(oslo, [moment], precipitation_probability=chance)
    history = history_of(oslo, max_points=3)
    assert history.bucket == "hour"
    assert history.series["precipitation_probability"]["value"] == [20.0, 50.0]
    assert history.summary["precipitation_probability"] == {"min": 20, "mean": 40.0, "max": 60}
    assert history.summary["temperature"] == {"min": 10.0, "mean": 10.0, "max": 10.0}
