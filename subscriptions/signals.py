"""What the pipeline tells the apps above without importing them."""

from collections.abc import Iterable

from django.dispatch import Signal

from subscriptions.models import City

# Sent inside the transaction that stored a batch: `city_ids` whose readings and/or forecasts
# were stored (receivers that write, write in the same transaction; they deliver on commit).
batch_stored = Signal()


def batch_stored_send(city_ids: Iterable[int]) -> None:
    ids = sorted(set(city_ids))
    if ids:
        batch_stored.send(sender=City, city_ids=ids)
