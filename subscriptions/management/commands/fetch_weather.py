"""`manage.py fetch_weather [--city NAME] [--forecast]`: refresh the readings (or forecasts) of
followed cities now, through the pipeline."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from skywatch.errors import SkywatchError
from subscriptions.models import City
from subscriptions.refresh import refresh_cities, refresh_followed_cities
from subscriptions.services import city_resolve
from weather_provider import get_provider
from weather_provider.limiter import provider_budget


def counted(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"


class Command(BaseCommand):
    help = (
        "Refresh every followed city now, waiting for the provider budget, or with --city one "
        "city (followed or not), and print cities, calls, failures and seconds; with "
        "--forecast, their forecasts instead of their readings."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--city", help="a city name as a person would type it, e.g. Paris, FR")
        parser.add_argument(
            "--forecast", action="store_true", help="refresh forecasts instead of readings"
        )

    def handle(self, *args, city: str | None = None, forecast: bool = False, **options) -> None:
        provider = get_provider()
        self.stdout.write(f"Provider {provider.name}, budget {provider_budget(provider)}")
        target = self._resolve(city) if city else None
        bar = tqdm(total=0, unit="city", file=sys.stderr, disable=options["verbosity"] == 0)

        def progress(done: int, total: int) -> None:
            if bar.total != total:
                bar.total = total
                bar.refresh()
            bar.update(done)

        with bar:
            if target is not None:
                readings, forecasts = ([], [target]) if forecast else ([target], [])
                summary = refresh_cities(
                    readings, forecasts=forecasts, progress=progress, max_wait=None, attempts=None
                )
            else:
                summary = refresh_followed_cities(
                    progress=progress, everything=True, readings=not forecast, forecasts=forecast
                )
        if summary.skipped:
            raise CommandError(
                "Another refresh cycle is running right now; try again when it ends."
            )
        if forecast:
            asked, failures, what = summary.forecasts, summary.forecast_failures, "forecasts"
            shown = counted(asked, "forecast")
        else:
            asked, failures, what = summary.cities, summary.failures, "cities"
            shown = counted(asked, "city", "cities")
        self.stdout.write(
            f"{shown}, {counted(summary.calls, 'call')}, "
            f"{counted(failures, 'failure')}, {summary.seconds:.1f} seconds"
        )
        if failures:
            raise CommandError(f"Some {what} could not be refreshed: " + "; ".join(summary.errors))

    def _resolve(self, name: str) -> City:
        try:
            city = city_resolve(query=name)
        except SkywatchError as exc:
            raise CommandError(exc.message) from None
        followers = city.subscriptions.filter(paused=False).count()
        self.stdout.write(
            f"{city.label}: followed by {counted(followers, 'person', 'people')}"
            + ("" if followers else " (refreshed on request all the same)")
        )
        return city
