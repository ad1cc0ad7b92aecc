from __future__ import annotations

import threading

import pytest
from django.db import connection

from billing.models import Plan
from billing.services import plan_change
from skywatch.errors import (
    AlreadySubscribed,
    CityNotFoundError,
    InvalidInput,
    NotFound,
    QuotaExceeded,
)
from subscriptions.models import City, Subscription
from subscriptions.services import subscription_create, subscription_delete

CITIES = [
    "London",
    "Paris",
    "Berlin",
    "Madrid",
    "Rome",
    "Vienna",
    "Oslo",
    "Lisbon",
    "Dublin",
    "Prague",
    "Warsaw",
    "Athens",
    "Helsinki",
    "Stockholm",
    "Budapest",
    "Brussels",
]


def test_it_follows_a_city_by_name(alice):
    subscription = subscription_create(user=alice, query="  Paris ")
    assert subscription.city.name == "Paris"
    assert subscription.city.country == "FR"
    assert not subscription.paused


def test_it_follows_a_city_by_search_key(alice):
    subscription = subscription_create(user=alice, key="gn:4717560")
    assert (subscription.city.name, subscription.city.admin1) == ("Paris", "Texas")


def test_two_followers_share_one_city_row(alice, bob):
    subscription_create(user=alice, query="London, GB")
    subscription_create(user=bob, query="london")
    assert City.objects.filter(name="London").count() == 1


def test_a_new_city_gets_its_first_reading_at_once(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        subscription = subscription_create(user=alice, query="Oslo")
    subscription.city.refresh_from_db()
    assert subscription.city.latest is not None


def test_it_refuses_a_made_up_city(alice):
    with pytest.raises(CityNotFoundError) as caught:
        subscription_create(user=alice, query="Xyzzyqwv")
    assert caught.value.field == "city"
    assert not Subscription.objects.exists()
    assert not City.objects.exists()


def test_it_refuses_an_unknown_key(alice):
    with pytest.raises(CityNotFoundError):
        subscription_create(user=alice, key="gn:999999999")


@pytest.mark.parametrize("query", ["", "   ", None, "x" * 101])
def test_it_refuses_blank_or_overlong_names(alice, query):
    with pytest.raises(InvalidInput):
        subscription_create(user=alice, query=query)


def test_it_refuses_the_same_city_twice(alice):
    subscription_create(user=alice, query="Rome")
    with pytest.raises(AlreadySubscribed):
        subscription_create(user=alice, query="rome")
    assert alice.subscriptions.count() == 1


def test_it_refuses_a_fourth_city_on_basic(alice):
    for name in CITIES[:3]:
        subscription_create(user=alice, query=name)
    with pytest.raises(QuotaExceeded) as caught:
        subscription_create(user=alice, query=CITIES[3])
    assert "3 cities" in caught.value.message
    assert alice.subscriptions.count() == 3


def test_premium_follows_fifteen_and_no_more(bob):
    for name in CITIES[:15]:
        subscription_create(user=bob, query=name)
    with pytest.raises(QuotaExceeded):
        subscription_create(user=bob, query=CITIES[15])
    assert bob.subscriptions.count() == 15


def test_deleting_someone_elses_subscription_is_not_found(alice, charlie):
    subscription = subscription_create(user=alice, query="Oslo")
    with pytest.raises(NotFound):
        subscription_delete(user=charlie, subscription_id=subscription.pk)
    assert Subscription.objects.filter(pk=subscription.pk).exists()


def test_a_downgrade_pauses_the_newest_cities_and_removals_resume_them(bob):
    subscriptions = [subscription_create(user=bob, query=name) for name in CITIES[:5]]
    plan_change(user=bob, plan=Plan.objects.get(slug="basic"))
    paused = list(bob.subscriptions.filter(paused=True).values_list("pk", flat=True))
    assert paused == [s.pk for s in subscriptions[3:]]
    subscription_delete(user=bob, subscription_id=subscriptions[0].pk)
    assert list(bob.subscriptions.filter(paused=True).values_list("pk", flat=True)) == [
        subscriptions[4].pk
    ]
    plan_change(user=bob, plan=Plan.objects.get(slug="premium"))
    assert not bob.subscriptions.filter(paused=True).exists()


def test_over_the_limit_after_a_downgrade_no_new_city_is_allowed(bob):
    for name in CITIES[:4]:
        subscription_create(user=bob, query=name)
    plan_change(user=bob, plan=Plan.objects.get(slug="basic"))
    with pytest.raises(QuotaExceeded):
        subscription_create(user=bob, query=CITIES[5])


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_parallel_adds_on_basic_leave_exactly_three():
    from tests.factories import UserFactory

    user = UserFactory(email="racer@example.com")
    # Resolve cities first so the race is about the quota, not about creating City rows.
    for name in CITIES[:10]:
        from subscriptions.services import city_resolve

        city_resolve(query=name)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def add(name: str) -> None:
        barrier.wait()
        try:
            subscription_create(user=user, query=name)
            outcomes.append("created")
        except QuotaExceeded:
            outcomes.append("quota")
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(name,)) for name in CITIES[:10]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] * 3 + ["quota"] * 7
    assert Subscription.objects.filter(user=user).count() == 3
