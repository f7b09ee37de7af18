"""Audit entries of other cities: a core admin reads their cities' entries and the city-less
entries of their own organisation (people, logins with addresses, tokens), never another's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.core.audit_models import AuditEntry
from rempart.core.models import ApiToken, Organisation
from tests.conftest import SQUARE, USER_PASSWORD

pytestmark = pytest.mark.django_db

NICE_IP = "203.0.113.7"


@pytest.fixture
def lyon_org(other_city: Any) -> Any:
    org = Organisation.objects.create(name="Ville de Lyon", kind="municipality", city=other_city)
    org.cities.add(other_city)
    return org


@pytest.fixture
def nice_activity(make_user: Any, city: Any, client: Client) -> dict[str, Any]:
    """What happens in Nice: a login from an address, a failed login, a token, a barrier
    driver with its controller's address."""
    from rempart.access.models import Barrier, Lane, Zone

    operator = make_user("operator", username="nice-operator")
    client.post(
        reverse("login"),
        {"username": "nice-operator", "password": USER_PASSWORD},
        REMOTE_ADDR=NICE_IP,
    )
    Client().post(
        reverse("login"),
        {"username": "nice-operator", "password": "wrong"},
        REMOTE_ADDR=NICE_IP,
    )
    token, _secret = ApiToken.issue(operator, "camera Masséna", ["access:request"])
    zone = Zone.objects.create(city=city, ident="massena", timezone="Europe/Paris")
    lane = Lane.objects.create(zone=zone, ident="massena-in", direction="in")
    barrier = Barrier.objects.create(
        lane=lane, ident="massena-1", driver={"type": "modbus", "host": "10.20.30.40", "port": 502}
    )
    return {"operator": operator, "token": token, "barrier": barrier}


def _audit_page(client: Client, user: Any) -> str:
    client.force_login(user)
    response = client.get(reverse("core:audit_list"))
    assert response.status_code == 200
    return response.content.decode()


def test_another_citys_admin_sees_none_of_nice_entries(
    nice_activity: dict[str, Any], make_user: Any, lyon_org: Any
) -> None:
    lyon_admin = make_user("admin", modules=("core",), org=lyon_org, username="lyon-admin")
    page = _audit_page(Client(), lyon_admin)
    assert NICE_IP not in page
    assert "nice-operator" not in page
    assert "camera Masséna" not in page
    assert "10.20.30.40" not in page
    assert "massena-1" not in page


def test_the_organisations_own_admin_sees_them(
    nice_activity: dict[str, Any], make_user: Any
) -> None:
    nice_admin = make_user("admin", modules=("core",), username="nice-admin")
    page = _audit_page(Client(), nice_admin)
    assert NICE_IP in page
    assert "nice-operator" in page
    assert "camera Masséna" in page
    assert "massena-1" in page


def test_city_less_entries_record_the_organisation_they_concern(
    nice_activity: dict[str, Any], organisation: Any
) -> None:
    operator = nice_activity["operator"]
    login = AuditEntry.objects.get(action="login", object_id=str(operator.pk))
    failed = AuditEntry.objects.get(action="login_failed", object_repr="nice-operator")
    token = AuditEntry.objects.get(object_type="core.apitoken", action="create")
    assert (login.city, login.organisation_id, login.ip) == ("", organisation.pk, NICE_IP)
    assert (failed.city, failed.organisation_id) == ("", organisation.pk)
    assert (token.city, token.organisation_id) == ("", organisation.pk)
    barrier = AuditEntry.objects.get(object_type="access.barrier", action="create")
    assert barrier.city == "nice"


def test_a_failed_login_of_an_unknown_name_is_for_superusers_only(
    make_user: Any, lyon_org: Any, organisation: Any, client: Client
) -> None:
    from django.contrib.auth import get_user_model

    client.post(reverse("login"), {"username": "ghost", "password": "x"}, REMOTE_ADDR=NICE_IP)
    nice_admin = make_user("admin", modules=("core",), username="nice-admin")
    lyon_admin = make_user("admin", modules=("core",), org=lyon_org, username="lyon-admin")
    root = get_user_model().objects.create_superuser("root", password=USER_PASSWORD)
    assert "ghost" not in _audit_page(Client(), nice_admin)
    assert "ghost" not in _audit_page(Client(), lyon_admin)
    assert "ghost" in _audit_page(Client(), root)


def test_the_dashboard_shows_another_citys_admin_none_of_them(
    nice_activity: dict[str, Any], make_user: Any, lyon_org: Any
) -> None:
    lyon_admin = make_user("admin", modules=("core",), org=lyon_org, username="lyon-admin")
    client = Client()
    client.force_login(lyon_admin)
    response = client.get(reverse("core:dashboard"))
    assert response.status_code == 200
    shown = list(response.context["recent_audit"])
    assert shown
    assert all(entry.city in ("", "lyon") for entry in shown)
    assert all(entry.city == "lyon" or entry.organisation_id == lyon_org.pk for entry in shown)


def test_a_lyon_site_is_not_shown_to_nice(make_user: Any, lyon_org: Any, other_city: Any) -> None:
    from rempart.core.models import Site

    Site.objects.create(city=other_city, name="Place Bellecour", boundary=SQUARE)
    nice_admin = make_user("admin", modules=("core",), username="nice-admin")
    assert "Place Bellecour" not in _audit_page(Client(), nice_admin)
