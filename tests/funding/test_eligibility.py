"""Eligibility rules, with answers from the programmes' rules (not from the code).

Horizon Europe (General Annexes, B): at least 3 independent legal entities, each established in
a different Member State or Associated Country, at least one of them in a Member State;
affiliated entities and associated partners do not count. ISF Union actions (e.g. PROTECT
2022): at least 2 applicants from 2 participating Member States (Denmark does not take part).
"""

from __future__ import annotations

import pytest

from rempart.funding.eligibility import Member, RuleError, check, validate_rules

HORIZON = [
    {"kind": "eligible_countries", "countries": "MS+AC"},
    {"kind": "min_beneficiaries", "count": 3},
    {"kind": "min_countries", "count": 3},
    {"kind": "min_member_states", "count": 1},
]
ISF = [
    {"kind": "eligible_countries", "countries": "ISF"},
    {"kind": "min_beneficiaries", "count": 2},
    {"kind": "min_countries", "count": 2},
]
POLICE_TOPIC = [*HORIZON, {"kind": "required_type", "legal_type": "police", "count": 3}]


def b(name: str, country: str, legal_type: str = "municipality", **kw: str) -> Member:
    return Member(name, country, legal_type, **kw)


def kinds(members: list[Member], rules: list[dict]) -> list[str]:
    return [f.kind for f in check(members, validate_rules(rules))]


def test_icarus_pilot_cities_and_efus_are_eligible_for_horizon() -> None:
    # IcARUS (H2020 882749): Efus and the pilot cities (domain.md, section 4).
    consortium = [
        b("European Forum for Urban Security", "FR", "ngo", role="coordinator"),
        b("Città di Torino", "IT"),
        b("Câmara Municipal de Lisboa", "PT"),
        b("Landeshauptstadt Stuttgart", "DE"),
        b("Rīgas pilsēta", "LV"),
        b("Ville de Nice", "FR"),
        b("Gemeente Rotterdam", "NL"),
    ]
    assert kinds(consortium, HORIZON) == []


def test_two_countries_fail_with_the_numbers() -> None:
    consortium = [
        b("Ville de Toulouse", "FR"),
        b("Université Toulouse - Jean Jaurès", "FR", "university"),
        b("Stadt Köln", "DE"),
    ]
    failures = check(consortium, validate_rules(HORIZON))
    assert [f.kind for f in failures] == ["min_countries"]
    assert (failures[0].found, failures[0].needed) == (2, 3)
    assert "3" in failures[0].sentence and "2" in failures[0].sentence
    # The partner that would fix it: any eligible country but France and Germany.
    need = failures[0].need
    assert need is not None and need.avoid_countries == {"FR", "DE"}
    assert "NO" in need.countries and "IT" in need.countries and "US" not in need.countries


def test_associated_countries_count_but_one_member_state_is_required() -> None:
    assert kinds([b("Oslo", "NO"), b("Reykjavik", "IS"), b("Manchester", "UK")], HORIZON) == [
        "min_member_states"
    ]
    assert kinds([b("Oslo", "NO"), b("Reykjavik", "IS"), b("Nice", "FR")], HORIZON) == []


def test_affiliated_entities_and_associated_partners_do_not_count() -> None:
    consortium = [
        b("Nice", "FR"),
        b("Köln", "DE"),
        b("Torino in-house company", "IT", "company", role="affiliated_entity"),
        b("Efus", "FR", "ngo", role="associated_partner"),
    ]
    assert kinds(consortium, HORIZON) == ["min_beneficiaries", "min_countries"]


def test_members_controlled_by_one_organisation_are_one() -> None:
    consortium = [
        b("Nice", "FR"),
        b("Institute A of a national council", "DE", "research", group="council"),
        b("Institute B of the same council", "IT", "research", group="council"),
    ]
    assert kinds(consortium, HORIZON) == ["min_beneficiaries", "min_countries"]


def test_different_countries_need_different_independent_members() -> None:
    # Three independent groups and three countries, yet no three independent members in three
    # different countries: A and B are both French, and C's German and Italian institutes are
    # one beneficiary for independence. Counting groups and countries apart would say eligible.
    consortium = [
        b("City A", "FR"),
        b("City B", "FR"),
        b("Council C, German institute", "DE", "research", group="C"),
        b("Council C, Italian institute", "IT", "research", group="C"),
    ]
    failures = check(consortium, validate_rules(HORIZON))
    assert [(f.kind, f.found) for f in failures] == [("min_countries", 2)]


def test_a_beneficiary_outside_the_eligible_countries_is_named() -> None:
    consortium = [
        b("Nice", "FR"),
        b("Köln", "DE"),
        b("Torino", "IT"),
        b("Acme Inc.", "US", "company"),
    ]
    failures = check(consortium, validate_rules(HORIZON))
    assert [f.kind for f in failures] == ["eligible_countries"]
    assert "Acme Inc." in failures[0].sentence and "associated partner" in failures[0].sentence


def test_isf_excludes_denmark_and_accepts_greece_under_either_code() -> None:
    assert kinds([b("København", "DK"), b("Malmö", "SE")], ISF) == [
        "eligible_countries",
        "min_beneficiaries",
        "min_countries",
    ]
    assert kinds([b("Athína", "GR"), b("Malmö", "SE")], ISF) == []
    assert kinds([b("Athína", "EL"), b("Thessaloníki", "GR")], ISF) == ["min_countries"]


def test_police_authorities_from_three_countries() -> None:
    base = [b("Nice", "FR"), b("Köln", "DE"), b("Torino", "IT")]
    police = [
        b("Police nationale", "FR", "police"),
        b("Polizei Nordrhein-Westfalen", "DE", "police"),
        b("Bundespolizei", "DE", "police"),
    ]
    failures = check(base + police, validate_rules(POLICE_TOPIC))
    assert [(f.kind, f.found, f.needed) for f in failures] == [("required_type", 2, 3)]
    need = failures[0].need
    assert need is not None and need.legal_types == {"police"}
    assert need.avoid_countries == {"FR", "DE"}
    assert kinds([*base, *police, b("Polizia di Stato", "IT", "police")], POLICE_TOPIC) == []


def test_applicant_types() -> None:
    rules = [*ISF, {"kind": "applicant_types", "legal_types": ["municipality", "police", "ngo"]}]
    failures = check([b("Nice", "FR"), b("Acme SAS", "BE", "company")], validate_rules(rules))
    assert [f.kind for f in failures] == ["min_beneficiaries", "min_countries", "applicant_types"]
    assert "Acme SAS" in failures[-1].sentence


@pytest.mark.parametrize(
    "rules, words",
    [
        ({"kind": "min_countries"}, "must be a list"),
        ([{"kind": "max_budget"}], "kind 'max_budget'"),
        ([{"kind": "min_countries", "count": 0}], "count 0"),
        ([{"kind": "min_countries", "count": True}], "count True"),
        ([{"kind": "min_countries", "count": 10**9}], "from 1 to 200"),
        ([{"kind": "eligible_countries", "countries": "EUROPE"}], "unknown country set"),
        ([{"kind": "eligible_countries", "countries": ["FRA"]}], "'FRA' is not two letters"),
        ([{"kind": "required_type", "count": 2, "legal_type": "army"}], "legal_type 'army'"),
        ([{"kind": "applicant_types", "legal_types": []}], "non-empty list"),
    ],
)
def test_malformed_rules_are_named(rules: object, words: str) -> None:
    with pytest.raises(RuleError, match=words.replace("(", r"\(")):
        validate_rules(rules)
