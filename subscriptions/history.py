"""Stored readings over a date range: raw points when few, else min/mean/max buckets from SQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Max, Min, Q
from django.db.models.functions import TruncDay, TruncHour, TruncMonth, TruncWeek
from django.utils import timezone

from skywatch.errors import InvalidInput
from subscriptions.models import City, Observation
from subscriptions.readings import IMPERIAL, MS_TO_MPH, celsius_to_fahrenheit
from subscriptions.selectors import subscriptions_for

# A page never ships more points than this, however many cities it shows.
MAX_POINTS = 2000
METRICS = (
    "temperature",
    "feels_like",
    "humidity",
    "clouds",
    "precipitation_probability",
    "wind_speed",
)
QUICK_RANGES = {
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
BUCKETS = {"hour": TruncHour, "day": TruncDay, "week": TruncWeek, "month": TruncMonth}
DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What secrets.token_urlsafe makes; anything else (a NUL byte, say) is no token.
SHARE_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def metres_per_second_to_mph(speed: float) -> float:
    return speed * MS_TO_MPH


_CONVERTERS = {
    "temperature": celsius_to_fahrenheit,
    "feels_like": celsius_to_fahrenheit,
    "wind_speed": metres_per_second_to_mph,
}


@dataclass(frozen=True)
class HistoryRange:
    """Inclusive UTC days (either optional), or a rolling quick range such as the last 24 hours."""

    start: dt.date | None = None
    end: dt.date | None = None
    last: str | None = None

    def bounds(self, *, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The half-open interval [lower, upper) of observed times; None is unbounded."""
        if self.last:
            return now - QUICK_RANGES[self.last], None
        lower = dt.datetime.combine(self.start, dt.time.min, dt.UTC) if self.start else None
        upper = None
        if self.end and self.end < dt.date.max:
            upper = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, dt.UTC)
        return lower, upper

    def includes_today(self, *, now: dt.datetime) -> bool:
        return self.end is None or self.end >= now.astimezone(dt.UTC).date()

    @property
    def is_all(self) -> bool:
        return not (self.start or self.end or self.last)

    @property
    def query(self) -> str:
        """The query string that selects this range again (empty for everything)."""
        params = {"last": self.last} if self.last else {}
        if self.start:
            params["start"] = self.start.isoformat()
        if self.end:
            params["end"] = self.end.isoformat()
        return urlencode(params)


def _parse_day(value: str | None, *, field: str, label: str) -> dt.date | None:
    text = (value or "").strip()
    if not text:
        return None
    shown = text if len(text) <= 20 else f"{text[:20]}…"
    if not DAY_PATTERN.fullmatch(text):
        raise InvalidInput(
            f"The {label} date must be written YYYY-MM-DD, not “{shown}”.", field=field
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"The {label} date “{shown}” is not a day of the calendar.", field=field
        ) from None


def history_range_parse(params: Mapping[str, str]) -> HistoryRange:
    """`?start=&end=` (inclusive UTC days, each optional) or `?last=24h|7d|30d|all`; dates win."""
    start = _parse_day(params.get("start"), field="start", label="start")
    end = _parse_day(params.get("end"), field="end", label="end")
    if start and end and start > end:
        raise InvalidInput("The start date is after the end date.", field="start")
    if start or end:
        return HistoryRange(start=start, end=end)
    last = (params.get("last") or "").strip()
    if last in ("", "all"):
        return HistoryRange()
    if last not in QUICK_RANGES:
        raise InvalidInput("A quick range is one of 24h, 7d, 30d or all.", field="last")
    return HistoryRange(last=last)


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


def _convert(metric: str, value: float | None, units: str) -> float | None:
    if value is None:
        return None
    if units == IMPERIAL and metric in _CONVERTERS:
        value = _CONVERTERS[metric](value)
    return round(value, 1)


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
            "min": _convert(metric, self.low, units),
            "mean": _convert(metric, mean, units),
            "max": _convert(metric, self.high, units),
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
            history.series[metric]["value"].append(_convert(metric, value, units))
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
            series["value"].append(_convert(metric, mean, units))
            series["min"].append(_convert(metric, low, units))
            series["max"].append(_convert(metric, high, units))
            summary[metric].add(low, high, mean, row[f"{metric}__count"])


def history_as_dict(history: CityHistory) -> dict:
    """What a page hands its chart script through json_script: columns, not rows, to stay small."""
    return {
        "city_id": history.city.pk,
        "units": history.units,
        "bucket": history.bucket,
        "count": history.count,
        "live": history.live,
        "window_ms": history.window_ms,
        "last_ms": _epoch_ms(history.last) if history.last else None,
        "time": history.times,
        "counts": history.counts,
        "series": history.series,
    }


def city_followed(*, user, city_id: int) -> City | None:
    """The city if this user follows it (paused or not); anyone else's city is None."""
    subscription = subscriptions_for(user=user).filter(city_id=city_id).first()
    return subscription.city if subscription else None


def share_owner(*, share_token: str):
    """The active account whose current share token this is, or None."""
    if not SHARE_TOKEN_PATTERN.fullmatch(share_token or ""):
        return None
    return get_user_model().objects.filter(share_token=share_token, is_active=True).first()


def shared_cities(*, owner) -> list[City]:
    """Every city the account follows, paused ones included, in the order they were followed."""
    return [subscription.city for subscription in subscriptions_for(user=owner)]


METRIC_LABELS = {
    "temperature": "Temperature",
    "feels_like": "Feels like",
    "humidity": "Humidity",
    "clouds": "Clouds",
    "precipitation_probability": "Chance of rain",
    "wind_speed": "Wind speed",
}
BUCKET_LABELS = {
    "raw": "every reading",
    "hour": "hourly minimum, mean and maximum",
    "day": "daily minimum, mean and maximum",
    "week": "weekly minimum, mean and maximum",
    "month": "monthly minimum, mean and maximum",
}


def metric_unit(metric: str, units: str) -> str:
    if metric in ("temperature", "feels_like"):
        return "°F" if units == IMPERIAL else "°C"
    if metric == "wind_speed":
        return "mph" if units == IMPERIAL else "m/s"
    return "%"


def history_summary_rows(history: CityHistory) -> list[dict]:
    """Minimum, mean and maximum of each measure over the range, labelled, for the summary table."""
    return [
        {
            "metric": metric,
            "label": METRIC_LABELS[metric],
            "unit": metric_unit(metric, history.units),
            **history.summary[metric],
        }
        for metric in METRICS
        if history.summary.get(metric)
    ]
