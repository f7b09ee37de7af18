"""The MSEL's rules: inject states, versions and rollback, the clock, release and the journal.

Inject states (after Crucible Blueprint and Cadence, in the issue's words): draft → approved →
released → complete; draft, approved or deferred may be *skipped* (final) or *deferred*, each
with a reason; a deferred inject may be approved again. Every change names who and when, is
written to the exercise journal, and audited by the core's signals (the model change).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rempart.exercises.models import Exercise, Inject, JournalEntry, MselVersion, Objective

S = Inject.State

#: state -> the states it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.APPROVED, S.DEFERRED, S.SKIPPED}),
    S.APPROVED: frozenset({S.RELEASED, S.DEFERRED, S.SKIPPED, S.DRAFT}),
    S.RELEASED: frozenset({S.COMPLETE}),
    S.COMPLETE: frozenset(),
    S.DEFERRED: frozenset({S.APPROVED, S.SKIPPED}),
    S.SKIPPED: frozenset(),
}
NEEDS_REASON = frozenset({S.DEFERRED, S.SKIPPED})


class MselError(Exception):
    """A refused MSEL change; the message is one line naming the inject and why."""


def _journal(
    exercise: Exercise, kind: str, text: str, user: Any = None, inject: Inject | None = None
) -> JournalEntry:
    return JournalEntry.objects.create(
        exercise=exercise,
        kind=kind,
        text=text,
        author=user if getattr(user, "is_authenticated", False) else None,
        inject=inject,
        scenario_s=exercise.scenario_seconds(),
    )


def move(inject: Inject, to: str, user: Any, reason: str = "") -> Inject:
    """Move ``inject`` to state ``to``: who, when and why are kept; refused with MselError if
    the move is not allowed or a skip/deferral comes without a reason."""
    reason = reason.strip()
    if to not in S.values:
        raise MselError(f"inject state {to!r} is unknown; expected one of {', '.join(S.values)}")
    if to not in TRANSITIONS[inject.state]:
        raise MselError(
            f"inject #{inject.number} is {inject.state}: it cannot become {to} "
            f"(allowed: {', '.join(sorted(TRANSITIONS[inject.state])) or 'none'})"
        )
    if to in NEEDS_REASON and not reason:
        raise MselError(f"inject #{inject.number}: a reason is needed to mark it {to}")
    exercise = inject.exercise
    with transaction.atomic():
        inject.state = to
        inject.state_by = user if getattr(user, "is_authenticated", False) else None
        inject.state_at = timezone.now()
        inject.state_reason = reason[:300]
        if to == S.RELEASED:
            inject.released_scenario_s = exercise.scenario_seconds()
        inject.save()
        label = dict(S.choices)[to]
        text = f"#{inject.number} {inject.subject or inject.message[:80]}: {label}"
        _journal(
            exercise,
            JournalEntry.Kind.INJECT,
            f"{text}{' — ' + reason if reason else ''}",
            user,
            inject,
        )
    return inject


def release(inject: Inject, user: Any) -> Inject:
    """Release now (on time or on demand); a draft is approved on the way."""
    if inject.state == S.DRAFT:
        move(inject, S.APPROVED, user)
    return move(inject, S.RELEASED, user)


def due(exercise: Exercise, now: dt.datetime | None = None) -> list[Inject]:
    """Approved timeline injects whose scenario time has come (contingency injects never are;
    a branch waits for its parent to be released)."""
    at_s = exercise.scenario_seconds(now)
    rows = exercise.injects.filter(
        state=S.APPROVED,
        contingency=False,
        scenario_time_s__isnull=False,
        scenario_time_s__lte=at_s,
    ).select_related("parent")
    return [i for i in rows if i.parent is None or i.parent.state in (S.RELEASED, S.COMPLETE)]


def release_due(exercise: Exercise, user: Any, now: dt.datetime | None = None) -> list[Inject]:
    return [move(i, S.RELEASED, user) for i in due(exercise, now)]


def visible_injects(exercise: Exercise, user: Any, *, controller: bool) -> Any:
    """Controllers see the whole MSEL; anyone else only what was released."""
    rows = exercise.injects.all()
    if controller:
        return rows
    return rows.filter(state__in=[S.RELEASED, S.COMPLETE])


# --- the clock ---------------------------------------------------------------------------------


def start_clock(exercise: Exercise, user: Any, now: dt.datetime | None = None) -> None:
    if exercise.clock_running_since is not None:
        raise MselError(f"the clock of {exercise} is already running")
    exercise.clock_running_since = now or timezone.now()
    if exercise.stage == Exercise.Stage.PLANNING:
        exercise.stage = Exercise.Stage.CONDUCT
    exercise.save()
    _journal(exercise, JournalEntry.Kind.CLOCK, _("Clock started"), user)


def pause_clock(exercise: Exercise, user: Any, now: dt.datetime | None = None) -> None:
    if exercise.clock_running_since is None:
        raise MselError(f"the clock of {exercise} is not running")
    exercise.clock_banked_s = exercise.scenario_seconds(now)
    exercise.clock_running_since = None
    exercise.save()
    _journal(exercise, JournalEntry.Kind.CLOCK, _("Clock paused"), user)


def jump_clock(exercise: Exercise, to_s: float, user: Any, now: dt.datetime | None = None) -> None:
    if to_s < 0:
        raise MselError(f"scenario time {to_s:g} s is negative; expected 0 or more")
    exercise.clock_banked_s = float(to_s)
    if exercise.clock_running_since is not None:
        exercise.clock_running_since = now or timezone.now()
    exercise.save()
    _journal(exercise, JournalEntry.Kind.CLOCK, _("Clock set to %s") % clock_text(to_s), user)


def clock_text(seconds: float) -> str:
    """``H:MM:SS`` of a scenario time in seconds."""
    total = int(seconds)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


# --- versions -----------------------------------------------------------------------------------

FIELDS = (
    "number",
    "scenario_time_s",
    "planned_at",
    "sender",
    "recipient",
    "method",
    "subject",
    "message",
    "expected_action",
    "controller_notes",
    "phase",
    "trigger",
    "contingency",
    "state",
    "state_reason",
)


def inject_rows(exercise: Exercise) -> list[dict[str, Any]]:
    """The MSEL as plain rows (JSON-ready): fields, parent number, objective numbers."""
    rows = []
    for inject in exercise.injects.select_related("parent").prefetch_related("objectives"):
        row: dict[str, Any] = {name: getattr(inject, name) for name in FIELDS}
        row["planned_at"] = inject.planned_at.isoformat() if inject.planned_at else None
        row["parent"] = inject.parent.number if inject.parent else None
        row["objectives"] = sorted(o.number for o in inject.objectives.all())
        row["controller"] = inject.controller_id
        rows.append(row)
    return rows


def save_version(exercise: Exercise, user: Any, note: str = "") -> MselVersion:
    with transaction.atomic():
        exercise = Exercise.objects.select_for_update().get(pk=exercise.pk)
        exercise.msel_version += 1
        exercise.save(update_fields=["msel_version"])
        return MselVersion.objects.create(
            exercise=exercise,
            number=exercise.msel_version,
            note=note[:300],
            rows=inject_rows(exercise),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )


def replace_injects(exercise: Exercise, rows: list[dict[str, Any]]) -> list[Inject]:
    """Replace the MSEL with ``rows`` (as :func:`inject_rows` gives them); inside a transaction."""
    objectives = {o.number: o for o in exercise.objectives.all()}
    exercise.injects.all().delete()
    made: dict[int, Inject] = {}
    for row in rows:
        values = {name: row.get(name) for name in FIELDS if name in row}
        planned = values.get("planned_at")
        values["planned_at"] = dt.datetime.fromisoformat(planned) if planned else None
        for text in (
            "subject",
            "expected_action",
            "controller_notes",
            "phase",
            "trigger",
            "state_reason",
        ):
            values[text] = values.get(text) or ""
        values["contingency"] = bool(values.get("contingency"))
        values.setdefault("state", S.DRAFT)
        inject = Inject.objects.create(
            exercise=exercise, controller_id=row.get("controller"), **values
        )
        wanted = [objectives[n] for n in row.get("objectives") or [] if n in objectives]
        if wanted:
            inject.objectives.set(wanted)
        made[inject.number] = inject
    for row in rows:
        parent = row.get("parent")
        if parent is not None and parent in made:
            child = made[row["number"]]
            child.parent = made[parent]
            child.save(update_fields=["parent"])
    return list(made.values())


def rollback(version: MselVersion, user: Any) -> MselVersion:
    """Put the MSEL back as it was in ``version``; the current MSEL is saved first as a new
    version, so a rollback can itself be undone."""
    exercise = version.exercise
    with transaction.atomic():
        save_version(exercise, user, _("Before rollback to version %d") % version.number)
        replace_injects(exercise, version.rows)
        _journal(
            exercise,
            JournalEntry.Kind.NOTE,
            _("MSEL rolled back to version %d") % version.number,
            user,
        )
        return save_version(exercise, user, _("Rollback to version %d") % version.number)


def compare(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per inject number: ``added``, ``removed`` or ``changed`` with the changed fields."""
    before = {r["number"]: r for r in old}
    after = {r["number"]: r for r in new}
    out = []
    for number in sorted(set(before) | set(after)):
        if number not in before:
            out.append({"number": number, "change": "added", "fields": []})
        elif number not in after:
            out.append({"number": number, "change": "removed", "fields": []})
        else:
            fields = sorted(k for k in after[number] if before[number].get(k) != after[number][k])
            if fields:
                out.append({"number": number, "change": "changed", "fields": fields})
    return out


def next_number(exercise: Exercise) -> int:
    last = exercise.injects.order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def objectives_for_evaluator(exercise: Exercise, user: Any) -> Any:
    """The objectives ``user`` evaluates in ``exercise`` (their evaluator assignments)."""
    return Objective.objects.filter(
        exercise=exercise,
        participant__user=user,
        participant__role="evaluator",
    ).distinct()
