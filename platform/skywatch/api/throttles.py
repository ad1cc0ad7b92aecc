"""API rates: signed-in callers by their plan's `api_rate`, anonymous auth calls by address."""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

FALLBACK_RATE = "60/minute"


class PlanRateThrottle(SimpleRateThrottle):
    """The rate is read from the caller's Plan row on every request: admin edits apply at once."""

    scope = "plan"

    def __init__(self) -> None:
        # The rate is per caller, chosen in allow_request; nothing to read from settings here.
        self.rate = None

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if not user or not user.is_authenticated:
            return None
        return f"throttle:plan:{user.pk}"

    def allow_request(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return True
        self.rate = user.plan.api_rate
        try:
            self.num_requests, self.duration = self.parse_rate(self.rate)
        except (ValueError, KeyError, IndexError):
            logger.warning("Plan %s has an unreadable api_rate %r", user.plan_id, self.rate)
            self.rate = FALLBACK_RATE
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class AuthRateThrottle(SimpleRateThrottle):
    """Register, login, refresh and logout per client address, at API_AUTH_RATE."""

    scope = "auth"

    def get_rate(self) -> str:
        return settings.API_AUTH_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
