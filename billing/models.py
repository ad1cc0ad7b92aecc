"""Plans: how many cities and alert rules an account may have and how fast it may call the API."""

from __future__ import annotations

from django.db import models


class Plan(models.Model):
    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    city_limit = models.PositiveIntegerField(help_text="How many cities an account may follow.")
    alert_limit = models.PositiveIntegerField(
        default=3, help_text="How many alert rules an account may set."
    )
    on_demand_per_hour = models.PositiveIntegerField(
        "on-demand reads an hour",
        default=30,
        help_text="Weather searches and refresh-now calls to the provider an account may make "
        "in any hour (a reading fresh enough is served without one).",
    )
    api_rate = models.CharField(
        max_length=32,
        default="60/minute",
        help_text="API requests allowed, e.g. 60/minute or 1000/hour.",
    )

    class Meta:
        ordering = ["city_limit"]

    def __str__(self) -> str:
        return self.name

    def as_dict(self) -> dict:
        """The plan as the API and the pages show it."""
        return {"slug": self.slug, "name": self.name, "city_limit": self.city_limit}
