"""allauth adapters: a social login joins an existing account only through a verified address."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Signing in with GitHub or Google as the owner of an e-mail address logs into the local
    account of that address only when the account verified it: otherwise anyone could sign up
    with a stranger's address first and share the account the stranger then signs in to."""

    def authenticate_by_email(self, sociallogin):
        found = super().authenticate_by_email(sociallogin)
        if found is None:
            return None
        user, email = found
        if not EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
            return None
        return found
