"""Permits one by one in the web: create, edit, suspend / revoke / reactivate with a reason; the
load file's rules (one validator for the load file, the CSV import and the form), audited, and
applied to the very next read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rempart.access import services
from rempart.access.models import Permit
from rempart.access.plates import verify_pin
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import lyon_supervisor, make_zone, permits, zone  # noqa: F401

pytestmark = pytest.mark.django_db

NEW = "/access/permits/new/"
GOOD = {
    "id": "florist-2027",
    "plate": "fl-123-ow",
    "holder": "Fleurs du Cours",
    "holder_contact": "+33 4 93 11 11 11",
    "category": "delivery",
    "max_mass_kg": "3500",
    "zones": ["old-town"],
    "windows": "mon-fri 06:00-09:30; sat 07:00-08:00",
    "valid_from": "2027-01-01",
    "valid_to": "2027-12-31",
    "exception_dates": "2027-07-14 2027-08-15",
    "pin": "73914268",
}


def edit_url(ident: str) -> str:
    return f"/access/permits/{ident}/edit/"


def status_url(ident: str) -> str:
    return f"/access/permits/{ident}/status/"


def read(plate: str = "EM-112-AA", lane: str = "old-town-in") -> Any:
    """A confident plate read now, through the service layer (the camera's rules)."""
    return services.submit_request(lane, plate=plate, confidence=0.99).decision


def test_permission_matrix(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
    other_city: Any,
) -> None:
    pages = [NEW, edit_url("samu")]
    change = {"status": "suspended", "reason": "stolen", "confirm": "on"}
    for page in pages:
        assert client.get(page).status_code == 302
    assert client.post(status_url("samu"), change).status_code == 302
    client.force_login(make_user("viewer", modules=("access",)))
    for page in pages:
        assert client.get(page).status_code == 403
    assert client.post(NEW, GOOD).status_code == 403
    assert client.post(edit_url("samu"), {**GOOD, "holder": "x"}).status_code == 403
    assert client.post(status_url("samu"), change).status_code == 403
    # another city's staff does not find Nice's permits (ids are per city)
    client.force_login(lyon_supervisor(make_user, other_city))
    assert client.get(edit_url("samu")).status_code == 404
    assert client.post(status_url("samu"), change).status_code == 404
    assert Permit.objects.get(ident="samu").status == "active"
    assert Permit.objects.get(ident="samu").holder == "SAMU 06"
    assert AuditEntry.objects.filter(action="permission_denied").count() == 5
    # editors (the permit office) and above
    for role in ("editor", "operator", "supervisor"):
        client.force_login(make_user(role, modules=("access",)))
        assert client.get(NEW).status_code == 200
        assert client.get(edit_url("samu")).status_code == 200


def test_the_permits_list_links_to_the_forms_for_editors_only(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
) -> None:
    client.force_login(make_user("viewer", modules=("access",)))
    page = client.get("/access/permits/").content.decode()
    assert NEW not in page and edit_url("samu") not in page
    client.force_login(make_user("editor", modules=("access",)))
    page = client.get("/access/permits/").content.decode()
    assert NEW in page and edit_url("samu") in page


def test_create_a_permit(client: Any, make_user: Any, zone: Any) -> None:  # noqa: F811
    editor = make_user("editor", modules=("access",))
    client.force_login(editor)
    response = client.post(NEW, GOOD)
    assert response.status_code == 302 and response["Location"] == "/access/permits/"
    permit = Permit.objects.get(ident="florist-2027")
    assert permit.plate == "FL123OW" and permit.category == "delivery"
    assert permit.holder == "Fleurs du Cours" and permit.holder_contact == "+33 4 93 11 11 11"
    assert permit.max_mass_kg == 3500 and permit.status == "active"
    assert [z.ident for z in permit.zones.all()] == ["old-town"]
    assert permit.windows == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "06:00", "to": "09:30"},
        {"days": ["sat"], "from": "07:00", "to": "08:00"},
    ]
    assert (permit.valid_from, permit.valid_to) == (dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    assert permit.exception_dates == ["2027-07-14", "2027-08-15"]
    assert permit.pin_hash.startswith("scrypt$") and verify_pin("73914268", permit.pin_hash)
    created = AuditEntry.objects.get(action="create", object_type="access.permit")
    assert created.actor == editor.username
    assert created.changes["after"]["pin_hash"] == "[redacted]"
    assert AuditEntry.objects.filter(
        action="update", object_type="access.permit", detail__relation="access.zone"
    ).exists()
    # the PIN itself is written nowhere in the audit trail
    for entry in AuditEntry.objects.all():
        assert "73914268" not in str(entry.changes) + str(entry.detail)


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"plate": "A"}, "plate", "permit.plate: "),
        ({"plate": ""}, "plate", "permit.plate: is required"),
        ({"holder": ""}, "holder", "permit.holder: is required"),
        ({"category": ""}, "category", "permit.category: is required"),
        ({"zones": []}, "zones", "permit.zones: must not be empty"),
        ({"windows": "mon-sun 25:00-26:00"}, "windows", "permit.windows[0].from: '25:00'"),
        ({"windows": "someday 06:00-07:00"}, "windows", "permit.windows[0].days[0]: 'someday'"),
        ({"windows": "mon 0600"}, "windows", "'mon 0600' is not a window"),
        ({"max_mass_kg": "-3"}, "max_mass_kg", "permit.max_mass_kg: '-3' is not a whole number"),
        ({"valid_from": "2027-13-01"}, "valid_from", "permit.valid_from: '2027-13-01' is not a"),
        ({"valid_to": "2026-01-01"}, "valid_to", "permit.valid_to: 2026-01-01 is before"),
        ({"exception_dates": "14/07"}, "exception_dates", "'14/07' is not a date"),
        ({"pin": "12"}, "pin", "permit.pin: is not valid; expected"),
        ({"id": ""}, "id", "permit.id: is required"),
        ({"id": "no spaces"}, "id", "permit.id: 'no spaces' is not valid"),
        ({"id": "samu"}, "id", "permit.id: 'samu' is already a permit of this city"),
    ],
)
def test_bad_fields_are_refused_with_one_line_and_nothing_stored(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
    change: dict[str, Any],
    field: str,
    text: str,
) -> None:
    client.force_login(make_user("editor", modules=("access",)))
    before = AuditEntry.objects.filter(action__in=["create", "update"]).count()
    response = client.post(NEW, {**GOOD, **change})
    assert response.status_code == 400
    form = response.context["form"]
    assert any(text in message for message in form.errors[field]), form.errors
    assert all("\n" not in message for message in form.errors[field])
    assert not Permit.objects.filter(plate="FL123OW").exists()
    assert Permit.objects.count() == len(permits)
    assert AuditEntry.objects.filter(action__in=["create", "update"]).count() == before
    assert "12000" not in str(form.errors)  # no other permit's data leaks into errors


def test_form_and_csv_import_share_one_validator(
    client: Any,
    make_user: Any,
    city: Any,
    zone: Any,  # noqa: F811
) -> None:
    csv = (
        "id,plate,holder,category,zones,windows\nx,AB-123-CD,B,delivery,old-town,mon 05:00-24:30\n"
    )
    line = services.import_permits_csv(csv, city).errors[0]
    client.force_login(make_user("editor", modules=("access",)))
    response = client.post(NEW, {**GOOD, "windows": "mon 05:00-24:30"})
    form_line = response.context["form"].errors["windows"][0]
    assert line.split(": ", 1)[1] == form_line.split(": ", 1)[1]
    assert line.startswith("row 2.windows[0].to") and form_line.startswith("permit.windows[0].to")


def test_edit_a_permit_keeps_its_id_status_and_pin_unless_asked(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
) -> None:
    editor = make_user("editor", modules=("access",))
    client.force_login(editor)
    page = client.get(edit_url("resident"))
    assert page.status_code == 200 and "Mme Martin" in page.content.decode()
    read_entry = AuditEntry.objects.get(action="sensitive_read", object_type="access.permit")
    assert read_entry.object_id == str(permits["resident"].pk)
    Permit.objects.filter(ident="resident").update(status="suspended")
    old_hash = Permit.objects.get(ident="resident").pin_hash
    edited = {
        **GOOD,
        "id": "renamed",  # ignored: the id is the permit's key
        "plate": "RE-456-ZZ",
        "holder": "M. et Mme Martin",
        "category": "resident",
        "max_mass_kg": "",
        "windows": "",
        "valid_from": "",
        "valid_to": "",
        "exception_dates": "",
        "pin": "",
    }
    response = client.post(edit_url("resident"), edited)
    assert response.status_code == 302
    permit = Permit.objects.get(pk=permits["resident"].pk)
    assert permit.ident == "resident" and permit.status == "suspended"
    assert permit.holder == "M. et Mme Martin" and permit.windows == []
    assert permit.max_mass_kg is None and permit.valid_to is None
    assert permit.pin_hash == old_hash  # blank PIN: kept
    update = AuditEntry.objects.filter(action="update", object_type="access.permit").latest("seq")
    assert update.changes["changed"]["holder"] == ["Mme Martin", "M. et Mme Martin"]
    # a new PIN, then the PIN removed
    client.post(edit_url("resident"), {**edited, "pin": "5555"})
    permit.refresh_from_db()
    assert verify_pin("5555", permit.pin_hash) and permit.pin_hash != old_hash
    both = client.post(edit_url("resident"), {**edited, "pin": "6666", "clear_pin": "on"})
    assert both.status_code == 400
    assert "not both" in str(both.context["form"].errors["pin"])
    permit.refresh_from_db()
    assert verify_pin("5555", permit.pin_hash)
    client.post(edit_url("resident"), {**edited, "clear_pin": "on"})
    permit.refresh_from_db()
    assert permit.pin_hash == ""


def test_a_revoked_permit_is_denied_on_the_next_read(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
) -> None:
    assert read().outcome == "grant"
    editor = make_user("editor", modules=("access",))
    client.force_login(editor)
    response = client.post(
        status_url("samu"), {"status": "revoked", "reason": "vehicle sold", "confirm": "on"}
    )
    assert response.status_code == 302
    decision = read()
    assert (decision.outcome, decision.reason) == ("deny", "permit_revoked")
    entry = AuditEntry.objects.get(action="access_permit_status")
    assert entry.detail == {"from": "active", "to": "revoked", "reason": "vehicle sold"}
    assert entry.actor == editor.username and "SAMU 06" not in str(entry.detail)
    # reactivated: granted again
    client.post(status_url("samu"), {"status": "active", "reason": "error", "confirm": "on"})
    assert read().outcome == "grant"


def test_a_stolen_vehicle_is_suspended_even_with_another_permit(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
) -> None:
    client.force_login(make_user("operator", modules=("access",)))
    client.post(
        NEW,
        {
            **GOOD,
            "id": "samu-2",
            "plate": "EM-112-AA",
            "category": "emergency",
            "windows": "",
            "valid_from": "",
            "valid_to": "",
            "pin": "",
        },
    )
    assert Permit.objects.filter(plate="EM112AA").count() == 2
    client.post(status_url("samu"), {"status": "suspended", "reason": "stolen", "confirm": "on"})
    decision = read()
    assert (decision.outcome, decision.reason) == ("deny", "permit_suspended")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "revoked", "reason": "", "confirm": "on"}, 422),
        ({"status": "revoked", "reason": "sold"}, 422),
        ({"status": "lost", "reason": "sold", "confirm": "on"}, 422),
        ({"status": "active", "reason": "sold", "confirm": "on"}, 409),
    ],
)
def test_bad_status_changes_change_nothing(
    client: Any,
    make_user: Any,
    permits: Any,  # noqa: F811
    body: dict[str, str],
    status: int,
) -> None:
    client.force_login(make_user("editor", modules=("access",)))
    response = client.post(status_url("samu"), body)
    assert response.status_code == status
    assert Permit.objects.get(ident="samu").status == "active"
    assert not AuditEntry.objects.filter(action="access_permit_status").exists()
    assert read().outcome == "grant"


def test_zones_of_another_city_cannot_be_given(
    client: Any,
    make_user: Any,
    zone: Any,  # noqa: F811
    other_city: Any,
) -> None:
    make_zone(other_city, "lyon-zone")
    client.force_login(make_user("editor", modules=("access",)))
    response = client.post(NEW, {**GOOD, "zones": ["lyon-zone"]})
    assert response.status_code == 400
    assert not Permit.objects.exists()
