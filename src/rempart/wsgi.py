"""WSGI entry point (gunicorn rempart.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")
application = get_wsgi_application()
