"""Words, not codes (issue 11 item 5): every code the access pages and the live feed show is a
translated label, and the French catalogue is complete.

The world built here holds every value of every enum the access module stores (zone modes,
outcomes, reasons, sources, directions, barrier kinds, fail modes, positions, faults, passage
states, alarm kinds, permit categories and statuses, identification methods); every access page
and the live feed's snapshot are rendered over it, in English and in French, and their visible
text is searched for raw codes and, in French, for English labels.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from rempart.access import decide as engine
from rempart.access import labels, views
from rempart.access.drivers.base import BarrierKind, FailMode, Fault, Position
from rempart.access.models import (
    AccessDecision,
    Alarm,
    Barrier,
    BarrierStatus,
    Lane,
    Passage,
    Permit,
    Zone,
    ZoneSchedule,
)
from rempart.access.schedule import DAY_NAMES, ZoneMode

PO_FILE = Path(__file__).resolve().parents[2] / "src/rempart/locale/fr/LC_MESSAGES/django.po"

#: Every enum whose values a person may be shown, with its label kind.
ENUMS: list[tuple[str, list[str]]] = [
    ("mode", [m.value for m in ZoneMode]),
    ("outcome", [o.value for o in engine.Outcome]),
    ("reason", [r.value for r in engine.Reason]),
    ("reason_sentence", [r.value for r in engine.Reason]),
    ("direction", [d.value for d in engine.Direction]),
    ("position", [p.value for p in Position]),
    ("barrier_kind", [k.value for k in BarrierKind]),
    ("fail_mode", [f.value for f in FailMode]),
    ("category", [c.value for c in engine.PermitCategory]),
    ("permit_status", [s.value for s in engine.PermitStatus]),
    ("exit_policy", [p.value for p in engine.ExitPolicy]),
    ("fault", [f.name.lower() for f in Fault if f and f.name]),
    ("identification", [m.value for m in engine.IdentificationMethod]),
    ("passage", [s.value for s in Passage.State]),
    ("source", [s.value for s in AccessDecision.Source]),
    ("alarm", [k.value for k in Alarm.Kind]),
    ("day", list(DAY_NAMES.values())),
]
#: Words spelled the same in both languages.
SAME_IN_FRENCH = {"Normal", "Maintenance", "Taxi", "Badge"}
#: Every code; one shown as a whole text node, or a snake_case one anywhere, is a raw code.
ALL_CODES = sorted({code for _kind, codes in ENUMS for code in codes})


# --- the catalogue -----------------------------------------------------------------------------


def _po_entries(text: str) -> list[dict[str, Any]]:
    entries = []
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        flags = " ".join(line for line in lines if line.startswith("#,"))
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            match = re.match(r'^(msgid_plural|msgid|msgstr\[\d\]|msgstr) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" in fields:
            entries.append({"flags": flags, **fields})
    return entries


def test_every_french_message_is_translated_and_none_is_fuzzy() -> None:
    entries = [e for e in _po_entries(PO_FILE.read_text()) if e["msgid"]]  # not the header
    assert len(entries) > 500  # the whole catalogue was read
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [
        e["msgid"]
        for e in entries
        if any(v == "" for k, v in e.items() if k.startswith("msgstr"))
        or not any(k.startswith("msgstr") for k in e)
    ]
    assert not fuzzy, f"fuzzy French translations: {fuzzy[:10]}"
    assert not empty, f"French translations missing: {empty[:10]}"


@pytest.mark.parametrize(("kind", "codes"), ENUMS, ids=[kind for kind, _codes in ENUMS])
def test_every_code_has_its_own_word_in_both_languages(kind: str, codes: list[str]) -> None:
    table = labels.table(kind)
    missing = [code for code in codes if code not in table]
    assert not missing, f"{kind}: no label for {missing}"
    for code in codes:
        with translation.override("en"):
            english = labels.label(kind, code)
        with translation.override("fr"):
            french = labels.label(kind, code)
        assert english != code and french != code, (kind, code)
        if english not in SAME_IN_FRENCH:
            assert french != english, f"{kind} {code}: {english!r} is not translated"


def test_an_unknown_code_reads_as_words_not_an_error() -> None:
    assert labels.label("reason", "brand_new_reason") == "brand new reason"
    assert labels.label("mode", None) == ""
    with pytest.raises(KeyError, match="label kind 'colour'"):
        labels.table("colour")


# --- a world with every value ------------------------------------------------------------------


@pytest.fixture
def everything(city: Any) -> dict[str, Any]:
    """Zones in every mode, lanes both ways, barriers of every kind in every position, decisions
    with every outcome/reason/source, passages in every state, every alarm, every permit."""
    now = timezone.now()
    zones = []
    for i, mode in enumerate(ZoneMode):
        zones.append(
            Zone.objects.create(
                city=city,
                ident=f"z{i}",
                name=f"Zone {i}",
                timezone="Europe/Paris",
                mode=mode.value,
                lockdown_exit=list(engine.ExitPolicy)[i % 3].value,
            )
        )
    zone = zones[0]
    lanes = []
    positions = list(Position)
    kinds = list(BarrierKind)
    faults = [f.name.lower() for f in Fault if f and f.name]
    for i, position in enumerate(positions):
        lane = Lane.objects.create(
            zone=zones[i % len(zones)],
            ident=f"lane{i}",
            direction=list(engine.Direction)[i % 2].value,
            identification=[m.value for m in engine.IdentificationMethod],
            lon=7.27 + i / 1000,
            lat=43.70,
        )
        barrier = Barrier.objects.create(
            lane=lane,
            ident=f"lane{i}-b",
            kind=kinds[i % len(kinds)].value,
            fail_mode=list(FailMode)[i % 2].value,
        )
        BarrierStatus.objects.create(
            barrier=barrier,
            position=position.value,
            faults=faults if i == 0 else [],
            link_ok=i != 1,
            loop_occupied=i == 2,
            reported_at=now,
        )
        lanes.append(lane)
    sources = list(AccessDecision.Source)
    decisions = []
    for i, reason in enumerate(engine.Reason):
        decisions.append(
            AccessDecision.objects.create(
                lane=lanes[i % len(lanes)],
                zone=lanes[i % len(lanes)].zone,
                received_at=now - dt.timedelta(seconds=i),
                read_at=now,
                source=sources[i % len(sources)].value,
                plate=f"AA{i:03d}BB",
                confidence=0.5,
                outcome=engine.REASON_OUTCOME[reason].value,
                reason=reason.value,
                message="engine sentence",
                mode=list(ZoneMode)[i % 4].value,
                local_time="",
            )
        )
    grants = [d for d in decisions if d.outcome == "grant"]
    for i, state in enumerate(Passage.State):
        decision = grants[i % len(grants)]
        if Passage.objects.filter(decision=decision).exists():
            decision = AccessDecision.objects.create(
                lane=decision.lane,
                zone=decision.zone,
                read_at=now,
                outcome="grant",
                reason="permit_valid",
                message="engine sentence",
                mode="normal",
                local_time="",
            )
        Passage.objects.create(
            decision=decision, lane=decision.lane, state=state.value, expires_at=now
        )
    for i, kind in enumerate(Alarm.Kind):
        Alarm.objects.create(
            zone=lanes[i % len(lanes)].zone,
            lane=lanes[i % len(lanes)],
            kind=kind.value,
            message="daemon sentence",
        )
    for i, category in enumerate(engine.PermitCategory):
        permit = Permit.objects.create(
            city=city,
            ident=f"p{i}",
            windows=[{"days": list(DAY_NAMES.values()), "from": "05:00", "to": "10:30"}],
            plate=f"PP{i:03d}AA",
            holder="Holder",
            category=category.value,
            status=list(engine.PermitStatus)[i % 3].value,
        )
        permit.zones.add(zone)
    schedules = [
        ZoneSchedule.objects.create(
            zone=zone,
            mode=mode.value,
            start=now + dt.timedelta(days=i + 1),
            end=now + dt.timedelta(days=i + 1, hours=2),
            label=f"event {i}",
        )
        for i, mode in enumerate(ZoneMode)
    ]
    return {"zones": zones, "lanes": lanes, "schedules": schedules}


class _Text(HTMLParser):
    """The visible text of a page, one string per text node (no script, style or JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.nodes.append(data.strip())


def _text_nodes(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.nodes


def _pages(everything: dict[str, Any]) -> list[str]:
    zone_urls = [f"/access/zones/{z.ident}/" for z in everything["zones"]]
    schedule = everything["schedules"][0]
    return [
        "/access/",
        "/access/decisions/",
        "/access/alarms/",
        "/access/permits/",
        "/access/permits/new/",
        "/access/permits/p0/edit/",
        f"/access/zones/{schedule.zone.ident}/schedules/{schedule.pk}/edit/",
        *zone_urls,
    ]


def _raw_codes_in(nodes: list[str]) -> list[str]:
    """Codes shown as a whole text node, and snake_case codes anywhere in the text."""
    found = [node for node in nodes if node in ALL_CODES]
    text = "\n".join(nodes)
    found += [c for c in ALL_CODES if "_" in c and re.search(rf"\b{re.escape(c)}\b", text)]
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_page_shows_a_raw_code(
    client: Any, make_user: Any, everything: dict[str, Any], language: str
) -> None:
    client.force_login(make_user("admin", modules=("access",)))
    for url in _pages(everything):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, url
        nodes = _text_nodes(response.content.decode())
        assert not _raw_codes_in(nodes), (url, _raw_codes_in(nodes))


def _english_labels() -> set[str]:
    words = set()
    with translation.override("en"):
        for kind, codes in ENUMS:
            words |= {labels.label(kind, code) for code in codes}
    return words - SAME_IN_FRENCH


@pytest.mark.django_db
def test_french_pages_leave_no_english_label(
    client: Any, make_user: Any, everything: dict[str, Any]
) -> None:
    client.force_login(make_user("admin", modules=("access",)))
    english = _english_labels()
    for url in _pages(everything):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        nodes = _text_nodes(page)
        text = "\n".join(nodes)
        left = sorted(w for w in english if re.search(rf"(?<![\w']){re.escape(w)}(?![\w'])", text))
        assert not left, (url, left)
        # and the French words are there: the mode, a reason, a barrier position
        if url == "/access/":
            assert "Bouclage" in text and "Levée (bloque)" in text
            assert "Lecture de plaque incertaine" in text or "Aucune autorisation" in text


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _label_fields(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every ``*_label``/``*_labels``/``*_sentence`` value of the snapshot, with its path."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key.endswith(("_label", "_labels", "_sentence")):
                found += [(f"{path}.{key}", s) for s in _strings(inner)]
            else:
                found += _label_fields(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            found += _label_fields(item, path)
    return found


@pytest.mark.django_db
def test_the_live_feed_carries_words_in_the_users_language(everything: dict[str, Any]) -> None:
    zones = list(Zone.objects.filter(pk__in=[z.pk for z in everything["zones"]]))
    with translation.override("fr"):
        snapshot = views._snapshot(zones)
    fields = _label_fields(snapshot)
    kinds = {path.rsplit(".", 1)[1] for path, _text in fields}
    for wanted in (
        "mode_label",
        "direction_label",
        "position_label",
        "fail_mode_label",
        "fault_labels",
        "passage_label",
        "outcome_label",
        "reason_label",
        "kind_label",
    ):
        assert wanted in kinds, wanted
    english = _english_labels()
    for path, text in fields:
        assert text not in ALL_CODES, (path, text)
        assert text not in english, (path, text)
    # alarm times: in the zone's time zone (Paris), French month names (Django's French locale)
    months_fr = ["Jan", "Fév", "Mar", "Avr", "Mai", "Jui", "Jul", "Aoû", "Sep", "Oct", "Nov", "Déc"]
    alarm = snapshot["alarms"][0]
    local = Alarm.objects.get(pk=alarm["id"]).raised_at.astimezone(ZoneInfo("Europe/Paris"))
    assert alarm["raised_at"] == f"{local.day} {months_fr[local.month - 1]} {local:%H:%M:%S}"
