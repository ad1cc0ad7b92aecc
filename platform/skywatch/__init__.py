"""Skywatch: the Django project (kept in platform/ under a name that does not shadow stdlib)."""

from skywatch.celery import app as celery_app

__all__ = ["celery_app"]
