"""Budget arithmetic of an EU grant, in exact decimals (euros, 2 places).

Cost categories of the Horizon Europe model grant agreement (Annex 2): A personnel,
B subcontracting, C purchases (C.1 travel and subsistence, C.2 equipment, C.3 other goods,
works and services), D other cost categories, E indirect costs.

* **Indirect costs** are a flat rate of the direct costs *excluding subcontracting*: 25 % in
  Horizon Europe (Regulation (EU) 2021/695, Art. 35(3)), up to 7 % in ISF action grants
  (Financial Regulation (EU, Euratom) 2024/2509, Art. 184(6)); the rate is the project's.
* **The EU contribution** is at most the funding rate times the eligible costs.
* **Personnel against person-months**: the monthly cost a line implies must be plausible. The
  bounds are an assumption of ours, not a rule of the programmes (a Horizon Europe person-month
  is 1/12 of 1,720 productive hours): below 1,000 EUR or above 20,000 EUR per person-month is
  flagged for a human to check, as is personnel without person-months.
* **Lump sums**: the shares of the work packages must add up to the lump sum exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

#: Cost categories (code -> English label; the model gives translated labels).
CATEGORIES = (
    "personnel",
    "subcontracting",
    "travel",
    "equipment",
    "other_goods",
    "other_costs",
)
#: Categories on which the flat rate of indirect costs is computed (all but subcontracting).
INDIRECT_BASE = frozenset({"personnel", "travel", "equipment", "other_goods", "other_costs"})
PERSON_MONTH_MIN_EUR = Decimal("1000")
PERSON_MONTH_MAX_EUR = Decimal("20000")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    partner: str
    category: str
    amount_eur: Decimal
    person_months: Decimal | None = None
    work_package: int | None = None


@dataclass(frozen=True)
class Problem:
    """A budget check that failed: its code, and the numbers for the sentence."""

    code: str
    partner: str = ""
    amount_eur: Decimal | None = None
    limit_eur: Decimal | None = None
    detail: str = ""


def direct_costs(lines: Iterable[Line]) -> Decimal:
    return money(sum((line.amount_eur for line in lines), Decimal(0)))


def indirect_costs(lines: Iterable[Line], rate: Decimal) -> Decimal:
    """``rate`` times the direct costs other than subcontracting."""
    base = sum((line.amount_eur for line in lines if line.category in INDIRECT_BASE), Decimal(0))
    return money(base * rate)


def eligible_costs(lines: Iterable[Line], rate: Decimal) -> Decimal:
    items = list(lines)
    return money(direct_costs(items) + indirect_costs(items, rate))


def max_contribution(
    lines: Iterable[Line], indirect_rate: Decimal, funding_rate: Decimal
) -> Decimal:
    return money(eligible_costs(lines, indirect_rate) * funding_rate)


def check(
    lines: Iterable[Line],
    *,
    indirect_rate: Decimal,
    funding_rate: Decimal,
    eu_contribution_eur: Decimal | None,
    lump_sum_eur: Decimal | None = None,
    work_package_shares: dict[int, Decimal] | None = None,
) -> list[Problem]:
    """Every budget problem of a project, in a stable order."""
    items = list(lines)
    problems: list[Problem] = []
    for line in items:
        if line.amount_eur < 0:
            problems.append(
                Problem("negative", line.partner, line.amount_eur, detail=line.category)
            )
    personnel: dict[str, list[Line]] = defaultdict(list)
    for line in items:
        if line.category == "personnel":
            personnel[line.partner].append(line)
    for partner, rows in personnel.items():
        cost = sum((row.amount_eur for row in rows), Decimal(0))
        months = sum((row.person_months or Decimal(0) for row in rows), Decimal(0))
        if cost > 0 and months <= 0:
            problems.append(Problem("personnel_without_months", partner, money(cost)))
            continue
        if months > 0:
            per_month = money(cost / months)
            if per_month < PERSON_MONTH_MIN_EUR:
                problems.append(Problem("month_rate_low", partner, per_month, PERSON_MONTH_MIN_EUR))
            elif per_month > PERSON_MONTH_MAX_EUR:
                problems.append(
                    Problem("month_rate_high", partner, per_month, PERSON_MONTH_MAX_EUR)
                )
    if eu_contribution_eur is not None:
        ceiling = max_contribution(items, indirect_rate, funding_rate)
        if eu_contribution_eur > ceiling:
            problems.append(Problem("contribution_above_ceiling", "", eu_contribution_eur, ceiling))
    if lump_sum_eur is not None:
        shares = work_package_shares or {}
        total = money(sum(shares.values(), Decimal(0)))
        if total != money(lump_sum_eur):
            problems.append(
                Problem("lump_sum_shares", "", total, money(lump_sum_eur), detail=str(len(shares)))
            )
    return problems


def by_partner_and_category(lines: Iterable[Line]) -> dict[tuple[str, str], Decimal]:
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        totals[(line.partner, line.category)] += line.amount_eur
    return {key: money(value) for key, value in totals.items()}
