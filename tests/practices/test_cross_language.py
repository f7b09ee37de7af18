"""Spelling variants and queries in another language find the right practice, in the page and
in the command line (FR→EN, DE→EN, EN→NL and more)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from rempart.practices import demo
from rempart.practices.models import Practice

from .conftest import publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(city: Any) -> dict[str, int]:
    demo.load(city, io.StringIO())
    publish(
        ref="nl-jongerenwerk",
        language="nl",
        title="Jongerenwerk tegen polarisatie in de wijk",
        summary="Jongerenwerkers praten met jongeren over extremisme en discriminatie.",
        themes=["radicalisation_prevention"],
    )
    return dict(Practice.objects.values_list("ref", "pk"))


CASES = [
    ("Radikalisierung", "demo-aarhus-model"),  # DE -> EN
    ("Radikalisierungsprävention", "demo-aarhus-model"),  # DE compound -> EN
    ("Poller", "demo-nice-pedestrian-zone"),  # DE -> EN
    ("programme de sortie", "demo-aarhus-model"),  # FR -> EN (an exit programme)
    ("prévention de la radicalisation", "demo-aarhus-model"),  # FR -> EN
    ("radicalization prevention", "demo-aarhus-model"),  # US spelling
    ("youth work", "nl-jongerenwerk"),  # EN -> NL
    ("bollards promenade", "demo-promenade-des-anglais"),  # EN, record in FR (+ EN translation)
    ("bornes anti-bélier", "demo-promenade-des-anglais"),  # FR
    ("prevention radicalisation", "demo-aarhus-model"),  # accents aside
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_page_finds(
    client: Client, users: dict[str, Any], library: dict[str, int], query: str, expected: str
) -> None:
    client.force_login(users["viewer"])
    page = client.get(reverse("practices:index"), {"q": query})
    assert page.status_code == 200
    links = [row["practice"].pk for row in page.context["rows"]][:10]
    assert library[expected] in links, (query, links)


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_command_line_finds(library: dict[str, int], query: str, expected: str) -> None:
    out = io.StringIO()
    call_command("practices", "search", query, "--json", stdout=out)
    ids = [row["id"] for row in json.loads(out.getvalue())]
    assert library[expected] in ids, (query, ids)


def test_radicalisation_prevention_finds_the_whole_theme(library: dict[str, int]) -> None:
    """Issue 12: the query found 1 practice while the theme holds 6 (every word was required)."""
    from rempart.practices.search import search

    found = set(search("radicalisation prevention", limit=50).ids)
    theme = set(
        Practice.objects.filter(
            ref__in=[
                "demo-practicies",
                "demo-icarus",
                "demo-ran-collection",
                "demo-aggredi",
                "demo-jamal-al-khatib",
                "demo-aarhus-model",
            ]
        ).values_list("pk", flat=True)
    )
    assert theme <= found


def test_misspelt_word_is_corrected(library: dict[str, int]) -> None:
    from rempart.practices.search import search

    result = search("radicalistion")
    assert library["demo-aarhus-model"] in result.ids[:10]
    assert result.corrected  # the page says what it also searched for
