"""A social login never inherits an account pre-created under someone else's address."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, get_adapter
from rest_framework.test import APIClient

from skywatch.accounts.services import jwt_pair
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trusted_provider(monkeypatch):
    """A provider vouching for victim@example.com, with e-mail authentication on (settings)."""
    monkeypatch.setattr(
        DefaultSocialAccountAdapter, "can_authenticate_by_email", lambda *args: True
    )
    return SimpleNamespace(
        email_addresses=[EmailAddress(email="victim@example.com", verified=True)]
    )


def test_an_account_with_an_unverified_address_is_not_signed_into(trusted_provider):
    squatter = UserFactory(email="victim@example.com")
    EmailAddress.objects.create(user=squatter, email="victim@example.com", verified=False)

    assert get_adapter().authenticate_by_email(trusted_provider) is None


def test_an_account_that_verified_its_address_is_signed_into(trusted_provider):
    owner = UserFactory(email="victim@example.com")
    EmailAddress.objects.create(user=owner, email="victim@example.com", verified=True)

    assert get_adapter().authenticate_by_email(trusted_provider) == (owner, "victim@example.com")


def test_wiping_a_password_ends_the_accounts_tokens_too():
    user = UserFactory(email="squatter@example.com")
    access = jwt_pair(user=user)["access"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api.get("/api/me").status_code == 200

    # What allauth does to an unverified account it lets a social login into.
    user.set_unusable_password()
    user.save(update_fields=["password"])

    assert api.get("/api/me").status_code == 401
