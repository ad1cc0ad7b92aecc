"""Pages: the landing page, the dashboard, a city's history and the read-only share pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from billing.models import Plan
from skywatch.accounts.models import User
from skywatch.accounts.selectors import share_owner, share_path, user_as_dict
from skywatch.accounts.services import share_token_rotate
from skywatch.errors import InvalidInput
from subscriptions.events import snapshot_events
from subscriptions.forecasts import forecast_as_dict
from subscriptions.history import city_histories, history_as_dict
from subscriptions.measures import alert_form_as_dict, unit_of
from subscriptions.ranges import history_range_parse
from subscriptions.selectors import (
    cities_followed_by,
    city_followed,
    city_forecast,
    subscriptions_for,
)


def landing(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "subscriptions/landing.html")


@login_required
def dashboard(request):
    user = request.user
    # The same snapshot and `forecast` message the websocket sends when it connects.
    snapshot, *forecasts = snapshot_events(user=user)
    subscriptions = snapshot["subscriptions"]
    return render(
        request,
        "subscriptions/dashboard.html",
        {
            "plan": user.plan,
            "subscriptions": subscriptions,
            "dashboard_state": {
                "subscriptions": subscriptions,
                "forecasts": forecasts[0]["updates"] if forecasts else [],
                "plan": user.plan.as_dict(),
                "units": user.units,
            },
        },
    )


QUICK_RANGE_LINKS = [("24h", "24 h"), ("7d", "7 days"), ("30d", "30 days"), ("all", "All")]


def _history_page(request, *, cities, units: str, live: bool) -> tuple[dict, int]:
    """The filter, each city's history and its chart data, or the filter's error (status 400)."""
    context = {"quick_ranges": QUICK_RANGE_LINKS, "histories": []}
    try:
        history_range = history_range_parse(request.GET)
    except InvalidInput as error:
        context.update(range_error=error.message, range_field=error.field)
        return context, 400
    histories = city_histories(cities=cities, history_range=history_range, units=units, live=live)
    context.update(
        history_range=history_range,
        active_range="all" if history_range.is_all else history_range.last,
        histories=[{"history": h, "data": history_as_dict(h)} for h in histories],
    )
    return context, 200


@login_required
def city(request, city_id: str):
    user = request.user
    followed = city_followed(user=user, city_id=int(city_id))
    if followed is None:
        raise Http404("You do not follow this city.")
    context, status = _history_page(request, cities=[followed], units=user.units, live=True)
    forecast = city_forecast(followed)
    context.update(
        forecast_state={
            "city_id": followed.pk,
            "timezone": followed.timezone,
            "unit_of": {m: unit_of(m, user.units) for m in ("temperature", "precipitation")},
            "forecast": forecast_as_dict(forecast, units=user.units, now=timezone.now())
            if forecast
            else None,
        },
        city=followed,
        share_url=request.build_absolute_uri(reverse("share", args=[user.share_token])),
        alert_state={
            "city_id": followed.pk,
            "subscription_id": subscriptions_for(user=user).get(city=followed).pk,
            **alert_form_as_dict(user.units),
        },
    )
    return render(request, "subscriptions/city.html", context, status=status)


def _shared(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    return response


def share(request, share_token: str):
    owner = share_owner(share_token=share_token)
    if owner is None:
        raise Http404("This share link does not exist (any more).")
    cities = cities_followed_by(user=owner)
    context, status = _history_page(request, cities=cities, units=owner.units, live=False)
    context.update(share_token=share_token, cities=cities)
    return _shared(render(request, "subscriptions/share.html", context, status=status))


def share_city(request, share_token: str, city_id: str):
    owner = share_owner(share_token=share_token)
    followed = city_followed(user=owner, city_id=int(city_id)) if owner else None
    if followed is None:
        raise Http404("This share link does not show that city.")
    context, status = _history_page(request, cities=[followed], units=owner.units, live=False)
    context.update(share_token=share_token, city=followed)
    return _shared(render(request, "subscriptions/share.html", context, status=status))


@login_required
@require_POST
def share_rotate(request):
    share_token_rotate(user=request.user)
    messages.success(request, "Here is a new share link. The old one no longer works.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("dashboard")
    return redirect(target)


@login_required
def settings_page(request):
    """Units, tokens, share link, plan, history, alerts, push, export and deletion."""
    user = request.user
    state = {
        "user": user_as_dict(user, share_url=request.build_absolute_uri(share_path(user))),
        "plans": [plan.as_dict() for plan in Plan.objects.order_by("city_limit", "slug")],
        "units_choices": User.Units.choices,
        "has_password": user.has_usable_password(),
    }
    return render(request, "subscriptions/settings.html", {"settings_state": state})
