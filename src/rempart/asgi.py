"""ASGI entry point (for servers that stream the control room's live events)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")
application = get_asgi_application()
