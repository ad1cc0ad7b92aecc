"""An alert rule as a person writes it (JSON in their units) and as the API shows it."""

from __future__ import annotations

import contextlib
import math
import zoneinfo

from notifications.models import CHANNELS, METRICS, OPERATORS, SOURCES, Alert, AlertEvent
from skywatch.errors import InvalidInput
from skywatch.times import iso_z
from subscriptions.measures import from_units, in_units, unit_of
from subscriptions.readings import city_as_dict

# What each source has: a reading has no gusts, rain amount or UV; a forecast hour no humidity.
SOURCE_METRICS = {
    "now": ("temperature", "feels_like", "wind_speed", "precipitation_probability", "humidity"),
    "forecast": (
        "temperature",
        "feels_like",
        "wind_speed",
        "wind_gusts",
        "precipitation_probability",
        "precipitation",
        "uv_index",
    ),
}
METRIC_NAMES = {
    "temperature": "temperature",
    "feels_like": "feels like",
    "wind_speed": "wind speed",
    "wind_gusts": "wind gusts",
    "precipitation_probability": "chance of rain",
    "precipitation": "precipitation",
    "humidity": "humidity",
    "uv_index": "UV index",
}
MAX_WITHIN_HOURS = 48
WRITABLE = ("metric", "operator", "threshold", "source", "within_hours", "channels", "enabled")


def _choice(body: dict, name: str, choices: tuple[str, ...]) -> str:
    value = body.get(name)
    if not isinstance(value, str) or value not in choices:
        raise InvalidInput(f"{name} is one of: {', '.join(choices)}.", field=name)
    return value


def _number(body: dict, name: str) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name} is a number.", field=name)
    try:
        number = float(value)
    except OverflowError as exc:
        raise InvalidInput(f"{name} is too large.", field=name) from exc
    if not math.isfinite(number):
        raise InvalidInput(f"{name} is a number.", field=name)
    return number


def rule_clean(body: dict, *, units: str, current: Alert | None = None) -> dict:
    """The model fields of a rule from a JSON body (all of them for a new rule, the changed ones
    merged with `current` for an edit); InvalidInput names the field at fault."""
    if not isinstance(body, dict):
        raise InvalidInput("Send a JSON object.")
    if current is not None:
        merged = {
            "metric": current.metric,
            "operator": current.operator,
            "threshold": alert_threshold_shown(current, units=units),
            "source": current.source,
            "within_hours": current.within_hours,
            "channels": current.channels,
            "enabled": current.enabled,
        }
        if "source" in body and body.get("source") == "now" and "within_hours" not in body:
            merged["within_hours"] = None
        merged.update({name: body[name] for name in WRITABLE if name in body})
        body = merged
    metric = _choice(body, "metric", METRICS)
    operator = _choice(body, "operator", OPERATORS)
    typed = _number(body, "threshold")
    source = _choice(body, "source", SOURCES)
    if metric not in SOURCE_METRICS[source]:
        raise InvalidInput(
            f"{METRIC_NAMES[metric].capitalize()} is not available for source {source}.",
            field="metric",
        )
    within = body.get("within_hours")
    if source == "forecast":
        if isinstance(within, bool) or not isinstance(within, int):
            raise InvalidInput("within_hours is a whole number from 1 to 48.", field="within_hours")
        if not 1 <= within <= MAX_WITHIN_HOURS:
            raise InvalidInput("within_hours is a whole number from 1 to 48.", field="within_hours")
    elif within is not None:
        raise InvalidInput("within_hours is only for source forecast.", field="within_hours")
    channels = body.get("channels", ["web", "email"])
    if (
        not isinstance(channels, list)
        or not channels
        or not all(isinstance(c, str) and c in CHANNELS for c in channels)
        or len(set(channels)) != len(channels)
    ):
        raise InvalidInput("channels is a non-empty list of web, email, push.", field="channels")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidInput("enabled is true or false.", field="enabled")
    threshold = from_units(metric, typed, units)
    if not math.isfinite(threshold):
        raise InvalidInput("threshold is too large.", field="threshold")
    return {
        "metric": metric,
        "operator": operator,
        "threshold": threshold,
        "typed_threshold": typed,
        "typed_units": units,
        "source": source,
        "within_hours": within if source == "forecast" else None,
        "channels": [c for c in CHANNELS if c in channels],
        "enabled": enabled,
    }


def threshold_shown(metric: str, threshold: float, typed: float, typed_units: str, units: str):
    """A threshold as the person sees it: as typed when the units are the same, else converted."""
    if units == typed_units:
        return typed
    shown = in_units(metric, threshold, units, digits=2)
    return shown if math.isfinite(shown) else typed


def alert_threshold_shown(alert: Alert, *, units: str):
    return threshold_shown(
        alert.metric, alert.threshold, alert.typed_threshold, alert.typed_units, units
    )


def alert_as_dict(alert: Alert, *, units: str) -> dict:
    return {
        "id": alert.pk,
        "subscription_id": alert.subscription_id,
        "city": city_as_dict(alert.subscription.city),
        "metric": alert.metric,
        "operator": alert.operator,
        "threshold": alert_threshold_shown(alert, units=units),
        "source": alert.source,
        "within_hours": alert.within_hours,
        "channels": list(alert.channels),
        "enabled": alert.enabled,
        "state": alert.state,
        "last_fired_at": iso_z(alert.last_fired_at) if alert.last_fired_at else None,
        "created_at": iso_z(alert.created_at),
    }


def event_as_dict(event: AlertEvent, *, units: str, city) -> dict:
    return {
        "id": event.pk,
        "alert_id": event.alert_id,
        "city": city_as_dict(city),
        "metric": event.metric,
        "operator": event.operator,
        "threshold": threshold_shown(
            event.metric, event.threshold, event.typed_threshold, event.typed_units, units
        ),
        "value": value_shown(event.metric, event.value, units),
        "source": event.source,
        "for_time": iso_z(event.for_time),
        "fired_at": iso_z(event.fired_at),
        "message": event.message,
    }


def value_shown(metric: str, value: float, units: str):
    if metric in ("precipitation_probability", "humidity"):
        return round(value)
    return in_units(metric, value, units)


def _number_text(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.3g}"


def _local_time(city, when) -> str:
    zone = zoneinfo.ZoneInfo("UTC")
    if city.timezone:
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(city.timezone)
    return when.astimezone(zone).strftime("%H:%M")


def event_message(*, city, alert: Alert, value: float, for_time, units: str) -> str:
    """The sentence a person reads, beginning with the city, in their units and its local time:
    "Paris, FR: wind gusts 21 m/s expected at 15:00, above your 15 m/s"."""
    unit = unit_of(alert.metric, units)
    sep = "" if unit in ("%", "") else " "
    shown = value_shown(alert.metric, value, units)
    threshold = alert_threshold_shown(alert, units=units)
    when = "expected at" if alert.source == "forecast" else "at"
    text = (
        f"{city.label}: {METRIC_NAMES[alert.metric]} {_number_text(shown)}{sep}{unit} "
        f"{when} {_local_time(city, for_time)}, {alert.operator} your "
        f"{_number_text(threshold)}{sep}{unit}"
    )
    return text[:300]
