"""Budget arithmetic, by hand (Horizon Europe: 25 % flat rate on direct costs without
subcontracting, Regulation (EU) 2021/695 Art. 35(3))."""

from __future__ import annotations

from decimal import Decimal

from rempart.funding.budget import (
    Line,
    by_partner_and_category,
    check,
    eligible_costs,
    indirect_costs,
    max_contribution,
)

D = Decimal
LINES = [
    Line("Nice", "personnel", D("120000.00"), D("24")),  # 5,000 EUR per person-month
    Line("Nice", "subcontracting", D("50000.00")),
    Line("Nice", "equipment", D("30000.10")),
    Line("Efus", "personnel", D("60000.00"), D("10")),
    Line("Efus", "travel", D("9999.99")),
]


def test_indirect_costs_exclude_subcontracting() -> None:
    # base 120,000 + 30,000.10 + 60,000 + 9,999.99 = 220,000.09; 25 % = 55,000.0225 -> 55,000.02
    assert indirect_costs(LINES, D("0.25")) == D("55000.02")
    # eligible = direct 270,000.09 + 55,000.02
    assert eligible_costs(LINES, D("0.25")) == D("325000.11")
    # ISF: 7 % of 220,000.09 = 15,400.0063, to the cent half up: 15,400.01
    assert indirect_costs(LINES, D("0.07")) == D("15400.01")


def test_contribution_ceiling_and_rounding_in_cents() -> None:
    assert max_contribution(LINES, D("0.25"), D("1")) == D("325000.11")
    assert max_contribution(LINES, D("0.25"), D("0.7")) == D("227500.08")  # 227,500.077
    problems = check(
        LINES, indirect_rate=D("0.25"), funding_rate=D("0.7"), eu_contribution_eur=D("227500.09")
    )
    assert [(p.code, p.amount_eur, p.limit_eur) for p in problems] == [
        ("contribution_above_ceiling", D("227500.09"), D("227500.08"))
    ]
    assert (
        check(
            LINES,
            indirect_rate=D("0.25"),
            funding_rate=D("0.7"),
            eu_contribution_eur=D("227500.08"),
        )
        == []
    )


def test_personnel_against_person_months() -> None:
    lines = [
        Line("A", "personnel", D("10000"), D("20")),  # 500 EUR per month: too low
        Line("B", "personnel", D("250000"), D("10")),  # 25,000: too high
        Line("C", "personnel", D("5000")),  # no person-months
    ]
    problems = check(lines, indirect_rate=D("0.25"), funding_rate=D("1"), eu_contribution_eur=None)
    assert [(p.code, p.partner, p.amount_eur) for p in problems] == [
        ("month_rate_low", "A", D("500.00")),
        ("month_rate_high", "B", D("25000.00")),
        ("personnel_without_months", "C", D("5000.00")),
    ]


def test_lump_sum_shares_must_add_up_exactly() -> None:
    shares = {1: D("100000.00"), 2: D("199999.99")}
    problems = check(
        [],
        indirect_rate=D("0"),
        funding_rate=D("1"),
        eu_contribution_eur=None,
        lump_sum_eur=D("300000"),
        work_package_shares=shares,
    )
    assert [(p.code, p.amount_eur, p.limit_eur) for p in problems] == [
        ("lump_sum_shares", D("299999.99"), D("300000.00"))
    ]
    shares[2] = D("200000")
    assert (
        check(
            [],
            indirect_rate=D("0"),
            funding_rate=D("1"),
            eu_contribution_eur=None,
            lump_sum_eur=D("300000"),
            work_package_shares=shares,
        )
        == []
    )


def test_no_float_creeps_in() -> None:
    # 0.1 + 0.2 in floats is 0.30000000000000004; in decimals, 0.30.
    lines = [Line("A", "travel", D("0.10")), Line("A", "travel", D("0.20"))]
    assert by_partner_and_category(lines) == {("A", "travel"): D("0.30")}
