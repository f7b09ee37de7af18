"""Text analysis of the practices search: words to index terms, queries to groups of terms.

The same functions turn a practice's text into index terms and a query into what to look for,
on SQLite and PostgreSQL alike (the databases only store and match the terms given here):

* words are letters and digits (``[^\\W_]+``), lower-cased; the commonest function words of the
  six languages are dropped (:data:`STOPWORDS`);
* American spellings become British ones (``radicalization`` → ``radicalisation``,
  ``neighborhood`` → ``neighbourhood``: :func:`normalise_spelling`), so both find each other;
* each word is stemmed by the Snowball stemmer of its text's language (``snowballstemmer``),
  then its accents are removed (``prévention`` and ``prevention`` meet);
* a long German or Dutch word made of glossary words is also indexed as its parts
  (``Radikalisierungsprävention`` → ``radikalisier`` + ``pravention``: :func:`compound_parts`).

A query's language is unknown: each query word is stemmed in all six languages. A word or phrase
that is a term of the bilingual domain glossary (``data/glossary.txt``, :class:`Glossary`) is
looked for as every term of its concept in every language, which is how "Radikalisierung" finds
an English record on radicalisation. Hand-written: no maintained library does cross-language
query expansion from a domain glossary over two databases' full-text search.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import snowballstemmer

from rempart.practices.models import LANGUAGES

GLOSSARY_PATH = Path(__file__).resolve().parent / "data" / "glossary.txt"
#: index terms longer than this are not stored (nonsense strings, base64 pasted into a summary)
MAX_TERM_CHARS = 60
#: weight of a term found through the glossary (another term or language of the concept)
#: against the query's own words
GLOSSARY_WEIGHT = 0.5
#: weight of a spelling correction of a query word that matches nothing
CORRECTION_WEIGHT = 0.7

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Short function-word lists: a query such as "la prévention de la radicalisation" must not
# look for "la" and "de". Only the commonest words; ranking (inverse document frequency) does
# the rest.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "a",
            "an",
            "and",
            "are",
            "as",
            "at",
            "be",
            "by",
            "for",
            "from",
            "in",
            "into",
            "is",
            "it",
            "its",
            "of",
            "on",
            "or",
            "that",
            "the",
            "their",
            "this",
            "to",
            "was",
            "were",
            "with",
        ]
    ),
    "fr": frozenset(
        [
            "au",
            "aux",
            "avec",
            "ce",
            "ces",
            "dans",
            "de",
            "des",
            "du",
            "elle",
            "en",
            "et",
            "il",
            "ils",
            "la",
            "le",
            "les",
            "leur",
            "l",
            "d",
            "qu",
            "un",
            "une",
            "ou",
            "par",
            "pour",
            "sur",
            "se",
            "sa",
            "son",
            "ses",
            "qui",
            "que",
            "est",
            "sont",
            "pas",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "den",
            "dem",
            "des",
            "ein",
            "eine",
            "einer",
            "eines",
            "einem",
            "einen",
            "und",
            "oder",
            "in",
            "im",
            "mit",
            "von",
            "zu",
            "zur",
            "zum",
            "für",
            "auf",
            "ist",
            "sind",
            "nicht",
            "als",
            "bei",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "un",
            "una",
            "unos",
            "unas",
            "y",
            "o",
            "de",
            "del",
            "en",
            "con",
            "por",
            "para",
            "al",
            "que",
            "se",
            "es",
            "su",
            "sus",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "i",
            "gli",
            "le",
            "un",
            "una",
            "uno",
            "e",
            "o",
            "di",
            "del",
            "della",
            "dei",
            "delle",
            "in",
            "con",
            "per",
            "su",
            "che",
            "si",
            "è",
            "al",
            "alla",
            "l",
            "d",
            "dell",
            "nell",
            "all",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "of",
            "van",
            "in",
            "op",
            "met",
            "voor",
            "aan",
            "te",
            "bij",
            "is",
            "zijn",
            "die",
            "dat",
            "als",
            "door",
        ]
    ),
}
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())

#: American spellings of words of the field and their British form (the -ize/-ization family is
#: handled by a rule, :func:`normalise_spelling`).
US_TO_UK = {
    "behavior": "behaviour",
    "behaviors": "behaviours",
    "neighbor": "neighbour",
    "neighbors": "neighbours",
    "neighborhood": "neighbourhood",
    "neighborhoods": "neighbourhoods",
    "center": "centre",
    "centers": "centres",
    "program": "programme",
    "programs": "programmes",
    "defense": "defence",
    "offense": "offence",
    "offenses": "offences",
    "license": "licence",
    "labor": "labour",
    "favor": "favour",
    "honor": "honour",
    "color": "colour",
    "counseling": "counselling",
    "counselor": "counsellor",
    "counselors": "counsellors",
    "theater": "theatre",
    "catalog": "catalogue",
    "dialog": "dialogue",
    "traveling": "travelling",
    "analyze": "analyse",
    "analyzes": "analyses",
    "analyzed": "analysed",
    "paralyze": "paralyse",
}
_IZE = re.compile(r"(?<=[a-z]{3})iz(e|es|ed|ing|er|ers|ation|ations|ational)$")
_IZE_EXCEPTIONS = frozenset({"size", "sizes", "sized", "prize", "prizes", "seize", "seized"})


def normalise_spelling(word: str) -> str:
    """The British spelling of an American one (``radicalization`` → ``radicalisation``)."""
    word = US_TO_UK.get(word, word)
    if word in _IZE_EXCEPTIONS or "iz" not in word:
        return word
    return _IZE.sub(lambda m: "is" + m.group(1), word)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower case without accents, spaces collapsed: how titles are compared for an exact match."""
    return " ".join(strip_accents(text.casefold()).split()).strip()


def words(text: str) -> list[str]:
    """The words of ``text``, lower case (letters and digits; punctuation and ``_`` split)."""
    return _WORD.findall(text.casefold())


@functools.cache
def _stemmer(language: str) -> Any:
    return snowballstemmer.stemmer(LANGUAGES[language])


@functools.lru_cache(maxsize=500_000)
def stem(word: str, language: str) -> str:
    """The index term of a lower-case ``word`` in ``language``: British spelling, the Snowball
    stem of that language, accents removed."""
    return strip_accents(str(_stemmer(language).stemWord(normalise_spelling(word))))


# --- the glossary -------------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    """One concept of the glossary: its terms, each (language, the words as written)."""

    number: int
    terms: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        return next((t for lang, t in self.terms if lang == "en"), self.terms[0][1])


class Glossary:
    """The bilingual domain glossary (``data/glossary.txt``), indexed by term stems.

    Each line is a concept: ``en: term, term | fr: term | de: ... | nl: ... | it: ... | es: ...``.
    """

    def __init__(self, text: str) -> None:
        self.concepts: list[Concept] = []
        # (language, first stem) -> [(stems of the term, concept number)]
        self._starts: dict[tuple[str, str], list[tuple[tuple[str, ...], int]]] = {}
        #: stems of the one-word terms per language (parts of compound words)
        self.single_stems: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
        for number, line in enumerate(_glossary_lines(text)):
            terms: list[tuple[str, str]] = []
            for cell in line.split("|"):
                language, _sep, listed = cell.partition(":")
                language = language.strip()
                if language not in LANGUAGES or not _sep:
                    raise ValueError(
                        f"glossary line {number + 1}: {cell.strip()!r}, expected 'xx: term, term' "
                        f"with xx among {', '.join(LANGUAGES)}"
                    )
                terms += [(language, t.strip()) for t in listed.split(",") if t.strip()]
            concept = Concept(len(self.concepts), tuple(terms))
            self.concepts.append(concept)
            for language, term in terms:
                stems = tuple(term_stems(term, language))
                if not stems:
                    continue
                self._starts.setdefault((language, stems[0]), []).append((stems, concept.number))
                if len(stems) == 1:
                    self.single_stems[language].add(stems[0])

    def alternatives(self, number: int) -> list[tuple[str, ...]]:
        """Every term of a concept as its stems in its own language (a phrase when several)."""
        found: dict[tuple[str, ...], None] = {}
        for language, term in self.concepts[number].terms:
            stems = tuple(term_stems(term, language))
            if stems:
                found[stems] = None
        return list(found)

    def match_at(self, stems_by_language: Sequence[dict[str, str]], start: int) -> tuple[int, int]:
        """(concept number, words matched) of the longest glossary term that begins at word
        ``start`` of a query given as each word's stem per language; (-1, 0) when none does."""
        best = (-1, 0)
        for language in LANGUAGES:
            first = stems_by_language[start].get(language)
            for stems, number in self._starts.get((language, first or ""), []):
                end = start + len(stems)
                if end > len(stems_by_language) or len(stems) <= best[1]:
                    continue
                if all(
                    stems_by_language[start + k].get(language) == stems[k]
                    for k in range(len(stems))
                ):
                    best = (number, len(stems))
        return best

    def concept_of_stem(self, term: str) -> int:
        """The concept a one-word term (an index term, any language) belongs to, or -1."""
        for language in LANGUAGES:
            for stems, number in self._starts.get((language, term), []):
                if len(stems) == 1:
                    return number
        return -1


def _glossary_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def term_stems(text: str, language: str) -> list[str]:
    """The index terms of a glossary term or phrase in its language (stop words dropped)."""
    stop = STOPWORDS[language]
    return [stem(w, language) for w in words(text) if w not in stop]


@functools.cache
def glossary() -> Glossary:
    return Glossary(GLOSSARY_PATH.read_text(encoding="utf-8"))


# --- documents ------------------------------------------------------------------------------

#: languages whose long words are split into glossary words (their compounds are written solid)
COMPOUNDING = ("de", "nl")
_LINKS = ("", "s", "es", "n", "en", "e")


@functools.lru_cache(maxsize=200_000)
def compound_parts(word: str, language: str) -> tuple[str, ...]:
    """The index terms of the glossary words a German or Dutch compound is made of.

    ``Radikalisierungsprävention`` → (``radikalisier``, ``pravention``); ``Pollerkonzept`` →
    (``poll``,). A part is a one-word glossary term of the language, possibly followed by a
    linking ``s``/``es``/``n``/``en``/``e``; the other part must be at least four letters.
    Empty when the word is short or not such a compound.
    """
    if language not in COMPOUNDING or len(word) < 9:
        return ()
    known = glossary().single_stems[language]
    whole = stem(word, language)
    found: list[str] = []
    for cut in range(4, len(word) - 3):
        head, tail = word[:cut], word[cut:]
        head_stem = next(
            (
                stem(head[: len(head) - len(link)], language)
                for link in _LINKS
                if head.endswith(link) and len(head) - len(link) >= 4
                if stem(head[: len(head) - len(link)], language) in known
            ),
            "",
        )
        tail_stem = stem(tail, language)
        for part in (head_stem, tail_stem if tail_stem in known else ""):
            if part and part != whole and part not in found:
                found.append(part)
    return tuple(found)


def index_terms(text: str, language: str) -> list[str]:
    """The index terms of a text in ``language``, in order (a compound's parts follow it)."""
    stop = STOPWORDS.get(language, frozenset())
    terms: list[str] = []
    for word in words(text):
        if word in stop:
            continue
        term = stem(word, language)
        if 0 < len(term) <= MAX_TERM_CHARS:
            terms.append(term)
            terms += compound_parts(word, language)
    return terms


# --- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alternative:
    """One way a query group can match: a term, or a phrase of terms in order, and its weight."""

    terms: tuple[str, ...]
    weight: float = 1.0


@dataclass
class Group:
    """What one query word or phrase looks for: any of its alternatives.

    ``text`` is what the person typed; ``concept`` the glossary concept it was read as (-1:
    none); ``corrected`` the index terms it was corrected to when it matched nothing.
    """

    text: str
    alternatives: list[Alternative]
    concept: int = -1
    corrected: list[str] = field(default_factory=list)

    def terms(self) -> set[str]:
        return {t for a in self.alternatives for t in a.terms}


@dataclass
class Query:
    """An analysed query: its groups and, per language, the stems of its words in order
    (to reward a phrase found as typed)."""

    text: str
    groups: list[Group]
    sequences: list[tuple[str, ...]]

    def __bool__(self) -> bool:
        return bool(self.groups)


def _word_stems(word: str) -> dict[str, str]:
    return {language: stem(word, language) for language in LANGUAGES}


def _concept_group(text: str, number: int, own: Iterable[tuple[str, ...]] = ()) -> Group:
    own = list(own)
    alternatives = [Alternative(t) for t in own]
    alternatives += [
        Alternative(terms, GLOSSARY_WEIGHT)
        for terms in glossary().alternatives(number)
        if terms not in own
    ]
    return Group(text, alternatives, concept=number)


def analyse_query(
    text: str,
    *,
    known: Callable[[set[str]], set[str]] | None = None,
    corrections: Callable[[str], list[str]] | None = None,
) -> Query:
    """Turn what a person typed into groups of alternatives (see the module docstring).

    ``known(terms)`` says which index terms occur in the catalogue and ``corrections(word)``
    proposes index terms close to a misspelt word; with them a word that matches nothing is
    looked for as its corrections (and their glossary concept), at a lower weight.
    """
    all_words = words(text)
    kept = [w for w in all_words if w not in ALL_STOPWORDS] or all_words
    kept = list(dict.fromkeys(kept)) if len(kept) > 12 else kept
    stems = [_word_stems(w) for w in kept]
    lexicon = glossary()
    groups: list[Group] = []
    index = 0
    while index < len(kept):
        number, length = lexicon.match_at(stems, index)
        if number >= 0:
            own = {tuple(stems[index + k][lang] for k in range(length)) for lang in LANGUAGES}
            groups.append(_concept_group(" ".join(kept[index : index + length]), number, own))
            index += length
            continue
        word = kept[index]
        own_terms = sorted(set(stems[index].values()) | {strip_accents(word)})
        # a word whose stem in some language is a glossary term of another ("bolards":
        # English stem "bolard", the Spanish glossary's "bolardo"), or a compound of them
        parts = own_terms + [p for lang in COMPOUNDING for p in compound_parts(word, lang)]
        concepts = list(dict.fromkeys(c for c in map(lexicon.concept_of_stem, parts) if c >= 0))
        if concepts:
            # a compound of glossary words: one group per part, the word itself in the first
            first = _concept_group(word, concepts[0])
            first.alternatives[:0] = [Alternative((t,)) for t in own_terms]
            groups.append(first)
            groups += [_concept_group(word, c) for c in concepts[1:]]
        else:
            groups.append(Group(word, [Alternative((t,)) for t in own_terms]))
        index += 1
    if known is not None and corrections is not None:
        _correct(groups, known, corrections)
    sequences = (
        list(dict.fromkeys(tuple(s[lang] for s in stems) for lang in LANGUAGES))
        if len(stems) > 1
        else []
    )
    return Query(text, groups, sequences)


def _correct(
    groups: list[Group],
    known: Callable[[set[str]], set[str]],
    corrections: Callable[[str], list[str]],
) -> None:
    """Give each group that matches nothing in the catalogue its closest index terms."""
    wanted = set().union(*(g.terms() for g in groups)) if groups else set()
    present = known(wanted)
    lexicon = glossary()
    for position, group in enumerate(groups):
        if group.concept >= 0 or group.terms() & present or len(group.text) < 4:
            continue
        found = corrections(group.text)
        if not found:
            continue
        concept = next((c for c in map(lexicon.concept_of_stem, found) if c >= 0), -1)
        if concept >= 0:
            fixed = _concept_group(group.text, concept)
            fixed.alternatives = [
                Alternative(a.terms, a.weight * CORRECTION_WEIGHT) for a in fixed.alternatives
            ]
            fixed.corrected = found
            groups[position] = fixed
        else:
            group.alternatives += [Alternative((t,), CORRECTION_WEIGHT) for t in found]
            group.corrected = found


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance of ``a`` and ``b`` (a swap of neighbours counts one),
    or ``limit + 1`` as soon as it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def allowed_typos(word: str) -> int:
    """Edits tolerated in a word of this length: none under 4 letters, 1 up to 7, else 2."""
    return 0 if len(word) < 4 else 1 if len(word) <= 7 else 2
