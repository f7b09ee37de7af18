"""`make run`'s preparation step is idempotent: no duplicate demo data, no password reset."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from rempart.core.models import City, Organisation, Site

pytestmark = pytest.mark.django_db(transaction=False)


def counts() -> tuple[int, int, int, int]:
    return (
        City.objects.count(),
        Organisation.objects.count(),
        Site.objects.count(),
        get_user_model().objects.count(),
    )


def test_bootstrap_twice_is_idempotent() -> None:
    first = StringIO()
    call_command("bootstrap", stdout=first)
    assert "password:" in first.getvalue()
    admin = get_user_model().objects.get(username="admin")
    password_hash = admin.password
    assert admin.profile.must_change_password  # a one-time password: changed at first login
    demo_admin = get_user_model().objects.get(username="demo-admin")
    assert not getattr(getattr(demo_admin, "profile", None), "must_change_password", False)
    after_first = counts()
    assert Site.objects.filter(city__slug="helsinki-demo", is_demo=True).count() >= 4
    # one account per role, and a reviewer in each of two other organisations (practices)
    assert set(
        get_user_model()
        .objects.filter(username__startswith="demo-")
        .values_list("username", flat=True)
    ) == {
        "demo-viewer",
        "demo-editor",
        "demo-operator",
        "demo-supervisor",
        "demo-admin",
        "demo-reviewer-university",
        "demo-reviewer-police",
    }

    second = StringIO()
    call_command("bootstrap", stdout=second)
    assert counts() == after_first
    assert get_user_model().objects.get(username="admin").password == password_hash
    assert "already exists; password unchanged" in second.getvalue()
    assert "password:" not in second.getvalue()


def test_demo_sites_have_real_outlines_from_the_extract() -> None:
    call_command("demo", "load", stdout=StringIO())
    senate = Site.objects.get(name__startswith="Senaatintori")
    ring = senate.boundary["coordinates"][0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    # Senate Square, Helsinki: about 24.952°E, 60.169°N.
    assert 24.94 < min(lons) < max(lons) < 24.96
    assert 60.16 < min(lats) < max(lats) < 60.175
    assert senate.osm_ref == "relation/2919121"
