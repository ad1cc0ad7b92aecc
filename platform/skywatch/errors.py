"""Errors a person can act on: each has the code, status and field of the API error format."""

from __future__ import annotations


class SkywatchError(Exception):
    """A refusal with a reason; the API renders it as {"code", "message", "field"}."""

    code = "invalid"
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(SkywatchError):
    code = "invalid"
    status_code = 400


class NotFound(SkywatchError):
    code = "not_found"
    status_code = 404


class QuotaExceeded(SkywatchError):
    code = "quota_exceeded"
    status_code = 403


class AlreadySubscribed(SkywatchError):
    code = "already_subscribed"
    status_code = 409


class CityNotFoundError(SkywatchError):
    code = "city_not_found"
    status_code = 400


class ProviderUnavailable(SkywatchError):
    code = "provider_unavailable"
    status_code = 503


class Throttled(SkywatchError):
    """The provider budget (or the API rate) is spent for now; `retry_after` says for how long."""

    code = "throttled"
    status_code = 429

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationFailed(SkywatchError):
    code = "authentication_failed"
    status_code = 401


class LockedOut(SkywatchError):
    """Too many failed logins for this account from this address; `retry_after` in seconds."""

    code = "locked_out"
    status_code = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
