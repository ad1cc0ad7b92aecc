"""A provider whose readings and forecast hours say what the test wants."""

from __future__ import annotations

import datetime as dt

from tests.pipeline.fakes import CountingProvider, reading_at
from weather_provider.base import Forecast, ForecastHour


class TunableProvider(CountingProvider):
    """Readings at `temperature`; forecasts of 48 hours at `hourly` (or `temperature`)."""

    name = "tunable"

    def __init__(self) -> None:
        super().__init__()
        self.temperature = 10.0
        self.hourly: list[float] | None = None

    def current(self, locations):
        readings = super().current(locations)
        return {
            i: reading_at(r.observed_at, temperature=self.temperature) for i, r in readings.items()
        }

    def forecast(self, locations):
        self.counter.receive([loc.id for loc in locations], 1)
        now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        temperatures = self.hourly or [self.temperature] * 48
        hours = tuple(
            ForecastHour(
                time=now + dt.timedelta(hours=i),
                temperature=t,
                feels_like=t - 1,
                precipitation_probability=20,
                precipitation=0.0,
                wind_speed=3.0,
                wind_gusts=6.0,
                clouds=50,
                uv_index=1.0,
                condition="Cloudy",
                icon="cloudy",
            )
            for i, t in enumerate(temperatures)
        )
        forecast = Forecast(
            issued_at=now,
            timezone="Europe/Paris",
            utc_offset_seconds=3600,
            step_hours=1,
            hourly=hours,
            daily=(),
        )
        return {loc.id: forecast for loc in locations}
