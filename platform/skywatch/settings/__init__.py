"""Picks dev, prod or test settings from DJANGO_ENV."""

import os

_env = os.environ.get("DJANGO_ENV", "dev")
if _env == "prod":
    from skywatch.settings.prod import *  # noqa: F403
elif _env == "test":
    from skywatch.settings.test import *  # noqa: F403
elif _env == "dev":
    from skywatch.settings.dev import *  # noqa: F403
else:
    raise RuntimeError(f"DJANGO_ENV must be dev, prod or test, not {_env!r}.")
