from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from skywatch.accounts.models import User
from subscriptions.models import City, Observation, Subscription


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("correct horse battery")
    plan_id = "basic"


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = City

    name = factory.Sequence(lambda n: f"Town {n}")
    country = "GB"
    admin1 = ""
    latitude = factory.Sequence(lambda n: -60 + (n * 7.3) % 120)
    longitude = factory.Sequence(lambda n: -170 + (n * 13.1) % 340)
    timezone = "UTC"


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    user = factory.SubFactory(UserFactory)
    city = factory.SubFactory(CityFactory)


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Observation

    city = factory.SubFactory(CityFactory)
    observed_at = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0))
    temperature = 7.4
    feels_like = 5.1
    humidity = 81
    clouds = 75
    wind_speed = 4.2
    wind_direction = 250
    precipitation_probability = 40
    pressure = 1012
    condition = "Light rain"
    icon = "rain"
    provider = "random"


def hours_ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)
