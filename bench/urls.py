"""Skywatch's URLs plus the bare Django JSON view that REST figures are compared with."""

from django.http import JsonResponse
from django.urls import path

from skywatch.urls import urlpatterns as skywatch_urlpatterns


def bare_json(request):
    """The least a Django view can do: a session lookup and a small JSON answer."""
    return JsonResponse({"ok": True, "user": request.user.pk})


urlpatterns = [path("bench/bare", bare_json), *skywatch_urlpatterns]
