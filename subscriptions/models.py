"""Cities, who follows them, every reading ever stored for them, and their latest forecast."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class City(models.Model):
    """A place shared by all its followers: two people following "London, GB" share one row."""

    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2)
    admin1 = models.CharField("region", max_length=200, blank=True, default="")
    latitude = models.FloatField()
    longitude = models.FloatField()
    timezone = models.CharField(max_length=64, blank=True, default="")
    latest = models.ForeignKey(
        "Observation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The newest stored reading, so a dashboard needs no scan of history.",
    )
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    stale = models.BooleanField(default=False, help_text="The last refresh of this city failed.")
    last_error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "cities"
        ordering = ["name", "country"]
        constraints = [
            models.UniqueConstraint(fields=["name", "country", "admin1"], name="city_unique_place"),
        ]
        indexes = [models.Index(fields=["last_refreshed_at"], name="city_staleness")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        parts = [self.name, self.admin1, self.country]
        return ", ".join(part for part in parts if part)


class Subscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="subscriptions")
    created_at = models.DateTimeField(auto_now_add=True)
    paused = models.BooleanField(
        default=False, help_text="Over the plan's limit: kept, but not refreshed or pushed."
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "city"], name="subscription_unique_city"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.city}"


class Observation(models.Model):
    """One reading of a city, in metric units; unique per city and observed time."""

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="observations")
    observed_at = models.DateTimeField()
    temperature = models.FloatField()
    feels_like = models.FloatField()
    humidity = models.PositiveSmallIntegerField()
    clouds = models.PositiveSmallIntegerField()
    wind_speed = models.FloatField()
    wind_direction = models.PositiveSmallIntegerField()
    precipitation_probability = models.PositiveSmallIntegerField(null=True, blank=True)
    pressure = models.FloatField()
    condition = models.CharField(max_length=100)
    icon = models.CharField(max_length=32)
    provider = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["city", "observed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "observed_at"], name="observation_unique_city_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.city} at {self.observed_at:%Y-%m-%d %H:%M}"


class Forecast(models.Model):
    """A city's latest forecast, in metric units: a new one replaces it (it is not history).

    Hours and days are kept as the provider gave them (JSON lists of ForecastHour and
    ForecastDay, times in ISO 8601), so 15 cards or a batch's alerts read them in one query.
    """

    city = models.OneToOneField(
        City, primary_key=True, on_delete=models.CASCADE, related_name="forecast"
    )
    provider = models.CharField(max_length=32)
    issued_at = models.DateTimeField()
    fetched_at = models.DateTimeField(db_index=True)
    timezone = models.CharField(max_length=64, blank=True, default="")
    utc_offset_seconds = models.IntegerField(default=0)
    step_hours = models.PositiveSmallIntegerField(default=1)
    hourly = models.JSONField(default=list)
    daily = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"Forecast of {self.city} issued {self.issued_at:%Y-%m-%d %H:%M}"


class SearchHistory(models.Model):
    """One weather search as the person typed it (trimmed), newest first."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="searches"
    )
    city_name = models.CharField(max_length=100)
    timestamp = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "search history"
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["user", "-timestamp"], name="search_history_newest")]

    def __str__(self) -> str:
        return f"{self.user}: {self.city_name}"
