"""Share links: read-only charts behind a long random token that a new link retires."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CityFactory, SubscriptionFactory
from tests.history.conftest import at, put_readings
from tests.history.test_city_page import NASTY, chart_data


@pytest.fixture
def shared(alice, oslo):
    """alice follows Oslo (with readings) and paused Rome; her link is shared."""
    put_readings(oslo, [at("2026-03-01 10:00"), at("2026-03-02 10:00")])
    rome = CityFactory(name="Rome", country="IT")
    SubscriptionFactory(user=alice, city=rome, paused=True)
    return alice


def test_the_share_page_shows_a_chart_for_every_city_followed(client, shared, oslo):
    response = client.get(f"/share/{shared.share_token}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert [data["city_id"] for data in chart_data(response)] == [
        oslo.pk,
        shared.subscriptions.get(paused=True).city_id,
    ]
    assert "Oslo, NO" in content
    assert "Rome, IT" in content
    assert f'href="/share/{shared.share_token}/cities/{oslo.pk}/"' in content
    assert all(data["live"] is False for data in chart_data(response))


def test_the_share_page_is_read_only_and_shows_no_personal_data(client, shared):
    response = client.get(f"/share/{shared.share_token}/")
    content = response.content.decode()
    assert "alice" not in content.lower()
    assert "@" not in content
    assert '<form method="post"' not in content
    assert "New link" not in content
    assert "/dashboard/" not in content


def test_share_pages_ask_not_to_be_indexed_or_cached(client, shared, oslo):
    for path in (f"/share/{shared.share_token}/", f"/share/{shared.share_token}/cities/{oslo.pk}/"):
        response = client.get(path)
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()
        assert "no-store" in response["Cache-Control"]


def test_one_shared_city_with_the_same_filters(client, shared, oslo):
    response = client.get(
        f"/share/{shared.share_token}/cities/{oslo.pk}/?start=2026-03-02&end=2026-03-02"
    )
    assert response.status_code == 200
    (data,) = chart_data(response)
    assert data["city_id"] == oslo.pk
    assert len(data["time"]) == 1
    content = response.content.decode()
    assert f'href="/share/{shared.share_token}/?start=2026-03-02&amp;end=2026-03-02"' in content


def test_the_overview_links_keep_the_filter(client, shared, oslo):
    content = client.get(f"/share/{shared.share_token}/?last=7d").content.decode()
    assert f'href="/share/{shared.share_token}/cities/{oslo.pk}/?last=7d"' in content


def test_a_bad_date_on_a_share_page_is_a_clear_message(client, shared):
    response = client.get(f"/share/{shared.share_token}/?end=2026-13-01")
    assert response.status_code == 400
    assert "The end date “2026-13-01” is not a day of the calendar." in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize("token", ["nope", "x" * 43, "x" * 200, "%20", "%00", "a%00b", "%C3%A9"])
def test_an_unknown_token_is_not_found(client, shared, oslo, token):
    assert client.get(f"/share/{token}/").status_code == 404
    assert client.get(f"/share/{token}/cities/{oslo.pk}/").status_code == 404


def test_a_city_the_account_does_not_follow_is_not_found(client, shared, lima):
    put_readings(lima, [at("2026-03-01 10:00")])
    response = client.get(f"/share/{shared.share_token}/cities/{lima.pk}/")
    assert response.status_code == 404
    assert b"Lima" not in response.content
    assert client.get(f"/share/{shared.share_token}/cities/99999999/").status_code == 404


def test_another_accounts_token_does_not_open_my_city(client, shared, oslo, charlie):
    assert client.get(f"/share/{charlie.share_token}/cities/{oslo.pk}/").status_code == 404


def test_an_inactive_account_shares_nothing(client, shared):
    shared.is_active = False
    shared.save()
    assert client.get(f"/share/{shared.share_token}/").status_code == 404


def test_the_share_link_is_long_random_and_shown_on_the_city_page(alice, alice_client, oslo):
    assert len(alice.share_token) >= 43
    content = alice_client.get(f"/cities/{oslo.pk}/").content.decode()
    assert f'value="http://testserver/share/{alice.share_token}/"' in content
    assert 'action="/share/rotate/"' in content
    assert "csrfmiddlewaretoken" in content


def test_a_new_link_retires_the_old_one(alice, alice_client, oslo):
    old = alice.share_token
    response = alice_client.post("/share/rotate/", {"next": f"/cities/{oslo.pk}/?last=7d"})
    assert response.status_code == 302
    assert response["Location"] == f"/cities/{oslo.pk}/?last=7d"
    alice.refresh_from_db()
    assert alice.share_token != old
    assert len(alice.share_token) >= 43
    anonymous = Client()
    assert anonymous.get(f"/share/{old}/").status_code == 404
    assert anonymous.get(f"/share/{old}/cities/{oslo.pk}/").status_code == 404
    assert anonymous.get(f"/share/{alice.share_token}/").status_code == 200
    page = alice_client.get(response["Location"]).content.decode()
    assert "The old one no longer works" in page
    assert alice.share_token in page
    assert old not in page


def test_rotating_goes_back_only_to_this_site(alice_client):
    response = alice_client.post("/share/rotate/", {"next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


def test_rotating_needs_a_post_with_a_csrf_token(alice, oslo):
    old = alice.share_token
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get("/share/rotate/").status_code == 405
    assert browser.post("/share/rotate/").status_code == 403
    alice.refresh_from_db()
    assert alice.share_token == old


def test_rotating_needs_a_login(client, db):
    response = client.post("/share/rotate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_rotating_changes_only_my_link(alice_client, charlie):
    before = charlie.share_token
    alice_client.post("/share/rotate/")
    charlie.refresh_from_db()
    assert charlie.share_token == before


def test_shared_city_names_are_escaped(client, alice):
    city = CityFactory(name=NASTY, admin1='"><svg onload=alert(1)>')
    SubscriptionFactory(user=alice, city=city)
    put_readings(city, [at("2026-03-01 10:00")])
    for path in (f"/share/{alice.share_token}/", f"/share/{alice.share_token}/cities/{city.pk}/"):
        content = client.get(path).content.decode()
        assert "<script>alert" not in content
        assert "<svg" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_the_share_page_takes_the_same_queries_for_one_city_or_many(
    client, alice, django_assert_num_queries
):
    cities = [CityFactory() for _ in range(5)]
    SubscriptionFactory(user=alice, city=cities[0])
    put_readings(cities[0], [at("2026-03-01 10:00")])
    with django_assert_num_queries(4) as one:
        client.get(f"/share/{alice.share_token}/")
    for city in cities[1:]:
        SubscriptionFactory(user=alice, city=city)
        put_readings(city, [at("2026-03-01 10:00")])
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(chart_data(client.get(f"/share/{alice.share_token}/"))) == 5
