"""A funded project's figures: budget against spending per partner and category, the budget
checks in words, and its deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from rempart.funding import budget
from rempart.funding.models import CostCategory, FundedProject


def lines_of(project: FundedProject) -> list[budget.Line]:
    return [
        budget.Line(
            row.partner.name,
            row.category,
            row.amount_eur,
            row.person_months,
            row.work_package.number if row.work_package else None,
        )
        for row in project.budget.select_related("partner", "work_package")
    ]


def problems_in_words(project: FundedProject) -> list[str]:
    shares = {
        wp.number: wp.lump_sum_share_eur
        for wp in project.work_packages.all()
        if wp.lump_sum_share_eur is not None
    }
    problems = budget.check(
        lines_of(project),
        indirect_rate=project.indirect_rate,
        funding_rate=project.funding_rate,
        eu_contribution_eur=project.eu_contribution_eur,
        lump_sum_eur=project.lump_sum_eur,
        work_package_shares=shares,
    )
    words = []
    for p in problems:
        values = {"partner": p.partner, "amount": p.amount_eur, "limit": p.limit_eur}
        if p.code == "negative":
            words.append(_("%(partner)s: a negative amount, %(amount)s EUR.") % values)
        elif p.code == "personnel_without_months":
            words.append(
                _("%(partner)s: %(amount)s EUR of personnel costs without person-months.") % values
            )
        elif p.code == "month_rate_low":
            words.append(
                _(
                    "%(partner)s: personnel costs of %(amount)s EUR per person-month, below "
                    "%(limit)s EUR: check the person-months."
                )
                % values
            )
        elif p.code == "month_rate_high":
            words.append(
                _(
                    "%(partner)s: personnel costs of %(amount)s EUR per person-month, above "
                    "%(limit)s EUR: check the person-months."
                )
                % values
            )
        elif p.code == "contribution_above_ceiling":
            words.append(
                _(
                    "The EU contribution, %(amount)s EUR, is above the funding rate times the "
                    "eligible costs, %(limit)s EUR."
                )
                % values
            )
        elif p.code == "lump_sum_shares":
            words.append(
                _(
                    "The work packages' shares add up to %(amount)s EUR, not the lump sum of %(limit)s EUR."
                )
                % values
            )
    return words


@dataclass(frozen=True)
class Row:
    partner: str
    category: str
    budget_eur: Decimal
    spent_eur: Decimal

    @property
    def left_eur(self) -> Decimal:
        return self.budget_eur - self.spent_eur

    @property
    def spent_share(self) -> float:
        """For the chart only (0..1.5): never used in arithmetic."""
        if self.budget_eur <= 0:
            return 1.5 if self.spent_eur > 0 else 0.0
        return min(float(self.spent_eur / self.budget_eur), 1.5)


def budget_against_spent(project: FundedProject) -> list[Row]:
    planned = budget.by_partner_and_category(lines_of(project))
    spent: dict[tuple[str, str], Decimal] = {}
    for row in project.spending.select_related("partner"):
        key = (row.partner.name, row.category)
        spent[key] = spent.get(key, Decimal(0)) + row.amount_eur
    labels = dict(CostCategory.choices)
    rows = []
    for partner in project.partners.all():
        for category in budget.CATEGORIES:
            key = (partner.name, category)
            if key in planned or key in spent:
                rows.append(
                    Row(
                        partner.name,
                        str(labels[category]),
                        planned.get(key, Decimal("0.00")),
                        budget.money(spent.get(key, Decimal(0))),
                    )
                )
    return rows


def totals(rows: list[Row]) -> dict[str, Any]:
    planned = sum((row.budget_eur for row in rows), Decimal("0.00"))
    spent = sum((row.spent_eur for row in rows), Decimal("0.00"))
    return {"budget_eur": planned, "spent_eur": spent, "left_eur": planned - spent}
