"""Which readings a history shows: inclusive UTC days (`?start=&end=`) or a rolling quick range."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from skywatch.errors import InvalidInput

QUICK_RANGES = {
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
