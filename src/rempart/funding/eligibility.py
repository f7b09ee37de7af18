"""Consortium eligibility, rule by rule: which calls a draft consortium may apply to, and, for
the others, every rule it fails, in plain words, with what a new partner would have to be.

A call's conditions are data (a list of rules, JSON in :attr:`Call.rules`), in the words of the
Horizon Europe and ISF work programmes' general annexes:

``{"kind": "eligible_countries", "countries": "MS+AC"}``
    beneficiaries must be established in these countries (a named set, see
    :mod:`rempart.funding.countries`, or a list of codes). Without this rule, any country.
``{"kind": "applicant_types", "legal_types": [...]}``
    beneficiaries must be of these legal types.
``{"kind": "min_beneficiaries", "count": 3}``
    at least ``count`` *independent* beneficiaries.
``{"kind": "min_countries", "count": 3}``
    at least ``count`` independent beneficiaries each established in a *different* eligible
    country.
``{"kind": "min_member_states", "count": 1}``
    of those, at least ``count`` in a Member State.
``{"kind": "required_type", "legal_type": "police", "count": 3, "different_countries": true}``
    at least ``count`` independent beneficiaries of that type (from different countries).

Only beneficiaries (coordinator included) established in an eligible country and of an allowed
type count; affiliated entities and associated partners never do (Horizon Europe General
Annexes, B "Admissibility and eligibility"). Two members are *not independent* when one
controls the other or a third party controls both: the user says so by giving them the same
``group`` (e.g. two institutes of one national research council).

"Different countries, mutually independent" is a matching problem: a country counts only if a
beneficiary of a group not already used for another country stands for it. The largest such
set is a maximum bipartite matching between groups and countries (networkx). With ``n`` the
size of that matching over all eligible countries and ``m`` over Member States only, a set of
``N`` countries with at least ``k`` Member States exists exactly when ``n >= N`` and ``m >= k``
(matchable country sets form a transversal matroid, so ``m`` Member States extend to ``n``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from rempart.funding import countries

#: Legal types of a member, with their label (the rules and CORDIS mapping use the codes).
LEGAL_TYPES: dict[str, Any] = {
    "police": gettext_lazy("police authority"),
    "municipality": gettext_lazy("city or local authority"),
    "public_body": gettext_lazy("other public body"),
    "university": gettext_lazy("university"),
    "research": gettext_lazy("research organisation"),
    "company": gettext_lazy("company"),
    "ngo": gettext_lazy("non-profit organisation"),
    "international": gettext_lazy("international organisation"),
    "other": gettext_lazy("other"),
}

#: Roles of a member in a consortium; only beneficiaries count for eligibility.
MEMBER_ROLES: dict[str, Any] = {
    "coordinator": gettext_lazy("coordinator"),
    "beneficiary": gettext_lazy("beneficiary"),
    "affiliated_entity": gettext_lazy("affiliated entity"),
    "associated_partner": gettext_lazy("associated partner"),
}
COUNTING_ROLES = frozenset({"coordinator", "beneficiary"})

RULE_KINDS = (
    "eligible_countries",
    "applicant_types",
    "min_beneficiaries",
    "min_countries",
    "min_member_states",
    "required_type",
)

#: Largest count a rule may ask for (a consortium of more is not a draft we check).
MAX_RULE_COUNT = 200


@dataclass(frozen=True)
class Member:
    """One organisation of a draft consortium.

    ``country``: the Commission's country code; ``legal_type``: a key of :data:`LEGAL_TYPES`;
    ``role``: a key of :data:`MEMBER_ROLES`; ``group``: members sharing a non-empty group are
    not independent of each other."""

    name: str
    country: str
    legal_type: str
    role: str = "beneficiary"
    group: str = ""

    @property
    def independence_key(self) -> str:
        return f"group:{self.group}" if self.group else f"member:{self.name}"


@dataclass(frozen=True)
class PartnerNeed:
    """What one more partner would have to be to help pass a failed rule."""

    legal_types: frozenset[str] | None  # None: any counting type
    countries: frozenset[str] | None  # None: any eligible country
    avoid_countries: frozenset[str] = frozenset()
    avoid_groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Failure:
    """One rule a consortium fails: the rule, what was found, what is needed, in words."""

    kind: str
    found: int
    needed: int
    sentence: str
    need: PartnerNeed | None = None
    names: tuple[str, ...] = field(default=())


class RuleError(ValueError):
    """A call's rules are malformed (one sentence naming the rule and the value)."""


def validate_rules(rules: Any) -> list[dict[str, Any]]:
    """Check a call's rules (parsed JSON) and return them; raise :class:`RuleError` naming the
    first bad rule, its field and what was expected."""
    if not isinstance(rules, list):
        raise RuleError(f"rules must be a list, not {type(rules).__name__}")
    checked: list[dict[str, Any]] = []
    for index, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or rule.get("kind") not in RULE_KINDS:
            kind = rule.get("kind") if isinstance(rule, dict) else rule
            raise RuleError(f"rule {index}: kind {kind!r} is not one of {', '.join(RULE_KINDS)}")
        kind = rule["kind"]
        if kind == "eligible_countries":
            try:
                countries.country_set(rule.get("countries"))  # type: ignore[arg-type]
            except (ValueError, TypeError) as error:
                raise RuleError(f"rule {index} (eligible_countries): {error}") from None
        elif kind == "applicant_types":
            types = rule.get("legal_types")
            if not isinstance(types, list) or not types or any(t not in LEGAL_TYPES for t in types):
                raise RuleError(
                    f"rule {index} (applicant_types): legal_types {types!r} must be a non-empty "
                    f"list of {', '.join(LEGAL_TYPES)}"
                )
        else:
            count = rule.get("count")
            if (
                not isinstance(count, int)
                or isinstance(count, bool)
                or not (1 <= count <= MAX_RULE_COUNT)
            ):
                raise RuleError(
                    f"rule {index} ({kind}): count {count!r} must be a whole number from 1 to "
                    f"{MAX_RULE_COUNT}"
                )
            if kind == "required_type" and rule.get("legal_type") not in LEGAL_TYPES:
                raise RuleError(
                    f"rule {index} (required_type): legal_type {rule.get('legal_type')!r} is "
                    f"not one of {', '.join(LEGAL_TYPES)}"
                )
        checked.append(dict(rule))
    return checked


def _matching_size(members: Iterable[Member], allowed: frozenset[str] | None = None) -> int:
    """Largest number of distinct countries (within ``allowed``) each stood for by a member of
    a different independence group."""
    graph = nx.Graph()
    groups = set()
    for member in members:
        if allowed is not None and member.country not in allowed:
            continue
        group = ("g", member.independence_key)
        groups.add(group)
        graph.add_edge(group, ("c", member.country))
    if not groups:
        return 0
    matching = nx.bipartite.hopcroft_karp_matching(graph, top_nodes=groups)
    return sum(1 for node in matching if node in groups)


def _groups(members: Iterable[Member]) -> int:
    return len({member.independence_key for member in members})


def _type_label(code: str) -> str:
    return str(LEGAL_TYPES.get(code, code))


def check(members: Sequence[Member], rules: Sequence[Mapping[str, Any]]) -> list[Failure]:
    """Every rule of ``rules`` that ``members`` fail, in the order of the rules (empty: eligible).

    ``rules`` must have passed :func:`validate_rules`."""
    normalised = [
        Member(m.name, countries.normalise(m.country), m.legal_type, m.role, m.group)
        for m in members
    ]
    beneficiaries = [m for m in normalised if m.role in COUNTING_ROLES]
    eligible_set: frozenset[str] | None = None
    allowed_types: frozenset[str] | None = None
    for rule in rules:
        if rule["kind"] == "eligible_countries":
            eligible_set = countries.country_set(rule["countries"])
        elif rule["kind"] == "applicant_types":
            allowed_types = frozenset(rule["legal_types"])
    counting = [
        m
        for m in beneficiaries
        if (eligible_set is None or m.country in eligible_set)
        and (allowed_types is None or m.legal_type in allowed_types)
    ]
    used_groups = frozenset(m.independence_key for m in counting)
    failures: list[Failure] = []
    for rule in rules:
        failure = _check_rule(rule, beneficiaries, counting, eligible_set, allowed_types)
        if failure is not None and failure.need is not None:
            need = failure.need
            failure = Failure(
                failure.kind,
                failure.found,
                failure.needed,
                failure.sentence,
                PartnerNeed(
                    need.legal_types if need.legal_types is not None else allowed_types,
                    need.countries if need.countries is not None else eligible_set,
                    need.avoid_countries,
                    used_groups,
                ),
                failure.names,
            )
        if failure is not None:
            failures.append(failure)
    return failures


def _check_rule(
    rule: Mapping[str, Any],
    beneficiaries: list[Member],
    counting: list[Member],
    eligible_set: frozenset[str] | None,
    allowed_types: frozenset[str] | None,
) -> Failure | None:
    kind = rule["kind"]
    if kind == "eligible_countries":
        assert eligible_set is not None
        outside = [m for m in beneficiaries if m.country not in eligible_set]
        if not outside:
            return None
        names = tuple(f"{m.name} ({countries.name(m.country)})" for m in outside)
        return Failure(
            kind,
            len(outside),
            0,
            ngettext(
                "%(names)s is established outside the countries eligible for this call; it "
                "can take part only as an associated partner.",
                "%(names)s are established outside the countries eligible for this call; they "
                "can take part only as associated partners.",
                len(outside),
            )
            % {"names": ", ".join(names)},
            names=names,
        )
    if kind == "applicant_types":
        assert allowed_types is not None
        wrong = [m for m in beneficiaries if m.legal_type not in allowed_types]
        if not wrong:
            return None
        names = tuple(f"{m.name} ({_type_label(m.legal_type)})" for m in wrong)
        return Failure(
            kind,
            len(wrong),
            0,
            _("This call accepts as beneficiaries only: %(types)s. Not accepted: %(names)s.")
            % {
                "types": ", ".join(_type_label(t) for t in sorted(allowed_types)),
                "names": ", ".join(names),
            },
            names=names,
        )
    needed = int(rule["count"])
    if kind == "min_beneficiaries":
        found = _groups(counting)
        if found >= needed:
            return None
        return Failure(
            kind,
            found,
            needed,
            ngettext(
                "The call needs at least %(needed)d independent beneficiary; the consortium "
                "has %(found)d (affiliated entities, associated partners and members "
                "controlled by the same organisation do not count separately).",
                "The call needs at least %(needed)d independent beneficiaries; the consortium "
                "has %(found)d (affiliated entities, associated partners and members "
                "controlled by the same organisation do not count separately).",
                needed,
            )
            % {"needed": needed, "found": found},
            PartnerNeed(None, None),
        )
    if kind == "min_countries":
        found = _matching_size(counting)
        if found >= needed:
            return None
        return Failure(
            kind,
            found,
            needed,
            ngettext(
                "The call needs independent beneficiaries from at least %(needed)d eligible "
                "country; the consortium covers %(found)d.",
                "The call needs independent beneficiaries from at least %(needed)d different "
                "eligible countries; the consortium covers %(found)d.",
                needed,
            )
            % {"needed": needed, "found": found},
            PartnerNeed(None, None, frozenset(m.country for m in counting)),
        )
    if kind == "min_member_states":
        found = _matching_size(counting, countries.member_states())
        if found >= needed:
            return None
        return Failure(
            kind,
            found,
            needed,
            ngettext(
                "At least %(needed)d of the independent beneficiaries must be established in an "
                "EU Member State; the consortium has %(found)d.",
                "At least %(needed)d of the independent beneficiaries must be established in "
                "different EU Member States; the consortium has %(found)d.",
                needed,
            )
            % {"needed": needed, "found": found},
            PartnerNeed(
                None,
                countries.member_states() & (eligible_set or countries.member_states()),
                frozenset(m.country for m in counting),
            ),
        )
    # required_type
    legal_type = str(rule["legal_type"])
    of_type = [m for m in counting if m.legal_type == legal_type]
    different = bool(rule.get("different_countries", True))
    found = _matching_size(of_type) if different else _groups(of_type)
    if found >= needed:
        return None
    sentence = (
        ngettext(
            "The call needs at least %(needed)d %(type)s from a different country; the "
            "consortium has %(found)d.",
            "The call needs at least %(needed)d beneficiaries of the type %(type)s, from "
            "different countries; the consortium has %(found)d.",
            needed,
        )
        if different
        else ngettext(
            "The call needs at least %(needed)d %(type)s; the consortium has %(found)d.",
            "The call needs at least %(needed)d beneficiaries of the type %(type)s; the "
            "consortium has %(found)d.",
            needed,
        )
    ) % {"needed": needed, "found": found, "type": _type_label(legal_type)}
    return Failure(
        kind,
        found,
        needed,
        sentence,
        PartnerNeed(
            frozenset({legal_type}),
            None,
            frozenset(m.country for m in of_type) if different else frozenset(),
        ),
    )
