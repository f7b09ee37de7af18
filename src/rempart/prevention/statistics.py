"""The observatory: anonymised counts of the unit's work, with small cells suppressed.

Counts only (of referrals, actions, closures), never anything computed about a person. Each
table is a list of ``(category, count)``; a count from 1 to ``K - 1`` (``K`` = 5, the
threshold the issue sets, as in Eurostat's and the UK ONS' small-cell rules) is shown as
"fewer than 5" (``None``), and when a table has exactly one such cell a second smallest cell
is suppressed too (complementary suppression), so that no cell can be recovered by
subtraction from another table's total. Zero stays zero: it singles nobody out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from typing import Any

from django.utils.translation import gettext as _

from rempart.prevention.models import Action, AgeBand, Case, ClosureReason, Screening, Source

K = 5
Table = list[tuple[str, int | None]]


def suppress(counts: dict[str, int], k: int = K) -> Table:
    """``(category, count or None)`` in the given order, small cells suppressed."""
    rows: list[tuple[str, int | None]] = [
        (key, None if 0 < value < k else value) for key, value in counts.items()
    ]
    hidden = [i for i, (_key, value) in enumerate(rows) if value is None]
    if len(hidden) == 1:
        shown = [(value, i) for i, (_key, value) in enumerate(rows) if value]
        if shown:
            _value, index = min(shown)
            rows[index] = (rows[index][0], None)
    return rows


def _labelled(counter: Counter[str], choices: Any) -> dict[str, int]:
    return {str(label): counter.get(value, 0) for value, label in choices}


def _first_contact_band(case: Case) -> str:
    if case.first_contact_on is None:
        return _("no contact yet")
    days = (case.first_contact_on - case.referred_on).days
    if days <= 7:
        return _("within 7 days")
    if days <= 30:
        return _("8 to 30 days")
    return _("more than 30 days")


def observatory(city: Any, since: dt.date, until: dt.date) -> list[tuple[str, Table]]:
    """The tables of referrals received in ``[since, until]`` in ``city``."""
    fields = ("source", "age_band", "referred_on", "screening", "first_contact_on")
    cases = list(
        Case.objects.filter(city=city, referred_on__gte=since, referred_on__lte=until).only(
            *fields, "closure_reason", "status"
        )
    )
    months = Counter(c.referred_on.strftime("%Y-%m") for c in cases)
    screening = Counter(c.screening or "pending" for c in cases)
    outcome = _labelled(screening, Screening.choices)
    outcome[_("awaiting screening")] = screening.get("pending", 0)
    bands = Counter(_first_contact_band(c) for c in cases if c.screening == Screening.ACCEPT)
    band_order = [
        _("within 7 days"),
        _("8 to 30 days"),
        _("more than 30 days"),
        _("no contact yet"),
    ]
    actions = Counter(
        Action.objects.filter(case__in=[c.pk for c in cases]).values_list("kind", flat=True)
    )
    closures = Counter(c.closure_reason for c in cases if c.status == "closed")
    return [
        (
            _("Referrals by source"),
            suppress(_labelled(Counter(c.source for c in cases), Source.choices)),
        ),
        (
            _("Referrals by age band"),
            suppress(_labelled(Counter(c.age_band for c in cases), AgeBand.choices)),
        ),
        (_("Referrals by month"), suppress(dict(sorted(months.items())))),
        (_("Referrals by screening outcome"), suppress(outcome)),
        (
            _("Time from referral to first contact (accepted cases)"),
            suppress({b: bands.get(b, 0) for b in band_order}),
        ),
        (_("Support plan actions by kind"), suppress(_labelled(actions, Action.Kind.choices))),
        (_("Outcomes at closure"), suppress(_labelled(closures, ClosureReason.choices))),
    ]


def to_csv(tables: list[tuple[str, Table]], city: Any, since: dt.date, until: dt.date) -> str:
    """One CSV for the prefecture or ministry: table, category, count ("<5" when suppressed)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["city", "since", "until", "table", "category", "count"])
    for title, rows in tables:
        for category, count in rows:
            writer.writerow(
                [
                    city.slug,
                    since.isoformat(),
                    until.isoformat(),
                    title,
                    category,
                    f"<{K}" if count is None else count,
                ]
            )
    return out.getvalue()
