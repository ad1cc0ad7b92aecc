"""Writes about plans: the one way an account changes plan."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction

from billing.models import Plan
from billing.plans import DEFAULT_PLANS
from billing.selectors import plan_as_dict

logger = logging.getLogger(__name__)


def plans_ensure() -> list[Plan]:
    """Create any default plan that is missing; existing plans keep their edited values."""
    return [
        Plan.objects.get_or_create(slug=plan["slug"], defaults=plan)[0] for plan in DEFAULT_PLANS
    ]


@transaction.atomic
def plan_change(*, user, plan: Plan) -> bool:
    """Move an account to `plan`, pause or resume subscriptions to fit, and tell its tabs."""
    from notifications.publish import notify_users
    from subscriptions.services import subscriptions_fit_plan

    locked = get_user_model().objects.select_for_update().get(pk=user.pk)
    if locked.plan_id == plan.slug:
        return False
    locked.plan = plan
    locked.save(update_fields=["plan"])
    user.plan = plan
    changed = subscriptions_fit_plan(user=locked)
    logger.info("Plan of user %s changed to %s", locked.pk, plan.slug)
    event = {"type": "plan.changed", "plan": plan_as_dict(plan)}
    transaction.on_commit(lambda: notify_users([locked.pk], event))
    if changed:
        from subscriptions.selectors import subscription_list_as_dicts

        snapshot = {"type": "snapshot", "subscriptions": subscription_list_as_dicts(user=locked)}
        transaction.on_commit(lambda: notify_users([locked.pk], snapshot))
    return True
