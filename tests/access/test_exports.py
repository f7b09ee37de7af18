"""The decision log and the alarm log: filters, CSV exports (content, filters, roles, formula
injection, audit, no cache) (issue 11 item 7)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from rempart.access import services
from rempart.access.exports import safe_cell
from rempart.access.models import AccessDecision, Alarm
from rempart.core.audit_models import AuditEntry
from tests.access.test_models_fixtures import lyon_supervisor, make_permits, make_zone

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def log(city: Any) -> dict[str, Any]:
    """Three reads on 14 July 2027 (Paris time): a grant (resident) at 09:00 on old-town-in, a refusal (no
    permit) at 12:00 on old-town-in, a referral (low confidence) at 18:00 on old-town-2f."""
    zone = make_zone(city)
    make_permits(city, zone)
    reads = [
        ("old-town-in", "RE-456-ZZ", 0.97, dt.datetime(2027, 7, 14, 9, 0, tzinfo=PARIS)),
        ("old-town-in", "ZZ-999-ZZ", 0.97, dt.datetime(2027, 7, 14, 12, 0, tzinfo=PARIS)),
        ("old-town-2f", "EM-112-AA", 0.40, dt.datetime(2027, 7, 14, 18, 0, tzinfo=PARIS)),
    ]
    decisions = []
    for lane, plate, confidence, at in reads:
        decision = services.submit_request(lane, plate=plate, confidence=confidence).decision
        AccessDecision.objects.filter(pk=decision.pk).update(received_at=at)
        decisions.append(decision)
    alarm = Alarm.objects.create(
        zone=zone,
        lane=zone.lanes.get(ident="old-town-in"),
        kind=Alarm.Kind.FORCED_ENTRY,
        message='=HYPERLINK("http://evil.example","click")',
        raised_at=dt.datetime(2027, 7, 14, 22, 30, tzinfo=PARIS),
        acknowledged_at=dt.datetime(2027, 7, 14, 22, 31, tzinfo=PARIS),
        acknowledgement="@SUM(1+1) checked on camera",
    )
    Alarm.objects.create(
        zone=zone,
        lane=zone.lanes.get(ident="old-town-2f"),
        kind=Alarm.Kind.LINK_LOST,
        message="+barrier link lost",
        raised_at=dt.datetime(2027, 7, 13, 8, 0, tzinfo=PARIS),
        cleared_at=dt.datetime(2027, 7, 13, 8, 5, tzinfo=PARIS),
    )
    return {"zone": zone, "decisions": decisions, "alarm": alarm}


def test_safe_cell_quotes_what_a_spreadsheet_would_compute() -> None:
    for text in ("=1+1", "+33 4 93", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    for text in ("RE456ZZ", "1+1", "", "a=b"):
        assert safe_cell(text) == text
    assert safe_cell(None) == "" and safe_cell(0.5) == "0.5"


def test_decision_export_content_in_zone_time(client: Any, make_user: Any, log: Any) -> None:
    client.force_login(make_user("operator", modules=("access",)))
    rows = _rows(client.get("/access/decisions/export.csv"))
    assert [r["Plate"] for r in rows] == ["EM112AA", "ZZ999ZZ", "RE456ZZ"]  # newest first
    grant, refusal, referral = rows[2], rows[1], rows[0]
    assert grant["Received"] == "2027-07-14T09:00:00+02:00"  # CEST, the zone's time
    assert (grant["Decision"], grant["Decision code"]) == ("Granted", "grant")
    assert (grant["Reason"], grant["Reason code"]) == ("Valid permit", "permit_valid")
    assert grant["Lane"] == "old-town-in" and grant["Zone"] == "old-town"
    assert (refusal["Decision"], refusal["Reason"]) == ("Denied", "No permit")
    assert referral["Reason"] == "Plate read uncertain" and referral["Confidence"] == "0.40"
    assert grant["Mode"] == "Normal" and grant["Source"] == "Camera API"
    assert grant["Request"] == log["decisions"][0].request_id.hex


def test_decision_export_follows_the_filters(client: Any, make_user: Any, log: Any) -> None:
    client.force_login(make_user("operator", modules=("access",)))

    def plates(query: str) -> list[str]:
        return [r["Plate"] for r in _rows(client.get(f"/access/decisions/export.csv?{query}"))]

    assert plates("lane=old-town-2f") == ["EM112AA"]
    assert plates("plate=re-456") == ["RE456ZZ"]
    assert plates("outcome=deny") == ["ZZ999ZZ"]
    assert plates("reason=low_confidence") == ["EM112AA"]
    # dates typed in the city's time: [11:00, 18:00) holds the 12:00 read only
    assert plates("since=2027-07-14+11:00&until=2027-07-14+18:00") == ["ZZ999ZZ"]
    assert plates("since=2027-07-14+18:00") == ["EM112AA"]
    # the page shows what the export holds
    page = client.get("/access/decisions/?outcome=deny").content.decode()
    assert "ZZ999ZZ" in page and "RE456ZZ" not in page
    assert 'href="/access/decisions/export.csv?outcome=deny' in page


def test_alarm_export_content_filters_and_injection(client: Any, make_user: Any, log: Any) -> None:
    client.force_login(make_user("operator", modules=("access",)))
    rows = _rows(client.get("/access/alarms/export.csv"))
    assert [r["Alarm code"] for r in rows] == ["forced_entry", "link_lost"]
    forced = rows[0]
    assert forced["Alarm"] == "Forced entry / tailgating"
    assert forced["Raised"] == "2027-07-14T22:30:00+02:00"
    assert forced["Acknowledged"] == "2027-07-14T22:31:00+02:00"
    # formula-looking cells start with a quote: no spreadsheet computes them
    assert forced["Message"] == '\'=HYPERLINK("http://evil.example","click")'
    assert forced["Note"] == "'@SUM(1+1) checked on camera"
    assert rows[1]["Message"] == "'+barrier link lost"
    assert rows[1]["Cleared"] == "2027-07-13T08:05:00+02:00"
    # filters: lane, kind, state, dates (city time)
    for query, kinds in [
        ("lane=old-town-2f", ["link_lost"]),
        ("kind=forced_entry", ["forced_entry"]),
        ("state=open", ["forced_entry"]),
        ("state=cleared", ["link_lost"]),
        ("state=unacknowledged", ["link_lost"]),
        ("since=2027-07-14+00:00", ["forced_entry"]),
        ("until=2027-07-14+00:00", ["link_lost"]),
    ]:
        got = [r["Alarm code"] for r in _rows(client.get(f"/access/alarms/export.csv?{query}"))]
        assert got == kinds, query
    page = client.get("/access/alarms/?kind=link_lost").content.decode()
    table = page.split('<table id="alarm-log"', 1)[1]
    assert "Link lost" in table and "Forced entry" not in table


def test_exports_in_french(client: Any, make_user: Any, log: Any) -> None:
    client.force_login(make_user("operator", modules=("access",)))
    response = client.get("/access/decisions/export.csv?outcome=grant", HTTP_ACCEPT_LANGUAGE="fr")
    (row,) = _rows(response)
    assert row["Décision"] == "Autorisé" and row["Motif"] == "Autorisation valide"


@pytest.mark.parametrize("url", ["/access/decisions/export.csv", "/access/alarms/export.csv"])
def test_exports_need_an_operator_and_are_audited(
    client: Any, make_user: Any, log: Any, url: str
) -> None:
    client.force_login(make_user("viewer", modules=("access",)))
    assert client.get(url).status_code == 403
    assert AuditEntry.objects.filter(action="permission_denied").exists()
    assert not AuditEntry.objects.filter(action="export").exists()
    client.force_login(make_user("operator", modules=("access",)))
    response = client.get(url + "?lane=old-town-in")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="export")
    assert entry.city == "nice"
    assert entry.detail["filters"] == {"lane": "old-town-in"}
    what = "decisions" if "decisions" in url else "alarms"
    assert entry.object_type == f"access.{what}"
    assert entry.object_repr.startswith("2 " if what == "decisions" else "1 ")


def test_another_citys_operator_exports_only_their_city(
    client: Any, log: Any, make_user: Any, other_city: Any
) -> None:
    client.force_login(lyon_supervisor(make_user, other_city))
    rows = _rows(client.get("/access/decisions/export.csv"))
    assert rows == []
    assert _rows(client.get("/access/alarms/export.csv")) == []


def test_viewers_read_the_logs_with_plates_as_before(client: Any, make_user: Any, log: Any) -> None:
    client.force_login(make_user("viewer", modules=("access",)))
    page = client.get("/access/decisions/").content.decode()
    assert "RE456ZZ" in page and "export.csv" not in page
    page = client.get("/access/alarms/").content.decode()
    assert "Forced entry / tailgating" in page and "export.csv" not in page
    when = timezone.localtime(log["alarm"].raised_at, PARIS)
    assert f"{when.day} Jul 22:30:00" in page


def test_the_import_message_counts_with_plurals(client: Any, make_user: Any, city: Any) -> None:
    """ngettext: "1 permit created, 2 permits updated." and its French plural rules."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.access.test_models import CSV_GOOD

    make_zone(city)
    client.force_login(make_user("editor", modules=("access",)))

    def send(text: str, language: str = "en") -> str:
        upload = SimpleUploadedFile("p.csv", text.encode(), content_type="text/csv")
        response = client.post(
            "/access/permits/import/", {"file": upload}, follow=True, HTTP_ACCEPT_LANGUAGE=language
        )
        return response.content.decode()

    one = CSV_GOOD.split("\n")[0] + "\n" + CSV_GOOD.split("\n")[1] + "\n"
    assert "1 permit created, 0 permits updated." in send(one)
    assert "1 permit created, 1 permit updated." in send(CSV_GOOD)
    assert "0 autorisation créée, 2 autorisations mises à jour." in send(CSV_GOOD, "fr")
