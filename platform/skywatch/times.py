"""How Skywatch writes a moment for people and scripts: ISO 8601 in UTC, ending in Z."""

from __future__ import annotations

import datetime as dt


def iso_z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
