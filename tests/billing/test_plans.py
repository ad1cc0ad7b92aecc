from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from billing.models import Plan
from billing.services import plan_change, plans_ensure
from skywatch.accounts.models import User


@pytest.mark.django_db
def test_the_migration_seeds_basic_and_premium():
    assert dict(Plan.objects.values_list("slug", "city_limit")) == {"basic": 3, "premium": 15}


def test_every_new_account_is_on_basic(db):
    user = User.objects.create_user("new@example.com", "a long password 1")
    assert user.plan.slug == "basic"


def test_plans_ensure_recreates_a_missing_plan_and_keeps_edits(db):
    Plan.objects.filter(slug="basic").update(city_limit=5)
    Plan.objects.filter(slug="premium").delete()
    plans_ensure()
    assert dict(Plan.objects.values_list("slug", "city_limit")) == {"basic": 5, "premium": 15}


def test_plan_change_tells_the_users_pages(alice, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "skywatch.events.notify_users", lambda ids, event: sent.append((list(ids), event))
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert plan_change(user=alice, plan=Plan.objects.get(slug="premium"))
    assert sent == [
        (
            [alice.pk],
            {
                "type": "plan.changed",
                "plan": {"slug": "premium", "name": "Premium", "city_limit": 15},
            },
        )
    ]
    alice.refresh_from_db()
    assert alice.plan_id == "premium"


def test_plan_change_to_the_same_plan_changes_nothing(alice):
    assert not plan_change(user=alice, plan=Plan.objects.get(slug="basic"))


def test_set_plan_moves_an_account(alice, capsys):
    call_command("set_plan", "ALICE@example.com", "premium")
    alice.refresh_from_db()
    assert alice.plan_id == "premium"
    assert "now on the Premium plan" in capsys.readouterr().out


def test_set_plan_refuses_unknown_accounts_and_plans(alice):
    with pytest.raises(CommandError, match="No account"):
        call_command("set_plan", "nobody@example.com", "premium")
    with pytest.raises(CommandError, match="basic, premium"):
        call_command("set_plan", "alice@example.com", "gold")
    alice.refresh_from_db()
    assert alice.plan_id == "basic"


def test_ensure_plans_command(db, capsys):
    call_command("ensure_plans")
    assert "basic (3 cities)" in capsys.readouterr().out


def test_admin_switches_a_user_to_premium_in_one_step(admin_client, alice, charlie):
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "switch_to_premium", "_selected_action": [alice.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 account(s) moved to the Premium plan" in response.content.decode()
    alice.refresh_from_db()
    charlie.refresh_from_db()
    assert (alice.plan_id, charlie.plan_id) == ("premium", "basic")


def test_admin_user_list_and_plan_form_edit(admin_client, alice):
    assert admin_client.get("/admin/accounts/user/").status_code == 200
    page = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in {"groups", "user_permissions", "password", "last_login"}
    }
    data.update(
        {
            "plan": "premium",
            "date_joined_0": alice.date_joined.date().isoformat(),
            "date_joined_1": "00:00:00",
        }
    )
    response = admin_client.post(f"/admin/accounts/user/{alice.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    alice.refresh_from_db()
    assert alice.plan_id == "premium"
