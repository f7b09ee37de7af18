"""What a person reads instead of the stored codes: themes, audiences, settings, countries.

Country names cover the countries of the European exchanges rempart serves (the EU, the EEA,
the United Kingdom, Switzerland and the candidate countries); another code is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from rempart.practices.models import Audience, EvidenceLabel, Setting, Theme

COUNTRY_NAMES: dict[str, Any] = {
    "AL": _("Albania"),
    "AT": _("Austria"),
    "BA": _("Bosnia and Herzegovina"),
    "BE": _("Belgium"),
    "BG": _("Bulgaria"),
    "CH": _("Switzerland"),
    "CY": _("Cyprus"),
    "CZ": _("Czechia"),
    "DE": _("Germany"),
    "DK": _("Denmark"),
    "EE": _("Estonia"),
    "ES": _("Spain"),
    "FI": _("Finland"),
    "FR": _("France"),
    "GB": _("United Kingdom"),
    "GR": _("Greece"),
    "HR": _("Croatia"),
    "HU": _("Hungary"),
    "IE": _("Ireland"),
    "IS": _("Iceland"),
    "IT": _("Italy"),
    "LI": _("Liechtenstein"),
    "LT": _("Lithuania"),
    "LU": _("Luxembourg"),
    "LV": _("Latvia"),
    "MD": _("Moldova"),
    "ME": _("Montenegro"),
    "MK": _("North Macedonia"),
    "MT": _("Malta"),
    "NL": _("Netherlands"),
    "NO": _("Norway"),
    "PL": _("Poland"),
    "PT": _("Portugal"),
    "RO": _("Romania"),
    "RS": _("Serbia"),
    "SE": _("Sweden"),
    "SI": _("Slovenia"),
    "SK": _("Slovakia"),
    "TR": _("Türkiye"),
    "UA": _("Ukraine"),
}

FACET_LABELS: dict[str, dict[str, Any]] = {
    "theme": dict(Theme.choices),
    "audience": dict(Audience.choices),
    "setting": dict(Setting.choices),
    "country": COUNTRY_NAMES,
    "evidence": {**dict(EvidenceLabel.choices), "none": _("Not labelled")},
}


def label(kind: str, value: str) -> str:
    """The label of one facet value in the active language (the value itself when unknown)."""
    return str(FACET_LABELS.get(kind, {}).get(value, value))


def labels(kind: str, values: Iterable[str]) -> list[str]:
    return [label(kind, v) for v in values]
