"""A call's rules in plain words, in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rempart.funding.eligibility import LEGAL_TYPES

COUNTRY_SET_WORDS = {
    "MS": lambda: _("an EU Member State"),
    "MS+AC": lambda: _("an EU Member State or a country associated to Horizon Europe"),
    "ISF": lambda: _("an EU Member State taking part in the Internal Security Fund (not Denmark)"),
}


def describe_rule(rule: dict[str, Any]) -> str:
    kind = rule.get("kind")
    count = int(rule.get("count", 0) or 0)
    if kind == "eligible_countries":
        spec = rule.get("countries")
        where = (
            COUNTRY_SET_WORDS[spec]()
            if isinstance(spec, str) and spec in COUNTRY_SET_WORDS
            else ", ".join(spec)
            if isinstance(spec, list)
            else str(spec)
        )
        return _("Beneficiaries must be established in %(where)s.") % {"where": where}
    if kind == "applicant_types":
        types = ", ".join(str(LEGAL_TYPES.get(t, t)) for t in rule.get("legal_types", []))
        return _("Beneficiaries must be of these types: %(types)s.") % {"types": types}
    if kind == "min_beneficiaries":
        return ngettext(
            "At least %(count)d independent beneficiary.",
            "At least %(count)d independent beneficiaries.",
            count,
        ) % {"count": count}
    if kind == "min_countries":
        return ngettext(
            "Independent beneficiaries from at least %(count)d eligible country.",
            "Independent beneficiaries from at least %(count)d different eligible countries.",
            count,
        ) % {"count": count}
    if kind == "min_member_states":
        return ngettext(
            "At least %(count)d of them established in an EU Member State.",
            "At least %(count)d of them established in different EU Member States.",
            count,
        ) % {"count": count}
    if kind == "required_type":
        label = str(LEGAL_TYPES.get(str(rule.get("legal_type")), rule.get("legal_type")))
        return ngettext(
            "At least %(count)d beneficiary of the type %(type)s.",
            "At least %(count)d beneficiaries of the type %(type)s, from different countries.",
            count,
        ) % {"count": count, "type": label}
    return str(kind)


def describe_rules(rules: Sequence[dict[str, Any]]) -> list[str]:
    return [describe_rule(rule) for rule in rules]
