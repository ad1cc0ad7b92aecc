"""The data benchmarks run on: bulk-created in PostgreSQL, recognisable, removed afterwards.

Users are `bench-<n>@bench.invalid` on the plan `bench` (15 cities, an API rate of a million
a second so that plan throttling never refuses a benchmark request); cities are "Bench <n>" in
country ZZ. User n follows `cities ÷ users` (or `run`) neighbouring cities of its own, so that every
city is followed, plus random runs of `run` neighbours up to `per_user`, the same every run.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from dataclasses import dataclass, field

PLAN = "bench"
PLAN_API_RATE = "1000000/second"
EMAIL_PREFIX = "bench-"
EMAIL_DOMAIN = "@bench.invalid"
COUNTRY = "ZZ"
SESSION_PREFIX = "bench"
TABLES = (
    "accounts_user",
    "accounts_apitoken",
    "django_session",
    "subscriptions_city",
    "subscriptions_observation",
    "subscriptions_subscription",
    "subscriptions_searchhistory",
)


@dataclass
class World:
    """What `build` made: ids in creation order, each user's cities, sessions and tokens."""

    users: list[int] = field(default_factory=list)
    cities: list[int] = field(default_factory=list)
    follows: dict[int, list[int]] = field(default_factory=dict)
    sessions: dict[int, str] = field(default_factory=dict)
    tokens: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def subscriptions(self) -> int:
        return sum(len(cities) for cities in self.follows.values())


def plan_ensure() -> None:
    """The bench plan: the premium city limit and an API rate no benchmark can reach."""
    from billing.models import Plan

    Plan.objects.update_or_create(
        slug=PLAN, defaults={"name": "Bench", "city_limit": 15, "api_rate": PLAN_API_RATE}
    )


def follow_pattern(
    *, users: int, cities: int, per_user: int, run: int = 1, seed: int = 1
) -> list[list[int]]:
    """City indexes for each user: its own neighbours, then random runs of `run` neighbouring
    cities (a region), no repeats."""
    own = max(1, cities // users)
    rng = random.Random(seed)
    pattern = []
    for user in range(users):
        chosen = [(user * own + i) % cities for i in range(max(own, run))][:per_user]
        taken = set(chosen)
        while len(chosen) < min(per_user, cities):
            start = rng.randrange(cities)
            for city in ((start + i) % cities for i in range(run)):
                if city not in taken and len(chosen) < per_user:
                    taken.add(city)
                    chosen.append(city)
        pattern.append(chosen)
    return pattern


def build(
    *,
    users: int,
    cities: int,
    per_user: int,
    run: int = 1,
    sessions: bool = False,
    tokens: int = 0,
    searches: int = 0,
    readings: bool = True,
) -> World:
    """Create the world (after clearing any previous one); the first `tokens` users get an API
    token and, with `searches`, that many searches in their history (all users without tokens)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection, transaction
    from django.utils import timezone

    from skywatch.accounts.models import User
    from skywatch.accounts.services import api_token_create
    from subscriptions.models import City

    started = time.perf_counter()
    clear()
    plan_ensure()
    world = World()
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic(), connection.cursor() as cursor:
        # Plain SQL: the ORM spends tens of seconds building 150,000 objects it never needs.
        cursor.execute(
            "INSERT INTO subscriptions_city (name, country, admin1, latitude, longitude, "
            "timezone, stale, last_error, created_at) "
            "SELECT 'Bench ' || lpad(n::text, 5, '0'), %s, 'Bench', "
            "round((-60 + (n * 0.0123) %% 120)::numeric, 4), "
            "round((-170 + (n * 0.0347) %% 340)::numeric, 4), 'UTC', false, '', %s "
            "FROM generate_series(0, %s - 1) AS n ORDER BY n",
            [COUNTRY, now, cities],
        )
        world.cities = list(
            City.objects.filter(country=COUNTRY, admin1="Bench")
            .order_by("name")
            .values_list("pk", flat=True)
        )
        if readings:
            cursor.execute(
                "INSERT INTO subscriptions_observation (city_id, observed_at, temperature, "
                "feels_like, humidity, clouds, wind_speed, wind_direction, "
                "precipitation_probability, pressure, condition, icon, provider, created_at) "
                "SELECT id, %s, 7.4, 5.1, 81, 75, 4.2, 250, 40, 1012, 'Light rain', 'rain', "
                "'open-meteo', %s FROM subscriptions_city WHERE id = ANY(%s)",
                [now - dt.timedelta(minutes=15), now, world.cities],
            )
            cursor.execute(
                "UPDATE subscriptions_city AS c SET latest_id = o.id "
                "FROM subscriptions_observation AS o WHERE o.city_id = c.id AND c.id = ANY(%s)",
                [world.cities],
            )
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, email, units, share_token, "
            "is_staff, is_active, date_joined, plan_id, credential_generation) "
            "SELECT %s, false, %s || lpad(n::text, 5, '0') || %s, 'metric', "
            "md5(random()::text || n::text) || md5(random()::text), false, true, %s, %s, 0 "
            "FROM generate_series(0, %s - 1) AS n ORDER BY n",
            [make_password(None), EMAIL_PREFIX, EMAIL_DOMAIN, now, PLAN, users],
        )
        user_rows = list(
            User.objects.filter(email__startswith=EMAIL_PREFIX, email__endswith=EMAIL_DOMAIN)
            .order_by("email")
            .only("pk", "password")
        )
        world.users = [user.pk for user in user_rows]
        pattern = follow_pattern(users=users, cities=cities, per_user=per_user, run=run)
        world.follows = {
            user_pk: [world.cities[index] for index in pattern[n]]
            for n, user_pk in enumerate(world.users)
        }
        pairs = [(u, c) for u, cs in world.follows.items() for c in cs]
        cursor.execute(
            "INSERT INTO subscriptions_subscription (user_id, city_id, created_at, paused) "
            "SELECT u, c, %s, false FROM unnest(%s::bigint[], %s::bigint[]) AS t(u, c)",
            [now, [u for u, _ in pairs], [c for _, c in pairs]],
        )
        if sessions:
            store = SessionStore()
            keys, data = [], []
            for user in user_rows:
                key = f"{SESSION_PREFIX}{user.pk:08d}{secrets.token_hex(12)}"
                keys.append(key)
                data.append(
                    store.encode(
                        {
                            SESSION_KEY: str(user.pk),
                            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                            HASH_SESSION_KEY: user.get_session_auth_hash(),
                        }
                    )
                )
                world.sessions[user.pk] = key
            cursor.execute(
                "INSERT INTO django_session (session_key, session_data, expire_date) "
                "SELECT k, d, %s FROM unnest(%s::text[], %s::text[]) AS t(k, d)",
                [now + dt.timedelta(days=1), keys, data],
            )
        if searches:
            cursor.execute(
                "INSERT INTO subscriptions_searchhistory (user_id, city_name, timestamp) "
                "SELECT u, 'Bench ' || lpad(i::text, 5, '0'), %s - i * interval '1 minute' "
                "FROM unnest(%s::bigint[]) AS u, generate_series(1, %s) AS i",
                [now, world.users[: tokens or None], searches],
            )
    for user in user_rows[:tokens]:
        _, raw = api_token_create(user=user, name="bench")
        world.tokens[user.pk] = raw
    vacuum()
    world.seconds = time.perf_counter() - started
    return world


def clear() -> None:
    """Remove every row a benchmark made (users, cities, their readings, sessions, tokens)."""
    from django.db import connection, transaction

    from skywatch.accounts.models import User
    from subscriptions.models import City

    users = User.objects.filter(email__startswith=EMAIL_PREFIX, email__endswith=EMAIL_DOMAIN)
    with transaction.atomic(), connection.cursor() as cursor:
        user_ids = list(users.values_list("pk", flat=True))
        city_ids = list(
            City.objects.filter(country=COUNTRY, admin1="Bench").values_list("pk", flat=True)
        )
        cursor.execute(
            "DELETE FROM django_session WHERE session_key LIKE %s", [f"{SESSION_PREFIX}%"]
        )
        cursor.execute(
            "UPDATE subscriptions_city SET latest_id = NULL WHERE id = ANY(%s)", [city_ids]
        )
        for table, column, ids in (
            ("subscriptions_subscription", "user_id", user_ids),
            ("subscriptions_subscription", "city_id", city_ids),
            ("subscriptions_searchhistory", "user_id", user_ids),
            ("accounts_apitoken", "user_id", user_ids),
            ("subscriptions_observation", "city_id", city_ids),
            ("subscriptions_forecast", "city_id", city_ids),
            ("subscriptions_city", "id", city_ids),
        ):
            cursor.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", [ids])  # noqa: S608
        # Whatever else points at these users (e-mail addresses, JWT records) goes with them.
        users.delete()
    vacuum()


def vacuum() -> None:
    """Fresh statistics and no dead rows: planning over dead index entries costs milliseconds."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
