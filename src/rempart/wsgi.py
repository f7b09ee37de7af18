"""WSGI entry point (``rempart serve`` runs it in granian): Django, behind the modules' ``wsgi`` plug-ins.

A module may put a WSGI middleware in front of Django for a path that cannot afford Django's
request machinery (``rempart.access.wsgi``: camera reads); see docs/architecture.md.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rempart.settings")
application = get_wsgi_application()

from rempart.core.plugins import plugins  # noqa: E402  (needs the settings configured)

for _label, _module in plugins("wsgi"):
    application = _module.wrap(application)
