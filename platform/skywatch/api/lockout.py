"""Brute-force protection with django-axes: an account+address pair is locked after failures."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpResponse
from rest_framework.throttling import BaseThrottle

from skywatch.api.errors import error_response

LOCKED_OUT_MESSAGE = "Too many failed logins for this account from your address; try again later."


def lockout_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def client_address(request) -> str:
    """The caller's address, trusting DJANGO_NUM_PROXIES proxies (as DRF's throttles do)."""
    return BaseThrottle().get_ident(request)


def lockout_username(request, credentials: dict | None) -> str | None:
    """The e-mail being tried, normalised, so "Alice@X" and "alice@x" share one counter."""
    source = credentials or getattr(request, "data", None) or request.POST
    value = source.get("email") or source.get("login") or source.get("username")
    return str(value).strip().lower() if value else None


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out login gets: the API error format under /api/, plain text elsewhere."""
    retry_after = str(lockout_seconds())
    if request.path.startswith("/api/"):
        if isinstance(original_response, HttpResponse) and original_response.status_code == 429:
            return original_response
        response = error_response("locked_out", LOCKED_OUT_MESSAGE, status=429)
    else:
        response = HttpResponse(LOCKED_OUT_MESSAGE, status=429, content_type="text/plain")
    response["Retry-After"] = retry_after
    return response


class LockoutBackend(AxesStandaloneBackend):
    """Axes' lockout check; authentication without an HTTP request (tests, shell) is not watched."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
