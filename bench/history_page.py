"""City page time over a year of readings every 5 minutes (105,120 rows) in PostgreSQL.

Loads one city's year into the database named by DATABASE_URL (migrating it first), then
times, for 24 h, 7 d, 30 d, 365 d and everything: the history selector alone (the SQL and the
unit conversion) and the whole city page through Django (session, tenancy check, both
queries, the template), and what the page weighs. The last line is the baseline the buckets
replace: every raw reading of the year fetched and serialised for the chart. It prints the
plans PostgreSQL uses for 30 days of hourly and a year of daily buckets (the unique
(city, observed_at) index serves the range), then removes what it loaded.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/history_page.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table, setup_django

EMAIL = "bench-history@example.com"
STEP = dt.timedelta(minutes=5)
READINGS = 365 * 24 * 12


def load_year(city, *, end: dt.datetime) -> float:
    """One reading every 5 minutes for 365 days up to `end`, bulk-inserted; seconds taken."""
    from django.db import connection

    from subscriptions.models import Observation

    Observation.objects.filter(city=city).delete()
    started = time.perf_counter()
    start = end - STEP * READINGS
    batch = []
    for i in range(READINGS):
        moment = start + STEP * (i + 1)
        day, hour = i / 288, (i % 288) / 12
        temperature = 8 - 10 * math.cos(2 * math.pi * day / 365) + 4 * math.sin(hour / 24 * 6.28)
        batch.append(
            Observation(
                city=city,
                observed_at=moment,
                temperature=round(temperature, 1),
                feels_like=round(temperature - 2, 1),
                humidity=60 + i % 30,
                clouds=i % 101,
                wind_speed=round(3 + 2 * math.sin(i / 500), 1),
                wind_direction=i % 360,
                precipitation_probability=None if i % 97 == 0 else i % 100,
                pressure=1000 + i % 30,
                condition="Cloudy",
                icon="cloudy",
                provider="bench",
            )
        )
        if len(batch) == 5000:
            Observation.objects.bulk_create(batch)
            batch = []
    Observation.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE subscriptions_observation")
    return time.perf_counter() - started


def median_ms(action, repeat: int) -> float:
    action()  # warm the connection and the caches once
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def explain(city, *, since: dt.datetime, bucket: str) -> list[str]:
    """PostgreSQL's plan for one bucket query, as the history selector sends it."""
    from django.db.models import Count

    from subscriptions.history import BUCKETS, _aggregates
    from subscriptions.models import Observation

    query = (
        Observation.objects.filter(city_id__in=[city.pk], observed_at__gte=since)
        .annotate(bucket=BUCKETS[bucket]("observed_at", tzinfo=dt.UTC))
        .values("city_id", "bucket")
        .annotate(count=Count("id"), **_aggregates())
        .order_by("city_id", "bucket")
    )
    return query.explain(analyze=True).splitlines()


def run(*, repeat: int, keep: bool, json_path: str | None = None) -> int:
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        print("bench/history_page.py needs DATABASE_URL=postgres://… (PostgreSQL).")
        return 1
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from skywatch.accounts.models import User
    from subscriptions.history import MAX_POINTS, city_histories
    from subscriptions.models import City, Observation, Subscription
    from subscriptions.ranges import HistoryRange

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("ensure_plans", verbosity=0)
    user, _ = User.objects.get_or_create(email=EMAIL)
    city, _ = City.objects.get_or_create(
        name="Benchtown", country="ZZ", admin1="Bench", defaults={"latitude": 0, "longitude": 0}
    )
    Subscription.objects.get_or_create(user=user, city=city)
    now = timezone.now().replace(microsecond=0)
    try:
        seconds = load_year(city, end=now)
        print(f"Loaded {READINGS:,} readings (a year every 5 minutes) in {seconds:.1f} s.")
        client = Client()
        client.force_login(user)
        today = now.date()
        ranges = [
            ("24 h", "?last=24h", HistoryRange(last="24h")),
            ("7 d", "?last=7d", HistoryRange(last="7d")),
            ("30 d", "?last=30d", HistoryRange(last="30d")),
            (
                "365 d",
                f"?start={today - dt.timedelta(days=364)}&end={today}",
                HistoryRange(start=today - dt.timedelta(days=364), end=today),
            ),
            ("all", "", HistoryRange()),
        ]
        rows = []
        for label, query, history_range in ranges:
            (history,) = city_histories(
                cities=[city], history_range=history_range, units="metric", now=now
            )
            data_ms = median_ms(
                lambda history_range=history_range: city_histories(
                    cities=[city], history_range=history_range, units="metric", now=now
                ),
                repeat,
            )
            url = f"/cities/{city.pk}/{query}"
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            page_ms = median_ms(lambda url=url: client.get(url), repeat)
            rows.append(
                [
                    label,
                    history.bucket,
                    history.count,
                    history.points,
                    data_ms,
                    page_ms,
                    len(response.content) / 1024,
                ]
            )

        def raw_year() -> str:
            values = Observation.objects.filter(city=city).order_by("observed_at")
            return json.dumps(
                [
                    [moment.isoformat(), *rest]
                    for moment, *rest in values.values_list(
                        "observed_at",
                        "temperature",
                        "feels_like",
                        "humidity",
                        "clouds",
                        "precipitation_probability",
                        "wind_speed",
                    )
                ]
            )

        raw_ms = median_ms(raw_year, max(1, repeat // 2))
        rows.append(
            ["365 d raw", "(baseline)", READINGS, READINGS, raw_ms, "-", len(raw_year()) / 1024]
        )
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        if json_path:
            with open(json_path, "w") as out:
                json.dump({"repeat": repeat, "max_points": MAX_POINTS, "rows": rows}, out)
        print_table(
            f"City page over a year of 5-minute readings (PostgreSQL, median of {repeat}; "
            f"at most {MAX_POINTS:,} points a page; load average {load})",
            ["range", "bucket", "readings", "points", "data ms", "page ms", "page KiB"],
            rows,
        )
        for label, days, bucket in (("30 d, hourly", 30, "hour"), ("365 d, daily", 365, "day")):
            print(f"\nPlan of {label} buckets (EXPLAIN ANALYZE):")
            for line in explain(city, since=now - dt.timedelta(days=days), bucket=bucket):
                print(f"  {line}")
    finally:
        if not keep:
            Observation.objects.filter(city=city).delete()
            Subscription.objects.filter(city=city).delete()
            city.delete()
            user.delete()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure")
    parser.add_argument("--keep", action="store_true", help="leave the loaded year in place")
    parser.add_argument("--json", help="also write the figures to this file (make bench)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_ENV", "test")
    setup_django()
    return run(repeat=args.repeat, keep=args.keep, json_path=args.json)


if __name__ == "__main__":
    sys.exit(main())
