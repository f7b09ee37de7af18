"""Partner search: past participants of security research (CORDIS) who would make a failed
eligibility rule pass.

A candidate must match the failed rule's :class:`~rempart.funding.eligibility.PartnerNeed`
(legal type, eligible country, a country the consortium does not cover yet when the rule asks
for different countries) and not be in the consortium already. Candidates are ranked by how
many security-related projects they took part in, then by how many they coordinated.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from rempart.funding.eligibility import PartnerNeed
from rempart.funding.models import CordisParticipation

#: Candidates shown per failed rule.
SUGGESTIONS = 5


@dataclass(frozen=True)
class Candidate:
    organisation_id: str
    name: str
    country: str
    legal_type: str
    projects: int
    coordinated: int
    acronyms: tuple[str, ...]


def search(
    *,
    country: str = "",
    legal_type: str = "",
    topic: str = "",
    security_only: bool = True,
    exclude_names: frozenset[str] = frozenset(),
    limit: int = 20,
) -> list[Candidate]:
    """Past participants by country, legal type and topic words (in titles, topics, objectives)."""
    rows = CordisParticipation.objects.filter(role__in=["coordinator", "beneficiary"])
    if security_only:
        rows = rows.filter(project__security_related=True)
    if country:
        rows = rows.filter(country=country.upper())
    if legal_type:
        rows = rows.filter(legal_type=legal_type)
    for word in topic.split()[:8]:
        rows = rows.filter(
            Q(project__title__icontains=word)
            | Q(project__topics__icontains=word)
            | Q(project__objective__icontains=word)
            | Q(project__acronym__iexact=word)
        )
    return _rank(rows, exclude_names, limit)


def for_need(
    need: PartnerNeed, exclude_names: frozenset[str], limit: int = SUGGESTIONS
) -> list[Candidate]:
    """Candidates who would satisfy one more unit of a failed rule's need."""
    rows = CordisParticipation.objects.filter(
        role__in=["coordinator", "beneficiary"], project__security_related=True
    )
    if need.legal_types is not None:
        rows = rows.filter(legal_type__in=sorted(need.legal_types))
    if need.countries is not None:
        rows = rows.filter(country__in=sorted(need.countries))
    if need.avoid_countries:
        rows = rows.exclude(country__in=sorted(need.avoid_countries))
    return _rank(rows, exclude_names, limit)


def _rank(rows: object, exclude_names: frozenset[str], limit: int) -> list[Candidate]:
    grouped = (
        rows.values("organisation_id")  # type: ignore[attr-defined]
        .annotate(
            projects=Count("project", distinct=True),
            coordinated=Count("project", filter=Q(role="coordinator"), distinct=True),
        )
        .order_by("-projects", "-coordinated", "organisation_id")
    )
    lowered = {name.casefold() for name in exclude_names}
    candidates: list[Candidate] = []
    for row in grouped[: limit * 4 + len(lowered)]:
        latest = (
            CordisParticipation.objects.filter(organisation_id=row["organisation_id"])
            .select_related("project")
            .order_by("-project__start_date")
        )
        first = latest.first()
        if first is None or first.name.casefold() in lowered:
            continue
        acronyms = tuple(dict.fromkeys(p.project.acronym for p in latest[:5]))
        candidates.append(
            Candidate(
                row["organisation_id"],
                first.name,
                first.country,
                first.legal_type,
                row["projects"],
                row["coordinated"],
                acronyms,
            )
        )
        if len(candidates) >= limit:
            break
    return candidates
