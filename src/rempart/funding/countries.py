"""Countries as the European Commission codes them, and which take part in which programme.

Codes are ISO 3166-1 alpha-2 except the Commission's own ``EL`` (Greece) and ``UK`` (United
Kingdom), which CORDIS and the Funding & Tenders portal use; ``GR`` and ``GB`` are accepted and
normalised. The lists, their date and their sources are in ``data/countries.json``: the list of
associated countries changes as agreements are signed, so it is data, not code.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("data") / "countries.json"


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def normalise(code: str) -> str:
    """The Commission's code for ``code`` (upper case; ``GR`` -> ``EL``, ``GB`` -> ``UK``)."""
    upper = code.strip().upper()
    aliases: dict[str, str] = _data()["aliases"]
    return aliases.get(upper, upper)


def member_states() -> frozenset[str]:
    """The 27 Member States of the European Union."""
    return frozenset(_data()["member_states"])


def horizon_associated() -> frozenset[str]:
    """Countries associated to Horizon Europe (Pillar II included), see the data file's date."""
    return frozenset(_data()["horizon_associated"])


def isf_countries() -> frozenset[str]:
    """Member States taking part in the Internal Security Fund 2021-2027 (all but Denmark)."""
    return member_states() - frozenset(_data()["isf_not_participating"])


def name(code: str) -> str:
    """The English name of a country code, or the code itself when unknown."""
    data = _data()
    code = normalise(code)
    names: dict[str, str] = {**data["member_states"], **data["horizon_associated"]}
    return names.get(code, code)


#: Named country sets a call's rules may refer to (``"eligible_countries": "MS+AC"``).
COUNTRY_SETS = {
    "MS": member_states,
    "MS+AC": lambda: member_states() | horizon_associated(),
    "ISF": isf_countries,
}


def country_set(spec: str | list[str]) -> frozenset[str]:
    """A named set (``MS``, ``MS+AC``, ``ISF``) or an explicit list of codes.

    Raises ``ValueError`` naming the value when the name is unknown or a code is not two
    letters."""
    if isinstance(spec, str):
        if spec not in COUNTRY_SETS:
            raise ValueError(
                f"unknown country set {spec!r}; expected one of {sorted(COUNTRY_SETS)} or a list"
            )
        return COUNTRY_SETS[spec]()
    codes = set()
    for code in spec:
        if not isinstance(code, str) or len(code.strip()) != 2 or not code.strip().isalpha():
            raise ValueError(f"country code {code!r} is not two letters")
        codes.add(normalise(code))
    return frozenset(codes)
