"""WSGI entry (management tools); the product is served through asgi.py."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skywatch.settings")
application = get_wsgi_application()
