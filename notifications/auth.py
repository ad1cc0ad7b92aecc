"""Token schemes a websocket client may authenticate with; add a scheme with one line."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from skywatch.accounts.selectors import jwt_expires_at, user_for_api_token, user_for_jwt

logger = logging.getLogger(__name__)

# Each scheme takes a token string and returns the user it belongs to, or None.
TOKEN_SCHEMES: list[Callable[[str], object | None]] = [
    user_for_jwt,
    user_for_api_token,
]


def user_for_token(token) -> object | None:
    """The active user the first scheme recognises the token as, or None."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    for scheme in TOKEN_SCHEMES:
        try:
            user = scheme(token)
        except Exception:
            # A scheme choking on a malformed token must refuse it, not break the socket.
            logger.warning("Token scheme %s failed", getattr(scheme, "__name__", scheme))
            continue
        if user is not None and getattr(user, "is_active", False):
            return user
    return None


def token_expires_at(token) -> dt.datetime | None:
    """When a token stops working by itself (a JWT's expiry); None for tokens that do not."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    return jwt_expires_at(token)
