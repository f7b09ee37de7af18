"""The practices card of a site's page: what was applied there, and relevant practices.

Relevance comes from the site's kind: every public space calls for public-space protection; a
school's surroundings also for education and juvenile delinquency, a place of worship for
radicalisation prevention and community policing, transport hubs and event areas for crisis
response (an editorial mapping, see docs/practices.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.template.loader import render_to_string

from rempart.core.roles import has_role
from rempart.practices.models import Practice, SiteLink, Status, Theme
from rempart.practices.search import list_published, load_practices

BASE = [Theme.PUBLIC_SPACE_PROTECTION.value]
SITE_KIND_THEMES: dict[str, list[str]] = {
    "school_surroundings": [*BASE, Theme.EDUCATION.value, Theme.JUVENILE_DELINQUENCY.value],
    "place_of_worship": [
        *BASE,
        Theme.RADICALISATION_PREVENTION.value,
        Theme.COMMUNITY_POLICING.value,
    ],
    "transport_hub": [*BASE, Theme.CRISIS_RESPONSE.value],
    "event_area": [*BASE, Theme.CRISIS_RESPONSE.value],
    "market": [*BASE, Theme.COMMUNITY_POLICING.value],
    "street": [*BASE, Theme.COMMUNITY_POLICING.value],
}
EVIDENCE_ORDER = [
    "effective",
    "peer_reviewed",
    "promising",
    "inspiring",
    "",
    "no_effect",
    "harmful",
]


def themes_for(site: Any) -> list[str]:
    return SITE_KIND_THEMES.get(site.kind, BASE)


def relevant(site: Any, *, limit: int = 5, exclude: list[int] | None = None) -> list[Practice]:
    """Published practices whose themes fit the site's kind, best evidence first."""
    ids = list_published(filters={"theme": themes_for(site)}, limit=200).ids
    skip = set(exclude or [])
    practices = [p for p in load_practices(ids) if p.pk not in skip]
    practices.sort(
        key=lambda p: (
            EVIDENCE_ORDER.index(p.evidence_label) if p.evidence_label in EVIDENCE_ORDER else 9,
            p.title.casefold(),
        )
    )
    return practices[:limit]


def panel(request: HttpRequest, site: Any) -> str:
    """The rendered card, or an empty string for users who are not members of the exchange."""
    if not has_role(request.user, "practices", "viewer"):
        return ""
    links = list(
        SiteLink.objects.filter(site=site, practice__status=Status.PUBLISHED).select_related(
            "practice"
        )
    )
    return render_to_string(
        "practices/site_panel.html",
        {
            "site": site,
            "links": links,
            "relevant": relevant(site, exclude=[link.practice_id for link in links]),
            "query": urlencode([("theme", t) for t in themes_for(site)]),
        },
        request=request,
    )
