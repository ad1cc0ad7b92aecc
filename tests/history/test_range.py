"""?start=&end= (inclusive UTC days, each optional) and ?last= quick ranges."""

from __future__ import annotations

import datetime as dt

import pytest

from skywatch.errors import InvalidInput
from subscriptions.history import city_histories
from subscriptions.ranges import HistoryRange, history_range_parse
from tests.history.conftest import at, put_readings

EDGES = [
    "2026-02-28 23:59:59",
    "2026-03-01 00:00:00",
    "2026-03-01 12:00:00",
    "2026-03-01 23:59:59",
    "2026-03-02 00:00:00",
    "2026-03-03 08:00:00",
]


def shown(city, history_range: HistoryRange, *, now: str = "2026-03-05 12:00") -> list[str]:
    (history,) = city_histories(
        cities=[city], history_range=history_range, units="metric", now=at(now)
    )
    return [
        dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        for ms in history.times
    ]


@pytest.fixture
def edges(oslo):
    put_readings(oslo, [at(text) for text in EDGES])
    return oslo


def test_both_ends_are_included_to_the_last_second_of_the_end_day(edges):
    result = shown(edges, history_range_parse({"start": "2026-03-01", "end": "2026-03-01"}))
    assert result == ["2026-03-01 00:00:00", "2026-03-01 12:00:00", "2026-03-01 23:59:59"]


def test_a_start_alone_keeps_everything_from_that_day_on(edges):
    result = shown(edges, history_range_parse({"start": "2026-03-02"}))
    assert result == ["2026-03-02 00:00:00", "2026-03-03 08:00:00"]


def test_an_end_alone_keeps_everything_up_to_the_end_of_that_day(edges):
    result = shown(edges, history_range_parse({"end": "2026-02-28"}))
    assert result == ["2026-02-28 23:59:59"]


def test_no_dates_show_every_reading(edges):
    assert shown(edges, history_range_parse({})) == EDGES


def test_blank_dates_from_an_empty_form_mean_no_bound(edges):
    assert shown(edges, history_range_parse({"start": " ", "end": ""})) == EDGES


def test_the_last_24_hours_roll_with_the_clock(edges):
    last_day = history_range_parse({"last": "24h"})
    assert shown(edges, last_day, now="2026-03-03 09:00") == ["2026-03-03 08:00:00"]
    assert shown(edges, last_day, now="2026-03-03 00:00") == [
        "2026-03-02 00:00:00",
        "2026-03-03 08:00:00",
    ]


def test_dates_win_over_a_quick_range(edges):
    history_range = history_range_parse({"last": "24h", "start": "2026-03-03"})
    assert history_range == HistoryRange(start=dt.date(2026, 3, 3))


@pytest.mark.parametrize("last", ["", "all"])
def test_all_is_no_range_at_all(last):
    assert history_range_parse({"last": last}).is_all


def test_the_last_day_of_the_calendar_is_a_valid_end():
    history_range = history_range_parse({"end": "9999-12-31"})
    assert history_range.bounds(now=at("2026-03-01 00:00")) == (None, None)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2026-02-30"}, "start", "not a day of the calendar"),
        ({"start": "yesterday"}, "start", "YYYY-MM-DD"),
        ({"end": "2026-3-1"}, "end", "YYYY-MM-DD"),
        ({"end": "2026-03-01T00:00"}, "end", "YYYY-MM-DD"),
        ({"end": "\uff12\uff10\uff12\uff16-03-01"}, "end", "YYYY-MM-DD"),  # full-width digits
        ({"start": "2026-03-02", "end": "2026-03-01"}, "start", "after the end date"),
        ({"last": "1y"}, "last", "24h, 7d, 30d or all"),
    ],
)
def test_a_bad_filter_is_refused_with_a_clear_message(params, field, message):
    with pytest.raises(InvalidInput) as refused:
        history_range_parse(params)
    assert refused.value.field == field
    assert message in refused.value.message


def test_a_long_bad_date_is_cut_short_in_the_message():
    with pytest.raises(InvalidInput) as refused:
        history_range_parse({"start": "x" * 500})
    assert refused.value.message == f"The start date must be written YYYY-MM-DD, not “{'x' * 20}…”."


def test_the_query_string_selects_the_same_range_again():
    history_range = history_range_parse({"start": "2026-03-01", "end": "2026-03-02"})
    assert history_range_parse(dict(pair.split("=") for pair in history_range.query.split("&")))
    assert history_range.query == "start=2026-03-01&end=2026-03-02"
    assert HistoryRange(last="7d").query == "last=7d"
    assert HistoryRange().query == ""


def test_a_range_is_live_only_while_it_reaches_today():
    now = at("2026-03-05 10:00")
    assert HistoryRange().includes_today(now=now)
    assert HistoryRange(end=dt.date(2026, 3, 5)).includes_today(now=now)
    assert not HistoryRange(end=dt.date(2026, 3, 4)).includes_today(now=now)
