"""How API callers prove who they are: JWT Bearer, a personal X-API-Token, or the session."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication

from skywatch.accounts.selectors import api_token_find, jwt_user
from skywatch.accounts.services import api_token_touch

API_TOKEN_HEADER = "HTTP_X_API_TOKEN"  # noqa: S105 - a header name


class BearerJWTAuthentication(JWTAuthentication):
    """`Authorization: Bearer <access>`; first in the list, so anonymous calls get 401."""

    def get_validated_token(self, raw_token):
        try:
            return super().get_validated_token(raw_token)
        except exceptions.AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed(
                "The access token is invalid or expired; log in or refresh it."
            ) from exc

    def get_user(self, validated_token):
        """The token's owner, unless the token was revoked (logout, password change, "log out
        everywhere") or the account is gone or deactivated."""
        user = jwt_user(validated_token)
        if user is None:
            raise exceptions.AuthenticationFailed(
                "The access token was revoked or its account is inactive; log in again."
            )
        return user


class ApiTokenAuthentication(BaseAuthentication):
    """`X-API-Token: <personal token>`; a revoked or unknown token is refused, not ignored."""

    def authenticate(self, request):
        raw = request.META.get(API_TOKEN_HEADER)
        if not raw:
            return None
        token = api_token_find(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("The API token is invalid or revoked.")
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'X-API-Token realm="api"'
