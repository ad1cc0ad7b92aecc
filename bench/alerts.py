"""Alerts in the pipeline: 10,000 cities, 30,000 alerts, one refresh of every city.

Loads the cities (each followed by one account with three alerts: two on the latest reading,
one on the next 12 forecast hours) into the database named by DATABASE_URL, then stores one
refresh batch by batch the way `refresh._refresh_batch` does (readings and forecasts in one
transaction, `batch_stored` sent inside it) and measures, per batch: the queries the alert
evaluation makes, its time against the time to store the batch. After commit, events go to the
websocket (Redis channel layer) and e-mail (locmem backend, background threads). The same
refresh is then stored again: no event may be stored or sent twice. Removes what it loaded.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/alerts.py [--cities 10000] [--batch 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table, setup_django

PREFIX = "bench-alerts"


def load(cities: int) -> tuple[list, float]:
    """Cities, one account each following it, three alerts each; seconds taken."""
    from django.contrib.auth.hashers import make_password

    from notifications.models import Alert
    from skywatch.accounts.models import User
    from subscriptions.models import City, Subscription

    started = time.perf_counter()
    password = make_password(None)
    users = User.objects.bulk_create(
        [
            User(email=f"{PREFIX}-{i}@example.com", password=password, plan_id="basic")
            for i in range(cities)
        ],
        batch_size=2000,
    )
    places = City.objects.bulk_create(
        [
            City(
                name=f"Alertville {i}",
                country="ZZ",
                admin1=PREFIX,
                latitude=(i % 170) - 85,
                longitude=(i % 350) - 175,
                timezone="Europe/Paris",
            )
            for i in range(cities)
        ],
        batch_size=2000,
    )
    subscriptions = Subscription.objects.bulk_create(
        [Subscription(user=u, city=c) for u, c in zip(users, places, strict=True)],
        batch_size=2000,
    )
    rules = [
        {"metric": "temperature", "operator": "below", "threshold": 0.0, "source": "now"},
        {"metric": "wind_speed", "operator": "above", "threshold": 10.0, "source": "now"},
        {
            "metric": "temperature",
            "operator": "below",
            "threshold": -5.0,
            "source": "forecast",
            "within_hours": 12,
        },
    ]
    Alert.objects.bulk_create(
        [
            Alert(user_id=s.user_id, subscription=s, typed_threshold=r["threshold"], **r)
            for s in subscriptions
            for r in rules
        ],
        batch_size=5000,
    )
    return places, time.perf_counter() - started


def weather(index: int, observed_at: dt.datetime):
    """A reading and a forecast: a third of the cities freeze, a fifth are windy, a seventh
    expect -8 °C in 9 hours."""
    from weather_provider.base import Forecast, ForecastHour, Reading

    temperature = -2.0 if index % 3 == 0 else 6.0
    reading = Reading(
        observed_at=observed_at,
        temperature=temperature,
        feels_like=temperature - 2,
        humidity=80,
        clouds=60,
        wind_speed=12.0 if index % 5 == 0 else 4.0,
        wind_direction=200,
        precipitation_probability=30,
        pressure=1010.0,
        condition="Cloudy",
        icon="cloudy",
    )
    hour0 = observed_at.replace(minute=0, second=0)
    hours = tuple(
        ForecastHour(
            time=hour0 + dt.timedelta(hours=h),
            temperature=-8.0 if (index % 7 == 0 and h == 9) else 3.0,
            feels_like=1.0,
            precipitation_probability=20,
            precipitation=0.0,
            wind_speed=4.0,
            wind_gusts=8.0,
            clouds=60,
            uv_index=0.5,
            condition="Cloudy",
            icon="cloudy",
        )
        for h in range(48)
    )
    forecast = Forecast(
        issued_at=hour0,
        timezone="Europe/Paris",
        utc_offset_seconds=3600,
        step_hours=1,
        hourly=hours,
        daily=(),
    )
    return reading, forecast


def refresh(places: list, *, batch: int, observed_at: dt.datetime) -> dict:
    """Store every city batch by batch as the pipeline does; per-batch figures."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from subscriptions.models import City
    from subscriptions.services import forecasts_store, observations_store
    from subscriptions.signals import batch_stored_send

    queries, evaluate_ms, store_ms = [], [], []
    index = {city.pk: i for i, city in enumerate(places)}
    for start in range(0, len(places), batch):
        ids = [c.pk for c in places[start : start + batch]]
        cities = list(City.objects.filter(pk__in=ids).select_related("latest"))
        pairs = [(city, weather(index[city.pk], observed_at)) for city in cities]
        with transaction.atomic():
            began = time.perf_counter()
            observations_store(readings=[(c, w[0]) for c, w in pairs], provider="bench")
            forecasts_store(forecasts=[(c, w[1]) for c, w in pairs], provider="bench")
            stored = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                batch_stored_send(ids)
            evaluated = time.perf_counter()
        queries.append(len(captured.captured_queries))
        store_ms.append((stored - began) * 1000)
        evaluate_ms.append((evaluated - stored) * 1000)
    return {
        "batches": len(queries),
        "queries_min": min(queries),
        "queries_max": max(queries),
        "evaluate_ms": statistics.median(evaluate_ms),
        "evaluate_p95_ms": sorted(evaluate_ms)[int(len(evaluate_ms) * 0.95) - 1],
        "store_ms": statistics.median(store_ms),
        "evaluate_total_s": sum(evaluate_ms) / 1000,
        "store_total_s": sum(store_ms) / 1000,
    }


def run(*, cities: int, batch: int, json_path: str | None) -> int:
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        print("bench/alerts.py needs DATABASE_URL=postgres://… (PostgreSQL).")
        return 1
    from django.core import mail
    from django.core.management import call_command
    from django.db.models import Count
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from notifications.delivery import background_wait
    from notifications.models import AlertEvent
    from skywatch.accounts.models import User
    from subscriptions.models import City

    setup_test_environment()  # locmem e-mail: mail.outbox counts what was sent
    settings.ALERT_DELIVERY = "thread"
    settings.ALERT_MAX_PER_HOUR = 10
    call_command("migrate", verbosity=0)
    call_command("ensure_plans", verbosity=0)
    User.objects.filter(email__startswith=PREFIX).delete()
    City.objects.filter(admin1=PREFIX).delete()
    try:
        places, seconds = load(cities)
        print(f"Loaded {cities:,} cities and {cities * 3:,} alerts in {seconds:.1f} s.")
        observed_at = timezone.now().replace(microsecond=0)
        runs = {}
        for name in ("first", "again"):
            mail.outbox = []
            started = time.perf_counter()
            figures = refresh(places, batch=batch, observed_at=observed_at)
            background_wait(timeout=600)
            figures["wall_s"] = time.perf_counter() - started
            figures["events"] = AlertEvent.objects.filter(user__email__startswith=PREFIX).count()
            figures["emails"] = len(mail.outbox)
            runs[name] = figures
        duplicates = (
            AlertEvent.objects.values("alert_id", "firing")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        expected = sum(
            (i % 3 == 0) + (i % 5 == 0) + (i % 7 == 0) for i in range(cities)
        )  # alerts whose condition holds
        results = {
            "cities": cities,
            "alerts": cities * 3,
            "batch": batch,
            "expected_events": expected,
            "duplicates": duplicates,
            "runs": runs,
        }
        if json_path:
            Path(json_path).write_text(json.dumps(results))
        columns, rows = table(results)
        print_table(TITLE, columns, rows)
        ok = (
            duplicates == 0
            and runs["first"]["events"] == expected
            and runs["again"]["events"] == expected
            and runs["again"]["emails"] == 0
        )
        return 0 if ok else 1
    finally:
        User.objects.filter(email__startswith=PREFIX).delete()
        City.objects.filter(admin1=PREFIX).delete()


TITLE = "Alerts: one refresh of every city (evaluated in each batch's transaction)"


def table(results: dict) -> tuple[list[str], list[list]]:
    columns = [
        "refresh",
        "cities",
        "alerts",
        "batches",
        "queries/batch",
        "evaluate ms/batch",
        "p95 ms",
        "store ms/batch",
        "evaluate ÷ store",
        "events stored",
        "e-mails sent",
        "duplicates",
    ]
    rows = []
    previous = 0
    for name, run in results["runs"].items():
        queries = run["queries_min"]
        if run["queries_max"] != queries:
            queries = f"{run['queries_min']}-{run['queries_max']}"
        rows.append(
            [
                "first" if name == "first" else "same batch again",
                results["cities"],
                results["alerts"],
                run["batches"],
                queries,
                run["evaluate_ms"],
                run["evaluate_p95_ms"],
                run["store_ms"],
                f"{run['evaluate_ms'] / run['store_ms']:.2f}x",
                run["events"] - previous,
                run["emails"],
                results["duplicates"],
            ]
        )
        previous = run["events"]
    return columns, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    setup_django()
    return run(cities=args.cities, batch=args.batch, json_path=args.json_path)


if __name__ == "__main__":
    sys.exit(main())
