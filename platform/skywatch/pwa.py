"""The installable app: the service worker at /sw.js (scope /) and the page it shows offline."""

from __future__ import annotations

from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# What the offline page needs, cached when the worker installs.
OFFLINE_ASSETS = ("vendor/bootstrap/bootstrap.min.css", "js/theme.js")


@require_GET
@cache_control(no_cache=True, max_age=0)
def service_worker(request):
    """Served from the root (not /static/) so that its scope can be the whole site."""
    response = render(
        request,
        "pwa/sw.js",
        {
            "offline_url": reverse("offline"),
            "assets": [static(path) for path in OFFLINE_ASSETS],
            "icon": static("icons/icon-192.png"),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request):
    """The same for everyone (it is cached without cookies): no account, no navigation."""
    return render(request, "pwa/offline.html")
