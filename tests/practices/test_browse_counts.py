"""Browsing without a query: facet counts kept per process while the search index's stamp is
unchanged (rempart.practices.search.BrowseCounts), and counted afresh after any change, whoever
writes it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from rempart.practices.models import Practice, Status
from rempart.practices.search import BrowseCounts, index_practices, list_published
from tests.practices.conftest import publish

pytestmark = pytest.mark.django_db


def counting_statements(context: CaptureQueriesContext) -> int:
    """Statements that count facets (a grouped pass over the search documents)."""
    return sum("GROUP BY" in query["sql"] for query in context.captured_queries)


def browse(**filters: list[str]) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as context:
        result = list_published(filters=filters or None)
    return result, counting_statements(context)


def test_counts_are_kept_until_the_index_changes(catalogue: dict[str, Practice]) -> None:
    first, counted = browse()
    again, counted_again = browse()
    assert counted >= 1 and counted_again == 0  # the second browse reads the stamp only
    assert (again.total, again.facets) == (first.total, first.facets) and again.total == 8
    assert again.ids == first.ids

    # unpublished through the indexer: the next browse counts 7
    practice = catalogue["exit-mentoring"]
    practice.status = Status.DRAFT
    practice.save()
    index_practices([practice])
    after, counted = browse()
    assert counted >= 1 and after.total == 7
    assert dict(after.facets["evidence"]).get("promising", 0) == (
        dict(first.facets["evidence"]).get("promising", 0) - 1
    )

    # a writer outside the application (raw SQL): the database's trigger changes the stamp
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM practices_searchdocument WHERE practice_id = %s",
            [catalogue["mentoring-online"].pk],
        )
    assert browse()[0].total == 6


def test_filtered_counts_are_kept_per_filter(catalogue: dict[str, Practice]) -> None:
    schools, counted = browse(setting=["school"])
    schools_again, counted_again = browse(setting=["school"])
    assert counted >= 1 and counted_again == 0
    assert schools_again.total == schools.total == 3
    french, counted = browse(country=["FR"])
    assert counted >= 1 and french.total == 2
    assert browse(setting=["school"])[1] == 0  # both kept
    publish(
        ref="ecole-nouvelle",
        title="Une nouvelle école",
        language="fr",
        country="FR",
        settings=["school"],
    )
    assert browse(setting=["school"])[0].total == 4
    assert browse(country=["FR"])[0].total == 3


def test_a_rolled_back_change_is_never_served(catalogue: dict[str, Practice]) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(ref="short-lived", title="Short lived", language="en", country="DK")
        assert browse()[0].total == 9  # counted inside the transaction
        raise RuntimeError("roll back")
    assert browse()[0].total == 8  # the stamp went back with the rows: never equal to the 9's


def test_the_oldest_filters_make_room() -> None:
    counts = BrowseCounts(size=2)
    with connection.cursor() as cursor:
        for where in ("d.country = %s", "d.evidence = %s", "d.country <> %s"):
            counts.get(cursor, where, ["FR"])
    with CaptureQueriesContext(connection) as context, connection.cursor() as cursor:
        counts.get(cursor, "d.country <> %s", ["FR"])  # kept
        counts.get(cursor, "d.country = %s", ["FR"])  # made room: counted again
    assert counting_statements(context) == 1
