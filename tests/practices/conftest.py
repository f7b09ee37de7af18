"""Fixtures of the practices tests: a city, two organisations, one user per role, a catalogue."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from rempart.core.models import City, Organisation, Profile
from rempart.core.roles import grant
from rempart.practices.models import Practice, PracticeTranslation, Status
from rempart.practices.search import index_practices

ROLES = ("viewer", "editor", "operator", "supervisor", "admin")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def city(db: Any) -> City:
    return City.objects.create(name="Nice", slug="nice", country="FR")


@pytest.fixture
def orgs(city: City) -> dict[str, Organisation]:
    result = {}
    for key, name in (("home", "Ville de Nice"), ("other", "Efus")):
        org = Organisation.objects.create(name=name, kind="municipality", city=city)
        org.cities.add(city)
        result[key] = org
    return result


@pytest.fixture
def make_user(orgs: dict[str, Organisation]) -> Any:
    def make(
        username: str, role: str | None = None, org: str = "home", module: str = "practices"
    ) -> Any:
        user = get_user_model().objects.create_user(
            username=username
        )  # no password: tests log in with force_login
        Profile.objects.create(user=user, organisation=orgs[org])
        if role:
            grant(user, module, role)
        return user

    return make


@pytest.fixture
def users(make_user: Any) -> dict[str, Any]:
    """One user per practices role (home organisation), two outside reviewers, one outsider."""
    result = {role: make_user(role, role) for role in ROLES}
    result["reviewer1"] = make_user("reviewer1", "supervisor", org="other")
    result["reviewer2"] = make_user("reviewer2", "supervisor", org="other")
    result["outsider"] = make_user("outsider", "admin", module="core")
    return result


def publish(**fields: Any) -> Practice:
    """A published practice, indexed (bypasses the review: for search fixtures only)."""
    translations = fields.pop("translations", [])
    fields.setdefault("ref", fields["title"].lower().replace(" ", "-")[:100])
    fields.setdefault("status", Status.PUBLISHED)
    practice = Practice.objects.create(**fields)
    for item in translations:
        PracticeTranslation.objects.create(practice=practice, **item)
    index_practices([Practice.objects.prefetch_related("translations").get(pk=practice.pk)])
    return practice


CATALOGUE: list[dict[str, Any]] = [
    {
        "ref": "exit-mentoring",
        "language": "en",
        "title": "Exit mentoring for radicalised young people",
        "summary": "Mentors support young people who want to leave violent extremist groups.",
        "themes": ["disengagement", "radicalisation_prevention"],
        "audiences": ["young_people"],
        "settings": ["neighbourhood"],
        "country": "DK",
        "evidence_label": "promising",
    },
    {
        "ref": "bollards-promenade",
        "language": "fr",
        "title": "Protection de la promenade par des bornes anti-bélier",
        "summary": "Des bornes escamotables et des câbles d'acier protègent les piétons.",
        "themes": ["public_space_protection"],
        "audiences": ["general_public"],
        "settings": ["public_space", "street"],
        "country": "FR",
        "evidence_label": "inspiring",
        "translations": [
            {
                "language": "en",
                "title": "Protecting the promenade with anti-ram bollards",
                "summary": "Retractable bollards and steel cables protect pedestrians.",
            }
        ],
    },
    {
        "ref": "ecoles-radicalisation",
        "language": "fr",
        "title": "Prévenir la radicalisation à l'école",
        "summary": "Des ateliers pour les élèves sur les discours de haine et les jeunes radicalisés.",
        "themes": ["radicalisation_prevention", "education"],
        "audiences": ["young_people", "teachers"],
        "settings": ["school"],
        "country": "FR",
        "evidence_label": "",
    },
    {
        "ref": "jugendliche-ausstieg",
        "language": "de",
        "title": "Ausstiegsberatung für Jugendlichen",
        "summary": "Beratung für Jugendliche und ihre Familien in Stuttgart.",
        "themes": ["disengagement", "family_support"],
        "audiences": ["young_people", "families"],
        "settings": ["family"],
        "country": "DE",
        "evidence_label": "peer_reviewed",
    },
    {
        "ref": "escuelas-convivencia",
        "language": "es",
        "title": "Convivencia en las escuelas",
        "summary": "Programa de mediación en la escuela contra el acoso.",
        "themes": ["education", "juvenile_delinquency"],
        "audiences": ["young_people"],
        "settings": ["school"],
        "country": "ES",
        "evidence_label": "effective",
    },
    {
        "ref": "scuole-giovani",
        "language": "it",
        "title": "Educatori di strada per i giovani",
        "summary": "Educatori incontrano il giovane nelle scuole e nei quartieri di Torino.",
        "themes": ["juvenile_delinquency"],
        "audiences": ["young_people"],
        "settings": ["street", "school"],
        "country": "IT",
        "evidence_label": "",
    },
    {
        "ref": "jongeren-wijk",
        "language": "nl",
        "title": "Wijkaanpak voor jongeren",
        "summary": "De gemeenten werken samen met politie en jongerenwerk in Rotterdam.",
        "themes": ["multi_agency", "community_policing"],
        "audiences": ["young_people", "police"],
        "settings": ["neighbourhood"],
        "country": "NL",
        "evidence_label": "",
    },
    {
        "ref": "mentoring-online",
        "language": "en",
        "title": "Online counter-narratives",
        "summary": "Youth workers answer online hate with counter-narratives; mentoring follows.",
        "themes": ["online_hate"],
        "audiences": ["young_people"],
        "settings": ["online"],
        "country": "AT",
        "evidence_label": "no_effect",
    },
]


@pytest.fixture
def catalogue(db: Any) -> dict[str, Practice]:
    return {item["ref"]: publish(**item) for item in CATALOGUE}
