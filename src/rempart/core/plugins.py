"""How the core finds what each module app plugs in (see docs/architecture.md).

A module (``assess``, ``access``, ``practices``, ``exercises``) plugs in by defining an optional submodule:
``urls``, ``api``, ``dashboard``, ``site_panel``, ``demo``, ``retention``, ``wsgi`` (a
``wrap(application)`` putting a WSGI middleware in front of Django) or ``token_limits``
(``lanes(user)`` and ``zones(user)``: what the token form can limit a token to) or
``operator_gate`` (``refusal(user, city) -> str``: a non-empty line refuses opening or closing a
lane, e.g. without a certificate the city requires). A module without
that submodule is skipped; an error inside one that exists is raised, not hidden.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType

MODULE_APPS = ("assess", "access", "practices", "exercises", "prevention", "funding")


def plugins(name: str) -> Iterator[tuple[str, ModuleType]]:
    """(app label, ``rempart.<app>.<name>``) for every module app that defines it, in order."""
    for label in MODULE_APPS:
        if importlib.util.find_spec(f"rempart.{label}.{name}") is not None:
            yield label, importlib.import_module(f"rempart.{label}.{name}")
