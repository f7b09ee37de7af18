"""The reader's language for reports made by the engine (no Django).

The words are the project's own French catalogue (``rempart/locale/fr/LC_MESSAGES/django.mo``),
read with the standard library's :mod:`gettext`; dates and numbers are formatted by Babel in the
same language. The web app and the command line both pass a :class:`Words` in.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as stdlib_gettext
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from ..errors import InputFileError
from ..ratings import EXCEEDS

#: Languages the report is written in.
LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Words:
    """Translations and formats of one language.

    ``gettext(msgid)`` and ``ngettext(singular, plural, n)`` translate; ``language`` is a
    Babel locale name (``"en"``, ``"fr"``).
    """

    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]
    language: str

    def number(self, value: float, digits: int = 0) -> str:
        """``value`` with ``digits`` decimals and the language's separators."""
        return _number(value, digits, self.language)

    def moment(self, when: dt.datetime, time_zone: str) -> str:
        """Date and time of ``when`` (aware) in ``time_zone``, with the zone's name."""
        local = when.astimezone(ZoneInfo(time_zone))
        day = format_date(local, format="long", locale=self.language)
        clock = format_time(local, format="short", locale=self.language)
        return f"{day} {clock} ({time_zone})"

    def day(self, when: dt.date) -> str:
        return format_date(when, format="long", locale=self.language)


@functools.lru_cache(maxsize=1 << 16, typed=True)
def _number(value: float, digits: int, language: str) -> str:
    """:meth:`Words.number`, formatted once per value (a report repeats its speeds, masses
    and ratings many times; Babel's formatting is most of the HTML report's time)."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=language)


def words_for(language: str) -> Words:
    """The :class:`Words` of ``language`` (``en`` or ``fr``, region ignored: ``fr-FR``).

    Raises
    ------
    InputFileError
        If the language is not one the report is written in.
    """
    base = language.strip().lower().replace("_", "-").split("-")[0]
    if base not in LANGUAGES:
        raise InputFileError("report language", language, f"one of {', '.join(LANGUAGES)}")
    if base == "en":
        return Words(lambda s: s, lambda s, p, n: s if n == 1 else p, "en")
    localedir = str(resources.files("rempart").joinpath("locale"))
    catalogue = stdlib_gettext.translation("django", localedir=localedir, languages=[base])
    return Words(catalogue.gettext, catalogue.ngettext, base)


def source_words(source: str | None, gettext: Callable[[str], str]) -> str:
    """Where an edge stretch's worst approach comes from (the JSON ``source`` or, in older
    results, ``kind``), in the language of ``gettext``; an unknown value is returned as is."""
    _ = gettext
    return {
        "road crossing": _("road crossing"),
        "crossing": _("road crossing"),
        "frontage": _("frontage"),
        "off-road": _("off-road"),
        "edge": _("off-road"),
    }.get(source or "", source or "")


def blocked_words(reason: str | None, gettext: Callable[[str], str]) -> str:
    """Why no vehicle of an entry reaches it (the JSON ``blocked`` code, as the engine writes
    it), in the language of ``gettext``; an unknown reason is returned as is."""
    _ = gettext
    return {
        "no approach reaches this stretch": _("no approach reaches this stretch"),
        "unreachable": _("not reachable"),
        "too narrow": _("too narrow for this vehicle"),
        "rated barrier": _("stopped by a rated barrier"),
    }.get(reason or "", reason or "")


def rating_words(text: str | None, gettext: Callable[[str], str]) -> str:
    """A rating's notation (``V/7200[N2A]/48/90``) with its "exceeds tested speeds" part, or
    the PAS 68 column's "no test vehicle this heavy", in the language of ``gettext``; ``-``
    when there is none."""
    _ = gettext
    if not text:
        return "-"
    if text.startswith("no PAS 68 test vehicle"):
        return _("no PAS 68 test vehicle this heavy")
    return text.replace(EXCEEDS, _("exceeds tested speeds"))


def position_words(kind: str | None, barrier: str | None, gettext: Callable[[str], str]) -> str:
    """A barrier position's kind (``bollards``, ``linear``) and type (``fixed``, ``active``) in
    the language of ``gettext``, e.g. "bollards (active)"."""
    _ = gettext
    kind_words = {"bollards": _("bollards"), "linear": _("linear barrier")}.get(
        kind or "", kind or ""
    )
    barrier_words = {"active": _("active"), "fixed": _("fixed")}.get(barrier or "", barrier or "")
    return f"{kind_words} ({barrier_words})"


def plan_note_words(note: str | None, gettext: Callable[[str], str]) -> str:
    """The plan's note on its costs (the JSON ``note``) in the language of ``gettext``; an
    unknown note is returned as is."""
    _ = gettext
    return {
        "costs indicative (unsourced default table unless --costs is given)": _(
            "costs indicative (unsourced default table unless a cost table is given)"
        ),
    }.get(note or "", note or "")
