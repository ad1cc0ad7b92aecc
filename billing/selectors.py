"""Reads about plans."""

from __future__ import annotations

from billing.models import Plan


def plan_list() -> list[Plan]:
    return list(Plan.objects.order_by("city_limit"))


def plan_get(*, slug: str) -> Plan | None:
    return Plan.objects.filter(slug=slug).first()
