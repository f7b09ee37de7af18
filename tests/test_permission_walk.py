"""The all-URL permission walk (issue 9, "Object-level checks").

Every URL pattern of the project (Django's resolver) and every API operation (the OpenAPI schema)
is called by every kind of caller: anonymous; each role, held in every module, and no role,
for a user of Helsinki (the city whose real objects the URLs name: a site, a zone and its
lanes, a permit, a referral, an alarm, an assessment, a practice of Helsinki's organisation in
review, a camera token...) and for a user of Brest; a superuser; on the API also a token
without scopes and a camera token limited to one lane. What each may get is written below,
route by route (:data:`PAGES`, :data:`API`, and the admin site), and :func:`expect` turns a
rule and a caller into the one answer allowed:

* ``login``: anonymous, sent to the login page (API: 401);
* ``403``: a role, scope or condition missing, written to the audit trail;
* ``404``: an object the caller may not know of (another city's, another organisation's draft
  or token), answered as for an id that does not exist, and audited;
* ``ok``: anything else but 401/403/404/405 and server errors (a 400 for an empty form is
  fine: the view was reached).

The walk fails on any other answer, on a 403 or a refused 404 without its audit entry, on
Helsinki's data in any answer to a Brest user, and on a route that has no rule: whoever adds a
URL or an API operation adds its line here. Each call runs in a savepoint rolled back after
it, so the objects stay as they were for the next caller.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from rempart.core.audit_models import AuditEntry
from rempart.core.roles import TOKEN_SCOPES, grant
from tests.conftest import SQUARE
from tests.exercises import walk as exercise_walk

pytestmark = pytest.mark.django_db

ROLES = ("viewer", "editor", "operator", "supervisor", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}

OK, LOGIN, DENIED, HIDDEN = "ok", "login", "403", "404"

#: In names and texts of Helsinki's objects: none may reach a Brest user.
MARK = "HEL-MARK"
PLATE = "MRK111HL"


# --- who calls ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Caller:
    """``city``: "here" (Helsinki), "there" (Brest), None (anonymous); ``role``: held in every
    module, None for none, "superuser"; ``token``: on the API, "all" scopes (whatever the
    role allows is then the role's to decide), "none", or "camera" (one lane)."""

    city: str | None
    role: str | None
    token: str = "all"

    def __str__(self) -> str:
        if self.city is None:
            return "anonymous"
        token = "" if self.token == "all" else f" ({self.token} token)"
        return f"{self.city}/{self.role or 'no role'}{token}"

    @property
    def rank(self) -> int:
        return RANK.get(self.role or "", -1)

    @property
    def superuser(self) -> bool:
        return self.role == "superuser"


ANONYMOUS = Caller(None, None)
CALLERS = [
    ANONYMOUS,
    *(Caller(city, role) for city in ("here", "there") for role in (None, *ROLES)),
    Caller("here", "superuser"),
]
API_CALLERS = [*CALLERS, Caller("here", "admin", "none"), Caller("here", "operator", "camera")]


# --- the rules ---------------------------------------------------------------------------------

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed in"  # any signed-in user
NOTHING = "nothing"  # a route that answers 404 to everyone (ninja's API root)


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a route needs.

    ``need``: (module, role) or PUBLIC, SIGNED_IN, NOTHING; on the API, a token scope.
    ``reach``: the object the URL names and who may know of it: "-" none; "city" a Helsinki
    object (404 to other cities, audited); "namespace" looked up among the caller's current
    city's (another city's has no such id there: 404, nothing refused); "draft" the Helsinki
    organisation's practice in review (its editors and above, and practices admins of any
    organisation, who run the network's reviews); "token" a Helsinki camera's token and
    "account" a Helsinki account (the owner, and core admins of their organisation);
    "lane"/"zone" a Helsinki lane or zone (as "city", and within a limited token's lanes).
    ``also``: a further condition per method, refused with 403: "reviewer" (the assigned
    reviewer only), "member" (members of the working group: none here), "organiser" (practices
    operators).
    """

    need: tuple[str, str] | str
    reach: str = "-"
    methods: tuple[str, ...] = ("GET",)
    args: Callable[[Any], dict[str, Any]] | None = None
    also: dict[str, str] = dataclasses.field(default_factory=dict)


def role(module: str, name: str, reach: str = "-", *methods: str, **extra: Any) -> Rule:
    return Rule((module, name), reach, methods or ("GET",), **extra)


def site(w: Any) -> dict[str, Any]:
    return {"pk": w.site.pk}


def run(w: Any) -> dict[str, Any]:
    return {"pk": w.run.pk}


def draft(w: Any) -> dict[str, Any]:
    return {"pk": w.practice.pk}


def case(w: Any) -> dict[str, Any]:
    return {"pk": w.case.pk}


#: the prevention unit's steps and the role each needs (rempart.prevention.views.STEPS)
PREVENTION_STEPS = {
    **dict.fromkeys(
        ("screen", "consent", "withdraw", "consult", "action", "review", "request_closure"),
        "editor",
    ),
    **dict.fromkeys(("handover", "team", "views"), "editor"),
    "action_status": "viewer",
    **dict.fromkeys(
        ("approve_plan", "decide_closure", "reopen", "legal_hold", "rights"), "supervisor"
    ),
}


def zone(w: Any) -> dict[str, Any]:
    return {"ident": w.zone.ident}


PAGES: dict[str, Rule] = {
    # accounts, language
    "login": Rule(PUBLIC, methods=("GET", "POST")),
    "logout": Rule(PUBLIC, methods=("POST",)),
    "password_change": Rule(SIGNED_IN, methods=("GET", "POST")),
    "password_change_done": Rule(SIGNED_IN),
    "password_reset": Rule(PUBLIC, methods=("GET", "POST")),
    "password_reset_done": Rule(PUBLIC),
    "password_reset_confirm": Rule(
        PUBLIC, methods=("GET", "POST"), args=lambda w: {"uidb64": "MQ", "token": "set-password"}
    ),
    "password_reset_complete": Rule(PUBLIC),
    "set_language": Rule(PUBLIC, methods=("POST",)),
    # the API's own pages (its operations: API below)
    "api:openapi-json": Rule(SIGNED_IN),  # or a bearer token (test_api_errors)
    "api:openapi-view": Rule(SIGNED_IN),
    "api:api-root": Rule(NOTHING),
    # core
    "core:dashboard": Rule(SIGNED_IN),
    "core:site_list": role("core", "viewer"),
    "core:site_create": role("core", "editor", "-", "GET", "POST"),
    "core:site_import": role("core", "editor", "-", "GET", "POST"),
    "core:site_export": role("core", "viewer"),
    "core:site_detail": role("core", "viewer", "city", args=site),
    "core:site_geojson": role("core", "viewer", "city", args=site),
    "core:site_edit": role("core", "editor", "city", "GET", "POST", args=site),
    "core:site_delete": role("core", "editor", "city", "GET", "POST", args=site),
    "core:site_event_add": role("core", "editor", "city", "POST", args=site),
    "core:site_event_delete": role(
        "core",
        "editor",
        "city",
        "POST",
        args=lambda w: {"pk": w.site.pk, "event_pk": w.event.pk},
    ),
    "core:basemap": role("core", "viewer", "city", args=lambda w: {"slug": "helsinki"}),
    "core:audit_list": role("core", "admin"),
    "core:people_list": role("core", "admin"),
    "core:person_create": role("core", "admin", "-", "GET", "POST"),
    "core:person_edit": role(
        "core", "admin", "account", "GET", "POST", args=lambda w: {"pk": w.camera_owner.pk}
    ),
    "core:token_list": Rule(SIGNED_IN, methods=("GET", "POST")),
    "core:token_revoke": Rule(
        SIGNED_IN, "token", ("POST",), args=lambda w: {"pk": w.camera_token.pk}
    ),
    # assess
    "assess:index": role("assess", "viewer"),
    "assess:osm_data": role("assess", "admin", "-", "GET", "POST"),
    "assess:run_site": role(
        "assess", "editor", "city", "POST", args=lambda w: {"site_pk": w.site.pk}
    ),
    "assess:run_detail": role("assess", "viewer", "city", args=run),
    "assess:run_speed_field": role("assess", "viewer", "city", args=run),
    "assess:run_report": role("assess", "viewer", "city", args=run),
    "assess:run_report_pdf": role("assess", "viewer", "city", args=run),
    "assess:run_json": role("assess", "viewer", "city", args=run),
    "assess:run_geojson": role("assess", "viewer", "city", args=run),
    "assess:create_access_points": role("assess", "editor", "city", "POST", args=run),
    # access
    "access:control_room": role("access", "viewer"),
    "access:stream": role("access", "viewer"),
    "access:basemap": role("access", "viewer"),
    "access:lane_open": role(
        "access", "operator", "city", "POST", args=lambda w: {"ident": "hel-in"}
    ),
    "access:lane_close": role(
        "access", "operator", "city", "POST", args=lambda w: {"ident": "hel-in"}
    ),
    "access:zone_detail": role("access", "viewer", "city", args=zone),
    "access:zone_mode": role("access", "operator", "city", "POST", args=zone),
    "access:schedule_add": role("access", "operator", "city", "POST", args=zone),
    "access:schedule_edit": role(
        "access",
        "operator",
        "city",
        "GET",
        "POST",
        args=lambda w: {"ident": w.zone.ident, "pk": w.schedule.pk},
    ),
    "access:schedule_cancel": role(
        "access",
        "operator",
        "city",
        "POST",
        args=lambda w: {"ident": w.zone.ident, "pk": w.schedule.pk},
    ),
    "access:referral_answer": role(
        "access", "operator", "city", "POST", args=lambda w: {"request_id": w.referral.request_id}
    ),
    "access:referral_image": role(
        "access", "viewer", "city", args=lambda w: {"request_id": w.referral.request_id}
    ),
    "access:alarm_ack": role(
        "access", "operator", "city", "POST", args=lambda w: {"pk": w.alarm.pk}
    ),
    "access:decisions": role("access", "viewer"),
    "access:decisions_export": role("access", "operator"),
    "access:alarm_log": role("access", "viewer"),
    "access:alarms_export": role("access", "operator"),
    "access:permits": role("access", "viewer"),
    "access:permits_export": role("access", "editor"),
    "access:permits_import": role("access", "editor", "-", "POST"),
    "access:permit_new": role("access", "editor", "-", "GET", "POST"),
    "access:permit_edit": role(
        "access", "editor", "namespace", "GET", "POST", args=lambda w: {"ident": w.permit.ident}
    ),
    "access:permit_status": role(
        "access", "editor", "namespace", "POST", args=lambda w: {"ident": w.permit.ident}
    ),
    # practices: the catalogue
    "practices:index": role("practices", "viewer"),
    "practices:mine": role("practices", "viewer"),
    "practices:create": role("practices", "editor", "-", "GET", "POST"),
    "practices:transfer": role("practices", "editor", "-", "GET", "POST"),
    "practices:export": role("practices", "editor"),
    "practices:detail": role("practices", "viewer", "draft", args=draft),
    "practices:edit": role("practices", "editor", "draft", "GET", "POST", args=draft),
    "practices:submit": role("practices", "editor", "draft", "POST", args=draft),
    "practices:contacts": role("practices", "viewer", "draft", args=draft),
    "practices:version": role(
        "practices", "viewer", "draft", args=lambda w: {"pk": w.practice.pk, "number": 1}
    ),
    "practices:assign": role("practices", "admin", "draft", "GET", "POST", args=draft),
    "practices:review": role(
        "practices",
        "supervisor",
        "draft",
        "GET",
        "POST",
        args=draft,
        also={"GET": "reviewer", "POST": "reviewer"},
    ),
    "practices:attachment_add": role("practices", "editor", "draft", "POST", args=draft),
    "practices:site_link_add": role("practices", "editor", "draft", "POST", args=draft),
    "practices:attachment": role(
        "practices", "viewer", "draft", args=lambda w: {"pk": w.attachment.pk}
    ),
    "practices:site_link_delete": role(
        "practices", "editor", "city", "POST", args=lambda w: {"pk": w.site_link.pk}
    ),
    # practices: the exchange, one for the whole network (no city)
    "practices:members": role("practices", "viewer"),
    "practices:member": role("practices", "viewer", args=lambda w: {"pk": w.member.pk}),
    "practices:my_profile": role("practices", "viewer", "-", "GET", "POST"),
    "practices:groups": role("practices", "viewer", "-", "GET", "POST", also={"POST": "organiser"}),
    "practices:group": role(
        "practices", "viewer", "-", "GET", "POST", args=lambda w: {"pk": w.group.pk}
    ),
    "practices:group_join": role(
        "practices", "viewer", "-", "POST", args=lambda w: {"pk": w.group.pk}
    ),
    "practices:thread": role(
        "practices",
        "viewer",
        "-",
        "GET",
        "POST",
        args=lambda w: {"pk": w.thread.pk},
        also={"POST": "member"},
    ),
    "practices:events": role("practices", "viewer", "-", "GET", "POST", also={"POST": "organiser"}),
    "practices:event": role("practices", "viewer", args=lambda w: {"pk": w.meeting.pk}),
    "practices:event_register": role(
        "practices", "viewer", "-", "POST", args=lambda w: {"pk": w.meeting.pk}
    ),
    "practices:event_cancel": role(
        "practices", "viewer", "-", "POST", args=lambda w: {"pk": w.meeting.pk}
    ),
    "practices:requests": role("practices", "viewer", "-", "GET", "POST"),
    "practices:notifications": role("practices", "viewer", "-", "GET", "POST"),
    "practices:request": role(
        "practices", "viewer", "-", "GET", "POST", args=lambda w: {"pk": w.help.pk}
    ),
    # exercises (objects: tests/exercises/walk.py)
    "exercises:index": role("exercises", "viewer"),
    "exercises:create": role("exercises", "editor", "-", "GET", "POST"),
    "exercises:calendar": role("exercises", "viewer"),
    "exercises:detail": role("exercises", "viewer", "city", args=exercise_walk.ex),
    "exercises:edit": role("exercises", "editor", "city", "GET", "POST", args=exercise_walk.ex),
    "exercises:objective_add": role("exercises", "editor", "city", "POST", args=exercise_walk.ex),
    "exercises:participant_add": role("exercises", "editor", "city", "POST", args=exercise_walk.ex),
    "exercises:inject_add": role(
        "exercises", "editor", "city", "GET", "POST", args=exercise_walk.ex
    ),
    "exercises:inject_edit": role(
        "exercises", "editor", "city", "GET", "POST", args=exercise_walk.ex_inject
    ),
    "exercises:inject_state": role(
        "exercises", "operator", "city", "POST", args=exercise_walk.ex_inject
    ),
    "exercises:versions": role("exercises", "editor", "city", "GET", "POST", args=exercise_walk.ex),
    "exercises:version_rollback": role(
        "exercises", "editor", "city", "POST", args=exercise_walk.ex_version
    ),
    "exercises:msel_export": role("exercises", "editor", "city", args=exercise_walk.ex),
    "exercises:msel_import": role("exercises", "editor", "city", "POST", args=exercise_walk.ex),
    "exercises:mapping_save": role("exercises", "editor", "city", "POST", args=exercise_walk.ex),
    "exercises:scenario": role("exercises", "editor", "city", "POST", args=exercise_walk.ex),
    "exercises:conduct": role("exercises", "operator", "city", args=exercise_walk.ex),
    "exercises:clock": role("exercises", "operator", "city", "POST", args=exercise_walk.ex),
    "exercises:journal_add": role("exercises", "viewer", "city", "POST", args=exercise_walk.ex),
    "exercises:journal_export": role("exercises", "editor", "city", args=exercise_walk.ex),
    "exercises:evaluate": role("exercises", "editor", "city", "GET", "POST", args=exercise_walk.ex),
    "exercises:coverage": role("exercises", "viewer", "city", args=exercise_walk.ex),
    "exercises:report": role("exercises", "viewer", "city", args=exercise_walk.ex),
    "exercises:action_add": role(
        "exercises", "editor", "city", "GET", "POST", args=exercise_walk.ex
    ),
    "exercises:action_edit": role(
        "exercises", "editor", "city", "GET", "POST", args=exercise_walk.ex_action
    ),
    "exercises:courses": role("exercises", "viewer"),
    "exercises:course_add": role("exercises", "editor", "-", "POST"),
    "exercises:certifications": role("exercises", "viewer"),
    "exercises:course": role("exercises", "viewer", "city", args=exercise_walk.course),
    "exercises:session_add": role("exercises", "editor", "city", "POST", args=exercise_walk.course),
    "exercises:session_enrol": role(
        "exercises", "viewer", "city", "POST", args=exercise_walk.session
    ),
    "exercises:session_cancel": role(
        "exercises", "viewer", "city", "POST", args=exercise_walk.session
    ),
    "exercises:attendance": role(
        "exercises", "editor", "city", "POST", args=exercise_walk.enrolment
    ),
    "exercises:certificate_add": role(
        "exercises", "editor", "city", "POST", args=exercise_walk.course
    ),
    "exercises:control_room": role("exercises", "operator", "city", args=exercise_walk.ex),
    "exercises:control_room_stream": role("exercises", "operator", "city", args=exercise_walk.ex),
    "exercises:document": role("exercises", "editor", "city", args=exercise_walk.ex_document),
    # funding: calls are public and shared; consortia are a city's
    "funding:index": role("funding", "viewer"),
    "funding:call": role("funding", "viewer", args=lambda w: {"pk": w.call.pk}),
    "funding:call_create": role("funding", "admin", "-", "GET", "POST"),
    "funding:call_edit": role(
        "funding", "admin", "-", "GET", "POST", args=lambda w: {"pk": w.call.pk}
    ),
    "funding:consortium_create": role("funding", "editor", "-", "POST"),
    "funding:consortium": role("funding", "viewer", "city", args=lambda w: {"pk": w.consortium.pk}),
    "funding:member_add": role(
        "funding", "editor", "city", "POST", args=lambda w: {"pk": w.consortium.pk}
    ),
    "funding:candidate_add": role(
        "funding", "editor", "city", "POST", args=lambda w: {"pk": w.consortium.pk}
    ),
    "funding:member_delete": role(
        "funding", "editor", "city", "POST", args=lambda w: {"pk": w.consortium_member.pk}
    ),
    "funding:partners": role("funding", "viewer"),
    "funding:project": role("funding", "viewer", "city", args=lambda w: {"pk": w.project.pk}),
    "funding:spending_add": role(
        "funding", "editor", "city", "POST", args=lambda w: {"pk": w.project.pk}
    ),
    "funding:project_calendar": role(
        "funding", "viewer", "city", args=lambda w: {"pk": w.project.pk}
    ),
    "funding:deadline_done": role(
        "funding", "editor", "city", "POST", args=lambda w: {"pk": w.deadline.pk}
    ),
    # prevention: need-to-know ("case": the unit's coordinators of Helsinki, nobody else in this
    # walk, not even a superuser; "unit": members of Helsinki's unit, who see the locked profile)
    "prevention:index": role("prevention", "viewer"),
    "prevention:two_factor": role("prevention", "viewer", "-", "GET", "POST"),
    "prevention:alerts_read": role("prevention", "viewer", "-", "POST"),
    "prevention:refer": role("prevention", "editor", "-", "GET", "POST"),
    "prevention:case": role("prevention", "viewer", "unit", args=case),
    "prevention:break_glass": role("prevention", "editor", "unit", "POST", args=case),
    "prevention:export": role("prevention", "supervisor", "case", "POST", args=case),
    "prevention:export_download": role(
        "prevention", "supervisor", "case", args=lambda w: {"pk": w.case_export.pk}
    ),
    "prevention:statistics": role("prevention", "supervisor"),
    "prevention:statistics_csv": role("prevention", "supervisor"),
    "prevention:factors": role("prevention", "admin", "-", "GET", "POST"),
    **{
        f"prevention:{move}": role("prevention", needed, "case", "POST", args=case)
        for move, needed in PREVENTION_STEPS.items()
    },
}


@dataclasses.dataclass(frozen=True)
class ApiRule:
    """An API operation: the token scope it needs (or SIGNED_IN), what it reaches (as
    :class:`Rule`), its path parameters, query and JSON body."""

    need: str
    reach: str = "-"
    params: Callable[[Any], dict[str, Any]] | None = None
    query: dict[str, str] = dataclasses.field(default_factory=dict)
    body: Callable[[Any], Any] | None = None


def site_id(w: Any) -> dict[str, Any]:
    return {"site_id": w.site.pk}


def request_id(w: Any) -> dict[str, Any]:
    return {"request_id": w.referral.request_id.hex}


def practice_pk(w: Any) -> dict[str, Any]:
    return {"pk": w.practice.pk}


def practice_body(w: Any) -> dict[str, Any]:
    return {"title": "Walked practice", "summary": "A practice the walk writes."}


def reason(w: Any) -> dict[str, Any]:
    return {"reason": "permission walk"}


API: dict[tuple[str, str], ApiRule] = {
    ("GET", "/api/v1/me"): ApiRule(SIGNED_IN),
    ("GET", "/api/v1/cities"): ApiRule("core:read"),
    ("GET", "/api/v1/sites"): ApiRule("core:read", "city", query={"city": "helsinki"}),
    ("POST", "/api/v1/sites"): ApiRule(
        "core:write",
        "city",
        body=lambda w: {"city": "helsinki", "name": "Walked square", "boundary": SQUARE},
    ),
    ("GET", "/api/v1/sites/{site_id}"): ApiRule("core:read", "city", site_id),
    ("PATCH", "/api/v1/sites/{site_id}"): ApiRule(
        "core:write", "city", site_id, body=lambda w: {"description": "walked"}
    ),
    ("DELETE", "/api/v1/sites/{site_id}"): ApiRule("core:write", "city", site_id),
    ("POST", "/api/v1/assess/sites/{site_id}/runs"): ApiRule("assess:run", "city", site_id),
    ("GET", "/api/v1/assess/runs/{run_id}"): ApiRule(
        "assess:read", "city", lambda w: {"run_id": w.run.pk}
    ),
    ("GET", "/api/v1/assess/sites/{site_id}/latest"): ApiRule("assess:read", "city", site_id),
    ("POST", "/api/v1/access/requests"): ApiRule(
        "access:request",
        "lane",
        body=lambda w: {
            "lane": "hel-in",
            "plate": "ZZ-999-ZZ",
            "confidence": 0.97,
            "read_at": timezone.now().isoformat(),
        },
    ),
    ("GET", "/api/v1/access/lanes"): ApiRule("access:read"),
    ("GET", "/api/v1/access/requests/{request_id}"): ApiRule("access:read", "lane", request_id),
    ("POST", "/api/v1/access/lanes/{lane_id}/open"): ApiRule(
        "access:command", "lane", lambda w: {"lane_id": "hel-in"}, body=reason
    ),
    ("POST", "/api/v1/access/lanes/{lane_id}/close"): ApiRule(
        "access:command", "lane", lambda w: {"lane_id": "hel-in"}, body=reason
    ),
    ("POST", "/api/v1/access/zones/{zone_id}/mode"): ApiRule(
        "access:command",
        "zone",
        lambda w: {"zone_id": w.zone.ident},
        body=lambda w: {"mode": "maintenance", "reason": "permission walk"},
    ),
    ("POST", "/api/v1/access/requests/{request_id}/answer"): ApiRule(
        "access:command",
        "lane",
        request_id,
        body=lambda w: {"grant": False, "reason": "permission walk"},
    ),
    ("GET", "/api/v1/practices/"): ApiRule("practices:read"),
    ("GET", "/api/v1/funding/calls"): ApiRule("funding:read"),
    ("GET", "/api/v1/funding/consortia/{pk}/eligibility"): ApiRule(
        "funding:read", "city", lambda w: {"pk": w.consortium.pk}
    ),
    ("POST", "/api/v1/practices/"): ApiRule("practices:write", body=practice_body),
    ("GET", "/api/v1/practices/{pk}"): ApiRule("practices:read", "draft", practice_pk),
    ("PUT", "/api/v1/practices/{pk}"): ApiRule(
        "practices:write", "draft", practice_pk, body=practice_body
    ),
    ("GET", "/api/v1/practices/{pk}/contacts"): ApiRule("practices:read", "draft", practice_pk),
    ("GET", "/api/v1/practices/{pk}/similar"): ApiRule("practices:read", "draft", practice_pk),
    ("POST", "/api/v1/practices/{pk}/submit"): ApiRule("practices:write", "draft", practice_pk),
    ("GET", "/api/v1/exercises/"): ApiRule("exercises:read"),
    ("GET", "/api/v1/exercises/{pk}"): ApiRule("exercises:read", "city", exercise_walk.ex),
    ("GET", "/api/v1/exercises/{pk}/injects"): ApiRule("exercises:read", "city", exercise_walk.ex),
    ("GET", "/api/v1/exercises/{pk}/msel"): ApiRule("exercises:write", "city", exercise_walk.ex),
    ("POST", "/api/v1/exercises/{pk}/msel"): ApiRule(
        "exercises:write",
        "city",
        exercise_walk.ex,
        body=lambda w: {"name": "walk.csv", "content_base64": "Tm8="},
    ),
    ("GET", "/api/v1/prevention/statistics"): ApiRule(
        "prevention:statistics",
        "city",
        query={"city": "helsinki", "since": "2026-01-01", "until": "2026-12-31"},
    ),
}


# --- what each caller may get -----------------------------------------------------------------


def sees(reach: str, caller: Caller) -> bool:
    """Whether ``caller`` (past the route's role) may know of the object the route names."""
    if reach in ("case", "unit"):  # need-to-know: a unit role of one's own, never superuser
        needed = RANK["supervisor"] if reach == "case" else RANK["editor"]
        return caller.city == "here" and not caller.superuser and caller.rank >= needed
    if caller.superuser or reach == "-":
        return True
    here = caller.city == "here"
    if reach in ("city", "namespace", "lane", "zone"):
        return here
    if reach == "draft":
        return (here and caller.rank >= RANK["editor"]) or caller.rank >= RANK["admin"]
    if reach in ("token", "account"):  # never the owner in this walk
        return here and caller.rank >= RANK["admin"]
    raise AssertionError(f"unknown reach {reach!r}")


def passes(condition: str, caller: Caller) -> bool:
    if condition == "reviewer":
        return caller == Caller("here", "supervisor")
    if condition == "member":
        return False
    if condition == "organiser":
        return caller.superuser or caller.rank >= RANK["operator"]
    raise AssertionError(f"unknown condition {condition!r}")


def expect(rule: Rule | ApiRule, caller: Caller, method: str = "GET") -> str:
    """The one answer the table allows ``caller`` for ``rule``."""
    if rule.need == NOTHING:
        return HIDDEN
    if rule.need == PUBLIC:
        return OK
    if caller.city is None:
        return LOGIN
    if isinstance(rule, ApiRule) and rule.need != SIGNED_IN:
        module, needed = TOKEN_SCOPES[rule.need]
        if caller.token == "none":
            return DENIED
        if caller.token == "camera" and rule.need not in ("access:request", "access:read"):
            return DENIED  # a limited token carries and may use only these
    elif isinstance(rule.need, tuple):
        module, needed = rule.need
    else:
        needed = ""
    if needed and not caller.superuser and caller.rank < RANK[needed]:
        return DENIED
    if not sees(rule.reach, caller):
        return HIDDEN
    if caller.token == "camera" and rule.reach == "zone":
        return DENIED
    condition = rule.also.get(method) if isinstance(rule, Rule) else None
    if condition and not passes(condition, caller):
        return DENIED
    return OK


def outcome(response: Any, *, api: bool) -> str:
    status = response.status_code
    if status == 401 and api:
        return LOGIN
    if status == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    if status in (403, 404):
        return str(status)
    if status == 405 or status >= 500:
        return f"error {status}"
    return OK


def needs_audit(rule: Rule | ApiRule, expected: str) -> bool:
    """A refusal leaves an audit entry: every 403, and every 404 of an object that exists."""
    return expected == DENIED or (expected == HIDDEN and rule.reach not in ("-", "namespace"))


# --- the two cities and their objects ---------------------------------------------------------


@dataclasses.dataclass
class World:
    users: dict[Caller, Any]
    camera_owner: Any
    camera_token: Any
    camera_secret: str
    site: Any
    event: Any
    run: Any
    zone: Any
    schedule: Any
    permit: Any
    referral: Any
    alarm: Any
    practice: Any
    attachment: Any
    site_link: Any
    member: Any
    group: Any
    thread: Any
    meeting: Any
    help: Any
    exercises: Any = None
    call: Any = None
    consortium: Any = None
    consortium_member: Any = None
    project: Any = None
    deadline: Any = None
    case: Any = None
    case_export: Any = None


def _user(username: str, org: Any, role: str | None, **flags: Any) -> Any:
    from rempart.core.models import Profile
    from rempart.core.roles import MODULES

    user = get_user_model().objects.create(username=username, **flags)
    user.set_unusable_password()  # the walk logs in with force_login: no hashing to wait for
    user.save()
    Profile.objects.create(user=user, organisation=org)
    if role:
        for module in MODULES:
            grant(user, module, role)
    return user


def build_world(settings: Any, tmp_path: Any) -> World:
    from rempart.access import services
    from rempart.access.models import Alarm, Permit, ZoneSchedule
    from rempart.assess.models import Assessment
    from rempart.core.models import ApiToken, City, CityBasemap, Organisation, Site, SiteEvent
    from rempart.practices import workflow
    from rempart.practices.models import (
        Attachment,
        Event,
        HelpRequest,
        MemberProfile,
        Practice,
        ReviewAssignment,
        SiteLink,
        Status,
        Thread,
        WorkingGroup,
    )
    from tests.access.test_models_fixtures import make_zone

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PREVENTION_EXPORT_DIR = str(tmp_path / "prevention-exports")
    settings.PREVENTION_REQUIRE_2FA = False  # tested in tests/prevention/test_views.py
    now = timezone.now()
    cities, orgs = {}, {}
    for key, slug, name, country in (
        ("here", "helsinki", "Helsinki", "FI"),
        ("there", "brest", "Brest", "FR"),
    ):
        cities[key] = City.objects.create(name=name, slug=slug, country=country)
        orgs[key] = Organisation.objects.create(
            name=f"City of {name}", kind="municipality", city=cities[key]
        )
        orgs[key].cities.add(cities[key])
    users: dict[Caller, Any] = {}
    for caller in CALLERS[1:]:
        flags = {"is_superuser": True, "is_staff": True} if caller.superuser else {}
        role_held = None if caller.superuser else caller.role
        name = f"{caller.city}-{caller.role or 'none'}"
        users[caller] = _user(name, orgs[caller.city], role_held, **flags)
    camera_owner = _user("hel-camera", orgs["here"], None)
    grant(camera_owner, "access", "operator")

    here = cities["here"]
    site = Site.objects.create(city=here, name=f"Senaatintori {MARK}", boundary=SQUARE)
    event = SiteEvent.objects.create(
        site=site, name=f"New Year {MARK}", starts_at=now, ends_at=now + dt.timedelta(hours=3)
    )
    CityBasemap.objects.create(city=here, geojson='{"type": "FeatureCollection", "features": []}')
    run = Assessment.objects.create(
        site=site,
        status=Assessment.Status.DONE,
        osm_path="walk.osm",
        result={"entries": [], "plan": None},
        speed_field={"type": "FeatureCollection", "features": []},
        report_html="<!doctype html><title>report</title>",
    )
    zone = make_zone(here, "hel")
    zone.name = f"Old town {MARK}"
    zone.save()
    schedule = ZoneSchedule.objects.create(
        zone=zone,
        mode="maintenance",
        start=now + dt.timedelta(hours=2),
        end=now + dt.timedelta(hours=3),
        label=f"Works {MARK}",
    )
    permit = Permit.objects.create(
        city=here, ident="hel-p1", plate=PLATE, holder=f"Holder {MARK}", category="delivery"
    )
    permit.zones.add(zone)
    referral = services.submit_request("hel-in", plate=PLATE, confidence=0.5).decision
    assert referral.outcome == "refer"
    from rempart.access import evidence

    evidence.store(referral.request_id.hex, b"\xff\xd8\xff\xe0" + bytes(16), "image/jpeg")
    alarm = Alarm.objects.create(
        zone=zone, lane=zone.lanes.get(ident="hel-in"), kind="fault", message=f"Fault {MARK}"
    )
    camera_token, camera_secret = ApiToken.issue(
        camera_owner, "north gate", ["access:request", "access:read"], {"lanes": ["hel-in"]}
    )

    editor, reviewer = users[Caller("here", "editor")], users[Caller("here", "supervisor")]
    practice = Practice.objects.create(
        ref="walk-practice",
        title="Practice in review",
        summary="Reviewed by Helsinki's supervisor.",
        status=Status.IN_REVIEW,
        review_round=1,
        owner_organisation=orgs["here"],
        created_by=editor,
        contacts=[{"name": "Contact", "email": "contact@example.org"}],
    )
    workflow.snapshot(practice, editor)
    ReviewAssignment.objects.create(practice=practice, version=1, round=1, reviewer=reviewer)
    path = default_storage.save("practices/walk/guide.pdf", ContentFile(b"%PDF-1.4\n%walk\n"))
    attachment = Attachment.objects.create(
        practice=practice, title="Guide", path=path, size=15, sha256="0" * 64, uploaded_by=editor
    )
    site_link = SiteLink.objects.create(practice=practice, site=site, created_by=editor)
    member = MemberProfile.objects.create(
        user=users[Caller("here", "viewer")], display_name="A member"
    )
    organiser = users[Caller("here", "operator")]
    group = WorkingGroup.objects.create(name="Walkers", created_by=organiser)
    thread = Thread.objects.create(group=group, title="First thread", created_by=organiser)
    meeting = Event.objects.create(
        title="Study visit",
        kind="meeting",
        starts_at=now + dt.timedelta(days=7),
        ends_at=now + dt.timedelta(days=7, hours=2),
        capacity=30,
        organiser=organiser,
    )
    question = HelpRequest.objects.create(
        author=users[Caller("here", "viewer")], question="Who has done this?", themes=[]
    )
    from rempart.prevention import subject_access
    from rempart.prevention import workflow as casework

    prevention_case = casework.refer(
        city=here,
        user=users[Caller("here", "editor")],
        organisation=orgs["here"],
        person_name=f"Person {MARK}",
        age_band="18_25",
        source="education",
        concern=f"Concern {MARK}",
        referrer_name="A teacher",
        referred_on=now.date(),
        person_informed=True,
    )
    # the editor who referred it is on its team; keep the walk's rule simple: only coordinators
    prevention_case.team.all().delete()
    case_export, _passphrase = subject_access.export(
        prevention_case, users[Caller("here", "supervisor")]
    )
    world = World(
        case=prevention_case,
        case_export=case_export,
        users=users,
        camera_owner=camera_owner,
        camera_token=camera_token,
        camera_secret=camera_secret,
        site=site,
        event=event,
        run=run,
        zone=zone,
        schedule=schedule,
        permit=permit,
        referral=referral,
        alarm=alarm,
        practice=practice,
        attachment=attachment,
        site_link=site_link,
        member=member,
        group=group,
        thread=thread,
        meeting=meeting,
        help=question,
        **_funding_objects(here, orgs["here"]),
    )
    world.exercises = exercise_walk.build(site, orgs["here"], editor, MARK)
    return world


def _funding_objects(city: Any, organisation: Any) -> dict[str, Any]:
    from rempart.funding.models import Call, Consortium, ConsortiumMember, Deadline, FundedProject

    call = Call.objects.create(programme="horizon", call_id="C", topic_id="T-1", title="A call")
    consortium = Consortium.objects.create(city=city, organisation=organisation, name=MARK)
    member = ConsortiumMember.objects.create(
        consortium=consortium, name=f"Member {MARK}", country="FI", legal_type="municipality"
    )
    project = FundedProject.objects.create(
        city=city,
        organisation=organisation,
        programme="isf",
        grant_agreement="101000000",
        acronym="WALK",
        title=MARK,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2027, 12, 31),
    )
    deadline = Deadline.objects.create(
        project=project, kind="report", title=MARK, due_at=timezone.now() + dt.timedelta(days=3)
    )
    return {
        "call": call,
        "consortium": consortium,
        "consortium_member": member,
        "project": project,
        "deadline": deadline,
    }


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> World:
    return build_world(settings, tmp_path)


# --- walking -----------------------------------------------------------------------------------


def url_names() -> Iterator[tuple[str, Any]]:
    """(namespaced name, pattern) of every URL pattern of the project."""

    def walk(patterns: list[Any], namespace: str) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                prefix = f"{namespace}:{inner}" if namespace and inner else namespace or inner
                yield from walk(pattern.url_patterns, prefix)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or f"(no name: {pattern.pattern})"
                yield (f"{namespace}:{name}" if namespace else name), pattern

    yield from walk(get_resolver().url_patterns, "")


def api_operations() -> dict[tuple[str, str], str]:
    """(METHOD, path) -> operation id of every API operation, from the OpenAPI schema."""
    from rempart.api import api

    schema = api.get_openapi_schema()
    return {
        (method.upper(), path): operation["operationId"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }


def _log_in(client: Client, world: World, caller: Caller) -> None:
    client.force_login(world.users[caller])
    if caller.superuser:  # every city: look at Helsinki's, whose objects the URLs name
        session = client.session
        session["rempart_city"] = "helsinki"
        session.save()


def _clients(world: World) -> dict[Caller, Client]:
    clients = {ANONYMOUS: Client()}
    for caller in world.users:
        clients[caller] = Client()
        _log_in(clients[caller], world, caller)
    return clients


def _leaks(text: str) -> bool:
    return MARK in text or PLATE in text


def call(client: Client, method: str, url: str, **kwargs: Any) -> tuple[Any, bool]:
    """The response, and whether a refusal was audited; every change undone after it."""
    with transaction.atomic():
        before = AuditEntry.objects.filter(action="permission_denied").count()
        response = client.generic(method, url, **kwargs)
        if not response.streaming:
            response.content  # noqa: B018  (rendered inside the savepoint)
        audited = AuditEntry.objects.filter(action="permission_denied").count() > before
        transaction.set_rollback(True)
    return response, audited


def test_every_route_has_a_rule() -> None:
    """A URL pattern or API operation added without its line in this table fails here."""
    operations = api_operations()
    ids = set(operations.values())
    unknown = []
    seen = set()
    for name, _pattern in url_names():
        if name.startswith("admin:"):
            continue  # the admin site: test_admin_site_is_for_superusers_only
        if name.startswith("api:") and name not in PAGES:
            if not any(op == name[4:] or op.endswith(f"_{name[4:]}") for op in ids):
                unknown.append(name)
            continue
        seen.add(name)
        if name not in PAGES:
            unknown.append(name)
    assert not unknown, f"routes without a rule in PAGES: {unknown}"
    assert not set(PAGES) - seen, f"rules of routes that no longer exist: {set(PAGES) - seen}"
    assert not set(operations) - set(API), (
        f"API operations without a rule: {set(operations) - set(API)}"
    )
    assert not set(API) - set(operations), f"rules of gone operations: {set(API) - set(operations)}"


def test_every_page_as_every_caller(world: World) -> None:
    clients = _clients(world)
    wrong: list[str] = []
    for name, rule in PAGES.items():
        url = reverse(name, kwargs=rule.args(world) if rule.args else None)
        for method in rule.methods:
            for caller in CALLERS:
                client = clients[caller]
                response, audited = call(client, method, url)
                expected = expect(rule, caller, method)
                got = outcome(response, api=name == "api:openapi-json")  # JSON: 401, no redirect
                if rule.need == PUBLIC and got == LOGIN:
                    got = OK  # where a public page sends its caller (logout: to log in again)
                where = f"{method} {url} ({name}) as {caller}"
                if got != expected:
                    wrong.append(f"{where}: {got} ({response.status_code}), expected {expected}")
                elif needs_audit(rule, expected) and not audited:
                    wrong.append(f"{where}: {got} but no audit entry")
                body = "" if response.streaming else response.content.decode(errors="replace")
                if caller.city == "there" and _leaks(body):
                    wrong.append(f"{where}: shows Helsinki's data to a Brest user")
                if name == "logout" and caller.city is not None:
                    _log_in(client, world, caller)
    assert not wrong, f"{len(wrong)} answers the table does not allow:\n" + "\n".join(wrong)


def _api_headers(world: World, caller: Caller) -> dict[str, str]:
    from rempart.core.models import ApiToken

    if caller.city is None:
        return {}
    if caller.token == "camera":
        return {"HTTP_AUTHORIZATION": f"Bearer {world.camera_secret}"}
    scopes = [] if caller.token == "none" else list(TOKEN_SCOPES)
    owner = world.users[dataclasses.replace(caller, token="all")]
    _token, secret = ApiToken.issue(owner, "walk", scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_every_api_operation_as_every_caller(world: World) -> None:
    headers = {caller: _api_headers(world, caller) for caller in API_CALLERS}
    client = Client()
    wrong: list[str] = []
    for (method, template), rule in API.items():
        path = template.format(**(rule.params(world) if rule.params else {}))
        for caller in API_CALLERS:
            body = rule.body(world) if rule.body else None
            extra: dict[str, Any] = dict(headers[caller])
            if body is not None:
                extra.update(data=json.dumps(body), content_type="application/json")
            query = "?" + "&".join(f"{k}={v}" for k, v in rule.query.items()) if rule.query else ""
            response, audited = call(client, method, path + query, **extra)
            expected = expect(rule, caller, method)
            got = outcome(response, api=True)
            where = f"{method} {path} as {caller}"
            if got != expected:
                detail = response.content.decode(errors="replace")[:200]
                wrong.append(
                    f"{where}: {got} ({response.status_code} {detail}), expected {expected}"
                )
            elif needs_audit(rule, expected) and not audited:
                wrong.append(f"{where}: {got} but no audit entry")
            if caller.city == "there" and _leaks(response.content.decode(errors="replace")):
                wrong.append(f"{where}: shows Helsinki's data to a Brest user")
    assert not wrong, f"{len(wrong)} answers the table does not allow:\n" + "\n".join(wrong)


def _sample_kwargs(pattern: Any) -> dict[str, Any]:
    """Values for an admin URL's parameters (any id: the admin refuses before looking)."""
    regex = pattern.pattern.regex.pattern
    names = re.findall(r"\(\?P<(\w+)>", regex) + list(getattr(pattern.pattern, "converters", {}))
    values: dict[str, Any] = {}
    for name in dict.fromkeys(names):
        values[name] = "core" if name == "app_label" else "1"
    return values


def test_admin_site_is_for_superusers_only(world: World) -> None:
    """The admin knows no city: every page of it, for superusers only (a staff account with
    every role is sent to the admin's login like anyone else)."""
    staff_admin = world.users[Caller("here", "admin")]
    staff_admin.is_staff = True
    staff_admin.save()
    clients = {"anonymous": Client(), "staff with every role": Client()}
    clients["staff with every role"].force_login(staff_admin)
    wrong = []
    walked = 0
    for name, pattern in url_names():
        if not name.startswith("admin:"):
            continue
        if name.startswith("admin:(no name"):  # the admin's catch-all: any other path under it
            url = reverse("admin:index") + "no-such-page/"
        else:
            url = reverse(name, kwargs=_sample_kwargs(pattern) or None)
        for who, client in clients.items():
            response, _audited = call(client, "GET", url)
            walked += 1
            # the admin's own logout sends anyone it refuses to its index, which asks to log in
            to = reverse("admin:index") if name == "admin:logout" else reverse("admin:login")
            if name == "admin:login":
                if response.status_code != 200:
                    wrong.append(f"{url} as {who}: {response.status_code}, expected the form")
            elif response.status_code != 302 or not response["Location"].startswith(to):
                wrong.append(f"{url} ({name}) as {who}: {response.status_code}, expected login")
    assert walked > 50  # every model's pages, not a handful
    assert not wrong, "\n".join(wrong)
    superuser = Client()
    superuser.force_login(world.users[Caller("here", "superuser")])
    assert superuser.get(reverse("admin:index")).status_code == 200
