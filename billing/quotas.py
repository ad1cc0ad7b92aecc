"""Quota decisions: a plan's limit against what the account already uses.

The caller counts and inserts inside one transaction that holds the account's row lock, so
parallel requests cannot both pass the same check.
"""

from __future__ import annotations

from billing.models import Plan
from skywatch.errors import QuotaExceeded


def city_quota_check(*, plan: Plan, used: int) -> None:
    """Refuse one more city when the account already follows as many as its plan allows."""
    limit = plan.city_limit
    if used >= limit:
        raise QuotaExceeded(
            f"Your {plan.name.lower()} plan allows {limit} "
            f"{'city' if limit == 1 else 'cities'}. Remove one or upgrade to follow more.",
            field="city",
        )


def alert_quota_check(*, plan: Plan, used: int) -> None:
    """Refuse one more alert rule when the account already has as many as its plan allows."""
    limit = plan.alert_limit
    if used >= limit:
        raise QuotaExceeded(
            f"Your {plan.name.lower()} plan allows {limit} "
            f"{'alert' if limit == 1 else 'alerts'}. Delete one or upgrade to set more.",
        )
