"""Need-to-know through the pages: the access matrix, read logging with purpose, break-glass,
time-limited access, the second factor, and the steps of a case through HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from rempart.core.audit_models import AuditEntry
from rempart.prevention.models import Alert, Status, TeamMember
from tests.prevention.conftest import NAME, Unit, make_case


@pytest.fixture(autouse=True)
def _no_second_factor(settings: Any) -> None:
    settings.PREVENTION_REQUIRE_2FA = False


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _open(user: Any, case: Any, purpose: str = "casework") -> Any:
    url = reverse("prevention:case", kwargs={"pk": case.pk})
    return _client(user).get(url, {"purpose": purpose})


def test_the_access_matrix(unit: Unit) -> None:
    case = make_case(unit, Status.MONITORING)
    # the team and the coordinator see everything
    for user in (unit.worker, unit.coordinator):
        response = _open(user, case)
        assert response.status_code == 200 and NAME in response.content.decode()
    # the partner sees its action, not the name nor the concern
    partner = _open(unit.partner, case).content.decode()
    assert "Weekly mentoring" in partner and NAME not in partner and "Kestrel" not in partner
    # another unit member of the city: the locked profile (agencies only)
    locked = _open(unit.bystander, case)
    assert locked.status_code == 200
    text = locked.content.decode()
    assert "Lycée Masséna" in text and NAME not in text and "Quellec" not in text
    # another module's admin, a superuser without a unit role, a worker of another city: 404
    TeamMember.objects.create(
        case=case, user=unit.lyon_worker, organisation=unit.lyon_org, starts_at=timezone.now()
    )
    for user in (unit.access_admin, unit.superuser, unit.lyon_worker):
        before = AuditEntry.objects.filter(action="permission_denied").count()
        response = _open(user, case)
        assert response.status_code in (403, 404), user
        assert NAME not in response.content.decode()
        assert AuditEntry.objects.filter(action="permission_denied").count() == before + 1
    # a case id that does not exist answers the same
    missing = _client(unit.access_admin).get(reverse("prevention:case", kwargs={"pk": 99999}))
    assert missing.status_code in (403, 404)


def test_other_modules_cannot_learn_a_case_exists(unit: Unit) -> None:
    make_case(unit)
    client = _client(unit.access_admin)
    dashboard = client.get(reverse("core:dashboard")).content.decode()  # with its audit card
    assert "NIC-" not in dashboard and "/prevention/" not in dashboard
    assert client.get(reverse("prevention:index")).status_code == 403
    superuser_index = _client(unit.superuser).get(reverse("prevention:index")).content.decode()
    assert "NIC-" not in superuser_index


def test_every_read_is_audited_with_its_purpose(unit: Unit) -> None:
    case = make_case(unit)
    _open(unit.worker, case, "consultation")
    _open(unit.bystander, case)
    reads = AuditEntry.objects.filter(action="prevention_case_read", object_id=str(case.pk))
    assert [(e.actor, e.detail["purpose"], e.detail["access"]) for e in reads.order_by("seq")] == [
        ("worker", "consultation", "full"),
        ("bystander", "casework", "locked"),
    ]
    assert all(NAME not in e.object_repr for e in reads)


def test_break_glass_alerts_the_coordinator_and_expires(unit: Unit) -> None:
    case = make_case(unit)
    url = reverse("prevention:break_glass", kwargs={"pk": case.pk})
    client = _client(unit.bystander)
    assert client.post(url, {"reason": " ", "hours": 2}).status_code == 400
    assert client.post(url, {"reason": "Police call at night", "hours": 2}).status_code == 302
    assert NAME in _open(unit.bystander, case).content.decode()
    alert = Alert.objects.get(kind="break_glass")
    assert alert.user == unit.coordinator and alert.case_reference == case.reference
    grant = case.break_glass.get()
    assert grant.expires_at - grant.granted_at == dt.timedelta(hours=2)
    grant.granted_at -= dt.timedelta(hours=3)
    grant.expires_at -= dt.timedelta(hours=3)
    grant.save()
    assert NAME not in _open(unit.bystander, case).content.decode()  # locked again
    assert client.post(url, {"reason": "again", "hours": 48}).status_code == 400


def test_time_limited_team_access_ends(unit: Unit) -> None:
    case = make_case(unit)
    now = timezone.now()
    TeamMember.objects.create(
        case=case,
        user=unit.bystander,
        organisation=unit.unit_org,
        starts_at=now - dt.timedelta(hours=3),
        ends_at=now - dt.timedelta(hours=1),
    )
    assert NAME not in _open(unit.bystander, case).content.decode()


def test_a_partner_cannot_run_casework_steps(unit: Unit) -> None:
    case = make_case(unit, Status.ACCEPTED)
    client = _client(unit.partner)
    url = reverse("prevention:screen", kwargs={"pk": case.pk})
    assert client.post(url, {"decision": "accept", "reasons": "x"}).status_code == 403
    bystander = _client(unit.bystander).post(
        reverse("prevention:consent", kwargs={"pk": case.pk}), {}
    )
    assert bystander.status_code == 404


def test_steps_through_the_pages(unit: Unit) -> None:
    case = make_case(unit, Status.REFERRED)
    worker = _client(unit.worker)
    url = reverse("prevention:screen", kwargs={"pk": case.pk})
    bad = worker.post(url, {"decision": "maybe", "reasons": "x"})
    assert bad.status_code == 400 and "Decision" in bad.content.decode()
    assert (
        worker.post(url, {"decision": "accept", "reasons": "Specific concern"}).status_code == 302
    )
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    again = worker.post(url, {"decision": "accept", "reasons": "twice"})
    assert again.status_code == 400 and "cannot screen" in again.content.decode()


def test_casework_needs_a_second_factor(unit: Unit, settings: Any) -> None:
    settings.PREVENTION_REQUIRE_2FA = True
    case = make_case(unit)
    client = Client()
    client.force_login(unit.worker)
    url = reverse("prevention:case", kwargs={"pk": case.pk})
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("prevention:two_factor"))
    page = client.get(response["Location"])
    assert page.status_code == 200 and "totp-secret" in page.content.decode()
    device = TOTPDevice.objects.get(user=unit.worker)
    wrong = client.post(response["Location"], {"token": "12"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows guessing down after a failure
    token = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
    verified = client.post(response["Location"], {"token": f"{token:06d}", "next": url})
    assert verified.status_code == 302 and verified["Location"] == url
    device.refresh_from_db()
    assert device.confirmed
    assert NAME in client.get(url).content.decode()


def test_rights_requests_are_logged_and_restriction_stops_casework(unit: Unit) -> None:
    case = make_case(unit, Status.ACCEPTED)
    coordinator = _client(unit.coordinator)
    rights = reverse("prevention:rights", kwargs={"pk": case.pk})
    answer = coordinator.post(
        rights, {"kind": "restriction", "received_on": "2026-04-01", "note": "Contests accuracy"}
    )
    assert answer.status_code == 302
    case.refresh_from_db()
    assert case.restricted
    entry = AuditEntry.objects.get(action="prevention_rights_request")
    assert entry.detail == {"kind": "restriction"}
    blocked = _client(unit.worker).post(
        reverse("prevention:consent", kwargs={"pk": case.pk}), {"purpose": "share"}
    )
    assert blocked.status_code == 400 and "restricted" in blocked.content.decode()
    coordinator.post(
        rights,
        {
            "kind": "rectification",
            "received_on": "2026-04-03",
            "note": "Date of birth corrected",
            "lift_restriction": "on",
        },
    )
    case.refresh_from_db()
    assert not case.restricted and case.rights_requests.count() == 2


def test_a_partner_lists_only_its_own_organisations_actions(unit: Unit) -> None:
    from rempart.prevention import workflow

    case = make_case(unit, Status.MONITORING)
    workflow.add_action(
        case,
        unit.worker,
        kind="housing",
        description="Housing application",
        partner=unit.unit_org,
        owner=unit.worker,
        due_on=dt.date(2026, 7, 1),
    )
    page = _client(unit.partner).get(reverse("prevention:index")).content.decode()
    assert "Mentoring" in page and "Housing" not in page
    assert NAME not in page


def test_the_dashboard_tells_the_coordinator_and_nobody_else(unit: Unit) -> None:
    from tests.conftest import dashboard_waiting

    case = make_case(unit, Status.CLOSURE_REQUESTED)
    _client(unit.bystander).post(
        reverse("prevention:break_glass", kwargs={"pk": case.pk}),
        {"reason": "Night call", "hours": 1},
    )
    waiting = dict(
        (what, count) for what, count, _link in dashboard_waiting(Client(), unit.coordinator)
    )
    assert waiting == {"prevention alerts": 1, "cases waiting for a coordinator": 1}
    assert dashboard_waiting(Client(), unit.access_admin) == []
    assert dashboard_waiting(Client(), unit.superuser) == []
    _client(unit.coordinator).post(reverse("prevention:alerts_read"))
    waiting = dict((w, n) for w, n, _link in dashboard_waiting(Client(), unit.coordinator))
    assert "prevention alerts" not in waiting
