"""One requests session per provider: timeouts, a User-Agent, and failures a person can read."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from weather_provider.base import ProviderError
from weather_provider.secrets import register_secret

USER_AGENT = "Skywatch/0.1"
# (connect, read) seconds; a refresh batch must never hang a worker.
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 10.0)


class QueryKeyAuth(AuthBase):
    """Adds an API key as a query parameter when a request is sent, never to params or reprs.

    `key` is the key itself or a function returning it, read again at every request so that a
    rotated key file takes effect without a restart.
    """

    def __init__(self, parameter: str, key: str | Callable[[], str]) -> None:
        self.parameter = parameter
        self._key = key
        if isinstance(key, str):
            register_secret(key)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        key = self._key() if callable(self._key) else self._key
        request.prepare_url(request.url, {self.parameter: key})
        return request

    def __repr__(self) -> str:
        return f"QueryKeyAuth({self.parameter}=[redacted])"


def retry_after_seconds(value: str | None, *, default: float | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), else `default`."""
    if not value:
        return default
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def answered_at(response: requests.Response) -> dt.datetime:
    """When the provider answered, from its Date header; now when it sent none (UTC, seconds)."""
    try:
        when = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        when = None
    if when is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


class HttpClient:
    """A provider's shared session; transport failures become transient ProviderErrors."""

    def __init__(
        self,
        *,
        label: str,
        auth: AuthBase | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.label = label
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self.session.auth = auth
        # Retries belong to the refresh pipeline, which knows the budget; none happen here.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __repr__(self) -> str:
        return f"HttpClient({self.label})"

    def get(self, url: str, *, params: dict[str, Any]) -> requests.Response:
        """The answer to a GET, whatever its status; ProviderError when none arrives."""
        try:
            return self.session.get(url, params=params, timeout=self.timeout)
        except requests.Timeout:
            message = f"{self.label} did not answer in time; trying again later."
        except requests.ConnectionError:
            message = f"{self.label} could not be reached; trying again later."
        except requests.RequestException:
            message = f"The request to {self.label} failed; trying again later."
        # Raised outside the handler on purpose: requests' exception names the URL, key included,
        # and must not ride along as __context__ into logs or error reports.
        raise ProviderError(message)

    def json(self, response: requests.Response) -> Any:
        """The decoded JSON body; a transient ProviderError when it is not JSON."""
        with contextlib.suppress(ValueError):
            return response.json()
        raise ProviderError(f"{self.label} sent an answer that could not be read.")

    def close(self) -> None:
        self.session.close()
