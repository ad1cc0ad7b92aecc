"""ASGI entry: Django for HTTP, Channels for /ws/, and the embedded scheduler's lifespan."""

import os
import sys
from pathlib import Path

_root = Path(__file__).resolve().parents[2]
for _path in (str(_root), str(_root / "platform")):
    if _path not in sys.path:
        sys.path.insert(1, _path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skywatch.settings")

import django  # noqa: E402

# Django must be set up before any code that imports models (consumers, routing).
django.setup(set_prefix=False)

from skywatch.http import OneHopASGIHandler  # noqa: E402

django_application = OneHopASGIHandler()

from skywatch.lifespan import LifespanApp  # noqa: E402
from skywatch.logs import redact_every_handler  # noqa: E402
from skywatch.routing import build_router  # noqa: E402

# uvicorn set up its own log handlers before loading this module; they redact secrets too.
redact_every_handler()

application = LifespanApp(build_router(django_application))
