"""Pages: the landing page and the dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from billing.selectors import plan_as_dict
from subscriptions.selectors import subscription_list_as_dicts


def landing(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "subscriptions/landing.html")


@login_required
def dashboard(request):
    user = request.user
    subscriptions = subscription_list_as_dicts(user=user)
    return render(
        request,
        "subscriptions/dashboard.html",
        {
            "plan": user.plan,
            "subscriptions": subscriptions,
            "dashboard_state": {
                "subscriptions": subscriptions,
                "plan": plan_as_dict(user.plan),
                "units": user.units,
            },
        },
    )
