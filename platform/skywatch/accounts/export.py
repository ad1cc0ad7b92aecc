"""'Export all my data': the account's own parts, and the sections the apps above add.

The apps above (subscriptions, alerts) own their data and register a builder for their section
in their AppConfig.ready(), so this module never imports them. Secrets (passwords, token hashes,
the share token) never appear in an export.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from skywatch.accounts.models import User
from skywatch.accounts.selectors import api_tokens_for
from skywatch.times import iso_z

# Every export has these sections, empty until an app registers a builder for one.
SECTIONS = ("subscriptions", "alerts", "alert_events", "search_history")

_builders: dict[str, Callable[[User], list]] = {}


def export_section_register(name: str, builder: Callable[[User], list]) -> None:
    """`builder(user)` returns the section's rows for that account, as plain JSON values."""
    _builders[name] = builder


def account_export(*, user: User) -> dict:
    """Everything the service keeps about one account, as one JSON document."""
    body: dict = {
        "exported_at": iso_z(timezone.now()),
        "account": {
            "id": user.pk,
            "email": user.email,
            "units": user.units,
            "plan": user.plan.as_dict(),
            "date_joined": iso_z(user.date_joined),
            "last_login": iso_z(user.last_login) if user.last_login else None,
        },
    }
    for name in SECTIONS:
        body[name] = []
    for name, builder in _builders.items():
        body[name] = builder(user)
    body["api_tokens"] = [
        {
            "name": token.name,
            "created_at": iso_z(token.created_at),
            "last_used_at": iso_z(token.last_used_at) if token.last_used_at else None,
        }
        for token in api_tokens_for(user=user)
    ]
    return body
