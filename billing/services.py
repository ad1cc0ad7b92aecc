"""Writes about plans: the one way an account changes plan."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction

from billing.models import Plan
from billing.plans import DEFAULT_PLANS
from billing.signals import plan_changed
from skywatch.events import notify_users_on_commit

logger = logging.getLogger(__name__)


def plans_ensure() -> list[Plan]:
    """Create any default plan that is missing; existing plans keep their edited values."""
    return [
        Plan.objects.get_or_create(slug=plan["slug"], defaults=plan)[0] for plan in DEFAULT_PLANS
    ]


@transaction.atomic
def plan_change(*, user, plan: Plan) -> bool:
    """Move an account to `plan` and tell its tabs; `plan_changed` lets the apps above refit."""
    locked = get_user_model().objects.select_for_update().get(pk=user.pk)
    if locked.plan_id == plan.slug:
        return False
    locked.plan = plan
    locked.save(update_fields=["plan"])
    user.plan = plan
    logger.info("Plan of user %s changed to %s", locked.pk, plan.slug)
    notify_users_on_commit([locked.pk], {"type": "plan.changed", "plan": plan.as_dict()})
    plan_changed.send(sender=Plan, user=locked)
    return True
