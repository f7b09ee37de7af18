"""A funded project from JSON: validated whole, then written in one transaction.

Shape: ``{"programme", "grant_agreement", "acronym", "title", "starts_on", "ends_on",
"eu_contribution_eur", "funding_rate", "indirect_rate", "lump_sum_eur",
"partners": [{"name", "country", "role"}], "work_packages": [{"number", "title",
"lump_sum_share_eur"}], "budget": [{"partner", "category", "amount_eur", "person_months",
"work_package"}], "deadlines": [{"kind", "code", "title", "due_at"}]}``. Dates ISO 8601; a
due moment without an offset is Brussels time (the Commission's). Amounts are decimal strings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from rempart.funding import countries
from rempart.funding.budget import CATEGORIES
from rempart.funding.calls_io import BRUSSELS
from rempart.funding.eligibility import MEMBER_ROLES
from rempart.funding.models import (
    BudgetLine,
    Deadline,
    FundedProject,
    Programme,
    ProjectPartner,
    WorkPackage,
)

MAX_ROWS = 5_000


class ProjectFileError(ValueError):
    pass


def _text(where: str, raw: dict[str, Any], field: str, limit: int, required: bool = True) -> str:
    value = raw.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise ProjectFileError(f"{where}: {field} must be text of at most {limit} characters")
    if required and not value.strip():
        raise ProjectFileError(f"{where}: {field} is missing")
    return value.strip()


def _amount(where: str, raw: dict[str, Any], field: str, high: str = "1e12") -> Decimal | None:
    value = raw.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ProjectFileError(
            f'{where}: {field} {value!r} must be a decimal string, e.g. "1200.50"'
        )
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ProjectFileError(f"{where}: {field} {value!r} is not a number") from None
    if not amount.is_finite() or amount < 0 or amount > Decimal(high):
        raise ProjectFileError(f"{where}: {field} {value!r} must be between 0 and {high}")
    return amount


def _rows(raw: dict[str, Any], field: str) -> list[dict[str, Any]]:
    rows = raw.get(field, [])
    if (
        not isinstance(rows, list)
        or len(rows) > MAX_ROWS
        or not all(isinstance(r, dict) for r in rows)
    ):
        raise ProjectFileError(f"{field} must be a list of at most {MAX_ROWS} objects")
    return rows


def import_project(raw: Any, city: Any, organisation: Any) -> FundedProject:
    if not isinstance(raw, dict):
        raise ProjectFileError("a project file must be a JSON object")
    where = "project"
    programme = raw.get("programme")
    if programme not in Programme.values:
        raise ProjectFileError(
            f"project: programme {programme!r} is not one of {', '.join(Programme.values)}"
        )
    try:
        starts_on = dt.date.fromisoformat(str(raw.get("starts_on")))
        ends_on = dt.date.fromisoformat(str(raw.get("ends_on")))
    except ValueError:
        raise ProjectFileError(
            "project: starts_on and ends_on must be dates (YYYY-MM-DD)"
        ) from None
    if ends_on < starts_on:
        raise ProjectFileError(f"project: ends_on {ends_on} is before starts_on {starts_on}")
    fields = {
        "programme": programme,
        "grant_agreement": _text(where, raw, "grant_agreement", 40),
        "acronym": _text(where, raw, "acronym", 40),
        "title": _text(where, raw, "title", 300),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "eu_contribution_eur": _amount(where, raw, "eu_contribution_eur"),
        "lump_sum_eur": _amount(where, raw, "lump_sum_eur"),
    }
    for rate in ("funding_rate", "indirect_rate"):
        value = _amount(where, raw, rate, "1")
        if value is not None:
            fields[rate] = value
    partners = []
    for i, row in enumerate(_rows(raw, "partners"), start=1):
        w = f"partner {i}"
        role = row.get("role", "beneficiary")
        if role not in MEMBER_ROLES:
            raise ProjectFileError(f"{w}: role {role!r} is not one of {', '.join(MEMBER_ROLES)}")
        country = countries.normalise(_text(w, row, "country", 3))
        if len(country) != 2 or not country.isalpha():
            raise ProjectFileError(f"{w}: country {country!r} is not a two-letter code")
        partners.append({"name": _text(w, row, "name", 300), "country": country, "role": role})
    names = [p["name"] for p in partners]
    if len(set(names)) != len(names):
        raise ProjectFileError("partners: a name appears twice")
    wps = []
    for i, row in enumerate(_rows(raw, "work_packages"), start=1):
        number = row.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 99:
            raise ProjectFileError(f"work package {i}: number {number!r} must be 1 to 99")
        wps.append(
            {
                "number": number,
                "title": _text(f"work package {i}", row, "title", 200),
                "lump_sum_share_eur": _amount(f"work package {i}", row, "lump_sum_share_eur"),
            }
        )
    budget = []
    for i, row in enumerate(_rows(raw, "budget"), start=1):
        w = f"budget line {i}"
        partner = row.get("partner")
        if partner not in names:
            raise ProjectFileError(f"{w}: partner {partner!r} is not one of the partners")
        category = row.get("category")
        if category not in CATEGORIES:
            raise ProjectFileError(
                f"{w}: category {category!r} is not one of {', '.join(CATEGORIES)}"
            )
        amount = _amount(w, row, "amount_eur")
        if amount is None:
            raise ProjectFileError(f"{w}: amount_eur is missing")
        wp = row.get("work_package")
        if wp is not None and wp not in {x["number"] for x in wps}:
            raise ProjectFileError(f"{w}: work_package {wp!r} is not one of the work packages")
        budget.append(
            {
                "partner": partner,
                "category": category,
                "amount_eur": amount,
                "person_months": _amount(w, row, "person_months", "100000"),
                "work_package": wp,
            }
        )
    deadlines = []
    for i, row in enumerate(_rows(raw, "deadlines"), start=1):
        w = f"deadline {i}"
        kind = row.get("kind")
        if kind not in Deadline.Kind.values:
            raise ProjectFileError(
                f"{w}: kind {kind!r} is not one of {', '.join(Deadline.Kind.values)}"
            )
        try:
            due = dt.datetime.fromisoformat(str(row.get("due_at")))
        except ValueError:
            raise ProjectFileError(
                f"{w}: due_at {row.get('due_at')!r} is not an ISO 8601 date and time"
            ) from None
        if due.tzinfo is None:
            due = due.replace(tzinfo=BRUSSELS)
        deadlines.append(
            {
                "kind": kind,
                "code": _text(w, row, "code", 20, False),
                "title": _text(w, row, "title", 300),
                "due_at": due,
            }
        )
    with transaction.atomic():
        project = FundedProject.objects.create(city=city, organisation=organisation, **fields)
        by_name = {p["name"]: ProjectPartner.objects.create(project=project, **p) for p in partners}
        by_number = {w["number"]: WorkPackage.objects.create(project=project, **w) for w in wps}
        for line in budget:
            BudgetLine.objects.create(
                project=project,
                partner=by_name[line["partner"]],
                work_package=by_number.get(line["work_package"]) if line["work_package"] else None,
                category=line["category"],
                amount_eur=line["amount_eur"],
                person_months=line["person_months"],
            )
        for deadline in deadlines:
            Deadline.objects.create(project=project, **deadline)
    return project
