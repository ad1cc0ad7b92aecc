"""Stored readings over a range: raw points when few, else min/mean/max buckets from SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Avg, Count, Max, Min, Q
from django.db.models.functions import TruncDay, TruncHour, TruncMonth, TruncWeek
from django.utils import timezone

from subscriptions.measures import LABELS, in_units, unit_of, units_as_dict
from subscriptions.models import City, Observation
from subscriptions.ranges import QUICK_RANGES, HistoryRange

# A page never ships more points than this, however many cities it shows.
MAX_POINTS = 2000
METRICS = tuple(LABELS)
BUCKETS = {"hour": TruncHour, "day": TruncDay, "week": TruncWeek, "month": TruncMonth}
BUCKET_LABELS = {
    "raw": "every reading",
    "hour": "hourly minimum, mean and maximum",
    "day": "daily minimum, mean and maximum",
    "week": "weekly minimum, mean and maximum",
    "month": "monthly minimum, mean and maximum",
}


@dataclass
class CityHistory:
    """One city's readings in a range: the points (or buckets) to draw and a summary of them."""

    city: City
    units: str
    bucket: str = "raw"
    count: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    summary: dict[str, dict[str, float | None]] = field(default_factory=dict)
    times: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    series: dict[str, dict[str, list]] = field(default_factory=dict)
    live: bool = False
    window_ms: int | None = None

    @property
    def points(self) -> int:
        return len(self.times)

    @property
    def bucket_label(self) -> str:
        return BUCKET_LABELS[self.bucket]

    @property
    def summary_rows(self) -> list[dict]:
        return history_summary_rows(self)


def _epoch_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _bucket_index(bucket: str, moment: dt.datetime) -> int:
    """A number that grows by one from each bucket of this size to the next (UTC)."""
    moment = moment.astimezone(dt.UTC)
    day = moment.date()
    if bucket == "hour":
        return day.toordinal() * 24 + moment.hour
    if bucket == "day":
        return day.toordinal()
    if bucket == "week":
        return (day.toordinal() - day.weekday()) // 7
    return day.year * 12 + day.month - 1


def bucket_choose(
    *, count: int, first: dt.datetime | None, last: dt.datetime | None, max_points: int
) -> str:
    """Raw readings when they fit, else the finest of hour, day, week, month that fits."""
    if count <= max_points or first is None or last is None:
        return "raw"
    for bucket in ("hour", "day", "week"):
        if _bucket_index(bucket, last) - _bucket_index(bucket, first) + 1 <= max_points:
            return bucket
    return "month"


def _range_filter(lower: dt.datetime | None, upper: dt.datetime | None) -> Q:
    condition = Q()
    if lower is not None:
        condition &= Q(observed_at__gte=lower)
    if upper is not None:
        condition &= Q(observed_at__lt=upper)
    return condition


def _aggregates() -> dict:
    aggregates = {}
    for metric in METRICS:
        aggregates[f"{metric}__min"] = Min(metric)
        aggregates[f"{metric}__mean"] = Avg(metric)
        aggregates[f"{metric}__max"] = Max(metric)
        aggregates[f"{metric}__count"] = Count(metric)
    return aggregates


class _Summary:
    """Minimum, mean and maximum of one measure, folded from readings or from buckets."""

    def __init__(self) -> None:
        self.low: float | None = None
        self.high: float | None = None
        self.total = 0.0
        self.count = 0

    def add(self, low, high, mean, count: int) -> None:
        if not count or mean is None:
            return
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)
        self.total += mean * count
        self.count += count

    def as_dict(self, metric: str, units: str) -> dict[str, float | None]:
        mean = self.total / self.count if self.count else None
        return {
            "min": in_units(metric, self.low, units),
            "mean": in_units(metric, mean, units),
            "max": in_units(metric, self.high, units),
        }


def city_histories(
    *,
    cities: Sequence[City],
    history_range: HistoryRange,
    units: str,
    max_points: int = MAX_POINTS,
    live: bool = False,
    now: dt.datetime | None = None,
) -> list[CityHistory]:
    """The history of each city, sharing `max_points` between them; a bounded number of queries."""
    now = now or timezone.now()
    lower, upper = history_range.bounds(now=now)
    in_range = _range_filter(lower, upper)
    per_city = max(1, max_points // max(1, len(cities)))
    live = live and history_range.includes_today(now=now)
    window = QUICK_RANGES.get(history_range.last or "")
    histories = {
        city.pk: CityHistory(
            city=city,
            units=units,
            live=live,
            window_ms=int(window.total_seconds() * 1000) if window else None,
        )
        for city in cities
    }
    if not histories:
        return []

    # One query for every city, answered from the (city, observed_at) index: count and extent.
    extents = (
        Observation.objects.filter(in_range, city_id__in=list(histories))
        .values("city_id")
        .annotate(count=Count("id"), first=Min("observed_at"), last=Max("observed_at"))
        .order_by()
    )
    for row in extents:
        history = histories[row["city_id"]]
        history.count, history.first, history.last = row["count"], row["first"], row["last"]
        history.bucket = bucket_choose(
            count=history.count, first=history.first, last=history.last, max_points=per_city
        )

    # One query per bucket size in use (at most five), whatever the number of cities; the
    # summary is folded from the same rows, so the readings are read once.
    by_bucket: dict[str, list[int]] = {}
    for city_id, history in histories.items():
        if history.count:
            by_bucket.setdefault(history.bucket, []).append(city_id)
    summaries = {city_id: {metric: _Summary() for metric in METRICS} for city_id in histories}
    for bucket, city_ids in by_bucket.items():
        if bucket == "raw":
            _fill_raw(histories, summaries, city_ids, in_range, units)
        else:
            _fill_buckets(histories, summaries, city_ids, in_range, units, bucket)
    for city_id, history in histories.items():
        if history.count:
            history.summary = {
                metric: summary.as_dict(metric, units)
                for metric, summary in summaries[city_id].items()
            }
    return [histories[city.pk] for city in cities]


def _fill_raw(histories, summaries, city_ids, in_range, units) -> None:
    for history in (histories[city_id] for city_id in city_ids):
        history.series = {metric: {"value": []} for metric in METRICS}
    rows = (
        Observation.objects.filter(in_range, city_id__in=city_ids)
        .order_by("city_id", "observed_at")
        .values_list("city_id", "observed_at", *METRICS)
    )
    for city_id, observed_at, *values in rows:
        history, summary = histories[city_id], summaries[city_id]
        history.times.append(_epoch_ms(observed_at))
        for metric, value in zip(METRICS, values, strict=True):
            history.series[metric]["value"].append(in_units(metric, value, units))
            if value is not None:
                summary[metric].add(value, value, value, 1)


def _fill_buckets(histories, summaries, city_ids, in_range, units, bucket) -> None:
    for history in (histories[city_id] for city_id in city_ids):
        history.series = {metric: {"value": [], "min": [], "max": []} for metric in METRICS}
    rows = (
        Observation.objects.filter(in_range, city_id__in=city_ids)
        .annotate(bucket=BUCKETS[bucket]("observed_at", tzinfo=dt.UTC))
        .values("city_id", "bucket")
        .annotate(count=Count("id"), **_aggregates())
        .order_by("city_id", "bucket")
    )
    for row in rows:
        history, summary = histories[row["city_id"]], summaries[row["city_id"]]
        history.times.append(_epoch_ms(row["bucket"]))
        history.counts.append(row["count"])
        for metric in METRICS:
            low, mean, high = (row[f"{metric}__{kind}"] for kind in ("min", "mean", "max"))
            series = history.series[metric]
            series["value"].append(in_units(metric, mean, units))
            series["min"].append(in_units(metric, low, units))
            series["max"].append(in_units(metric, high, units))
            summary[metric].add(low, high, mean, row[f"{metric}__count"])


def history_as_dict(history: CityHistory) -> dict:
    """What a page hands its chart script through json_script: columns, not rows, to stay small."""
    return {
        "city_id": history.city.pk,
        "bucket": history.bucket,
        "count": history.count,
        "live": history.live,
        "window_ms": history.window_ms,
        "last_ms": _epoch_ms(history.last) if history.last else None,
        "time": history.times,
        "counts": history.counts,
        "series": history.series,
        **units_as_dict(history.units),
    }


def history_summary_rows(history: CityHistory) -> list[dict]:
    """Minimum, mean and maximum of each measure over the range, labelled, for the summary table."""
    return [
        {
            "metric": metric,
            "label": LABELS[metric],
            "unit": unit_of(metric, history.units),
            **history.summary[metric],
        }
        for metric in METRICS
        if history.summary.get(metric)
    ]
