"""Workflow permissions: who writes, submits, reviews, publishes, and who sees contacts."""

from __future__ import annotations

from typing import Any

import pytest

from rempart.core.audit_models import AuditEntry
from rempart.practices import workflow
from rempart.practices.models import Practice, Status
from rempart.practices.workflow import WorkflowError

pytestmark = pytest.mark.django_db


def draft(user: Any, **fields: Any) -> Practice:
    practice = Practice(
        title=fields.pop("title", "Street mediation"),
        summary=fields.pop("summary", "Mediators in the old town at night."),
        language="en",
        contacts=[{"name": "A. Person", "email": "a@example.org"}],
        **fields,
    )
    return workflow.save_practice(practice, user)


def in_review(users: dict[str, Any]) -> Practice:
    practice = draft(users["editor"])
    workflow.submit(practice, users["editor"])
    workflow.assign_reviewer(practice, users["reviewer1"], users["admin"])
    workflow.assign_reviewer(practice, users["reviewer2"], users["admin"])
    practice.refresh_from_db()
    return practice


def test_viewer_cannot_write(users: dict[str, Any]) -> None:
    with pytest.raises(WorkflowError):
        draft(users["viewer"])


def test_editor_writes_and_submits(users: dict[str, Any]) -> None:
    practice = draft(users["editor"], evidence_label="effective")
    assert practice.status == Status.DRAFT
    assert practice.evidence_label == ""  # only reviewers set it
    assert practice.ref == "street-mediation"
    assert practice.versions.count() == 1
    workflow.submit(practice, users["editor"])
    assert practice.status == Status.SUBMITTED
    with pytest.raises(WorkflowError):
        workflow.submit(practice, users["editor"])  # already submitted


def test_editor_of_another_organisation_cannot_edit(users: dict[str, Any], make_user: Any) -> None:
    practice = draft(users["editor"])
    stranger = make_user("stranger", "editor", org="other")
    assert not workflow.can_edit(stranger, practice)
    with pytest.raises(WorkflowError):
        workflow.submit(practice, stranger)
    assert not workflow.can_view(users["viewer"], practice)  # drafts are not for every member
    assert workflow.can_view(users["admin"], practice)


def test_only_admin_assigns_and_reviewers_are_independent(users: dict[str, Any]) -> None:
    practice = draft(users["editor"])
    workflow.submit(practice, users["editor"])
    with pytest.raises(WorkflowError, match="admin"):
        workflow.assign_reviewer(practice, users["reviewer1"], users["supervisor"])
    with pytest.raises(WorkflowError, match="not a reviewer"):
        workflow.assign_reviewer(practice, users["operator"], users["admin"])
    with pytest.raises(WorkflowError, match="own organisation"):
        workflow.assign_reviewer(practice, users["supervisor"], users["admin"])
    workflow.assign_reviewer(practice, users["reviewer1"], users["admin"])
    practice.refresh_from_db()
    assert practice.status == Status.IN_REVIEW
    with pytest.raises(WorkflowError, match="under review"):
        workflow.save_practice(practice, users["editor"])


def test_two_reviewers_publish_with_label(users: dict[str, Any]) -> None:
    practice = in_review(users)
    first, second = practice.reviews.order_by("reviewer__username")
    with pytest.raises(WorkflowError, match="assigned reviewer"):
        workflow.review(
            first, users["reviewer2"], conflict=False, label="effective", decision="publish"
        )
    workflow.review(
        first, users["reviewer1"], conflict=False, label="promising", decision="publish"
    )
    practice.refresh_from_db()
    assert practice.status == Status.IN_REVIEW
    workflow.review(
        second, users["reviewer2"], conflict=False, label="effective", decision="publish"
    )
    practice.refresh_from_db()
    assert practice.status == Status.IN_REVIEW  # labels differ: reviewers must agree
    workflow.review(
        first, users["reviewer1"], conflict=False, label="effective", decision="publish"
    )
    practice.refresh_from_db()
    assert practice.status == Status.PUBLISHED
    assert practice.evidence_label == "effective"


def test_return_with_comments_then_resubmit(users: dict[str, Any]) -> None:
    practice = in_review(users)
    first = practice.reviews.get(reviewer=users["reviewer1"])
    with pytest.raises(WorkflowError, match="change"):
        workflow.review(first, users["reviewer1"], conflict=False, decision="return")
    workflow.review(
        first, users["reviewer1"], conflict=False, decision="return", comments="Add the evaluation."
    )
    practice.refresh_from_db()
    assert practice.status == Status.RETURNED
    assert [r.comments for r in workflow.return_comments(practice)] == ["Add the evaluation."]
    practice.approach = "Evaluated by the university."
    workflow.save_practice(practice, users["editor"])
    workflow.submit(practice, users["editor"])
    assert practice.review_round == 2
    workflow.assign_reviewer(practice, users["reviewer1"], users["admin"])  # a new round


def test_conflict_of_interest_recuses(users: dict[str, Any], make_user: Any) -> None:
    practice = in_review(users)
    first = practice.reviews.get(reviewer=users["reviewer1"])
    with pytest.raises(WorkflowError, match="describe"):
        workflow.review(first, users["reviewer1"], conflict=True)
    workflow.review(first, users["reviewer1"], conflict=True, conflict_statement="I designed it.")
    assert len(workflow.active_reviews(practice)) == 1
    third = make_user("reviewer3", "supervisor", org="other")
    workflow.assign_reviewer(practice, third, users["admin"])  # a replacement
    with pytest.raises(WorkflowError, match="conflict"):
        workflow.review(
            first, users["reviewer1"], conflict=False, label="effective", decision="publish"
        )


def _review_all(practice: Practice, label: str, decision: str = "publish") -> None:
    """Both reviewers publish with ``label``, or the first one returns (that ends the round)."""
    assignments = list(practice.reviews.filter(round=practice.review_round))
    for assignment in assignments if decision == "publish" else assignments[:1]:
        workflow.review(
            assignment,
            assignment.reviewer,
            conflict=False,
            label=label if decision == "publish" else "",
            decision=decision,
            comments="" if decision == "publish" else "Cite the evaluation.",
        )


def _submit_for_review(practice: Practice, users: dict[str, Any]) -> None:
    workflow.submit(practice, users["editor"])
    workflow.assign_reviewer(practice, users["reviewer1"], users["admin"])
    workflow.assign_reviewer(practice, users["reviewer2"], users["admin"])


def test_new_version_of_published_is_reviewed_before_it_replaces_it(
    users: dict[str, Any],
) -> None:
    from rempart.practices.search import search

    practice = in_review(users)
    _review_all(practice, "inspiring")
    practice.refresh_from_db()
    assert (practice.status, practice.version) == (Status.PUBLISHED, 1)

    practice.summary = "Mediators in the old town at night, with the police patrols."
    revision = workflow.save_practice(practice, users["editor"])
    # the published record is untouched and still found; the edit lives in its revision
    practice.refresh_from_db()
    assert (practice.status, practice.version, practice.evidence_label) == (
        Status.PUBLISHED,
        1,
        "inspiring",
    )
    assert practice.summary == "Mediators in the old town at night."
    assert (revision.revision_of_id, revision.status, revision.version) == (
        practice.pk,
        Status.DRAFT,
        2,
    )
    assert revision.evidence_label == ""
    assert not workflow.can_view(users["viewer"], revision)
    assert search("mediators").ids == [practice.pk]
    assert search("patrols").ids == []
    # saving through the published practice again (a PUT replaces the whole content) goes to
    # the same revision
    practice.summary, practice.approach = revision.summary, "Two mediators per street."
    assert workflow.save_practice(practice, users["editor"]).pk == revision.pk
    assert Practice.objects.filter(revision_of=practice).count() == 1

    # returned once, corrected, then published by both reviewers with a new label
    _submit_for_review(revision, users)
    with pytest.raises(WorkflowError, match="under review"):
        workflow.save_practice(practice, users["editor"])
    _review_all(revision, "", decision="return")
    revision.refresh_from_db()
    assert revision.status == Status.RETURNED
    revision.effect = "Fewer night-time incidents."
    workflow.save_practice(revision, users["editor"])
    _submit_for_review(revision, users)
    _review_all(revision, "promising")

    assert not Practice.objects.filter(pk=revision.pk).exists()
    practice.refresh_from_db()
    assert (practice.status, practice.version, practice.evidence_label) == (
        Status.PUBLISHED,
        2,
        "promising",
    )
    assert practice.summary.endswith("with the police patrols.")
    assert practice.effect == "Fewer night-time incidents."
    assert list(practice.versions.values_list("number", flat=True)) == [2, 1]
    assert practice.versions.get(number=1).data["summary"] == "Mediators in the old town at night."
    assert practice.versions.get(number=2).status == Status.PUBLISHED
    # the reviews of both versions stay with the practice: round 1, then rounds 2 and 3
    assert sorted(set(practice.reviews.values_list("round", flat=True))) == [1, 2, 3]
    assert practice.review_round == 3
    assert search("patrols").ids == [practice.pk]


def test_changes_are_audited_contacts_redacted(users: dict[str, Any]) -> None:
    practice = draft(users["editor"])
    entry = AuditEntry.objects.filter(
        object_type="practices.practice", object_id=str(practice.pk), action="create"
    ).get()
    assert entry.changes["after"]["contacts"] == "[redacted]"


def test_each_version_keeps_its_author_reviewers_and_publisher_apart(
    users: dict[str, Any], make_user: Any
) -> None:
    """Issue 12: publishing overwrote version 1's author with the second reviewer."""
    practice = in_review(users)
    _review_all(practice, "inspiring")
    first = practice.versions.get(number=1)
    assert first.created_by == users["editor"]  # the author, after submit, review, publish
    assert first.published_by in (users["reviewer1"], users["reviewer2"])
    assert first.published_at is not None
    reviewers = set(practice.reviews.filter(version=1).values_list("reviewer", flat=True))
    assert reviewers == {users["reviewer1"].pk, users["reviewer2"].pk}

    colleague = make_user("colleague", "editor")  # same organisation, writes version 2
    practice.refresh_from_db()
    practice.summary = "Mediators and youth workers in the old town at night."
    revision = workflow.save_practice(practice, colleague)
    _submit_for_review(revision, users)
    _review_all(revision, "promising")
    practice.refresh_from_db()
    second = practice.versions.get(number=2)
    assert second.created_by == colleague
    assert second.published_by in (users["reviewer1"], users["reviewer2"])
    assert practice.versions.get(number=1).created_by == users["editor"]
    assert practice.created_by == users["editor"]


def test_assignment_list_offers_only_eligible_reviewers(users: dict[str, Any], client: Any) -> None:
    practice = draft(users["editor"])
    workflow.submit(practice, users["editor"])
    eligible = set(workflow.eligible_reviewers(practice).values_list("username", flat=True))
    # supervisors of the author's organisation (supervisor, admin) are not offered
    assert eligible == {"reviewer1", "reviewer2"}
    workflow.assign_reviewer(practice, users["reviewer1"], users["admin"])
    assert set(workflow.eligible_reviewers(practice).values_list("username", flat=True)) == {
        "reviewer2"
    }
    from django.urls import reverse

    client.force_login(users["admin"])
    page = client.get(reverse("practices:assign", args=[practice.pk])).content.decode()
    assert 'value="' + str(users["reviewer2"].pk) + '"' in page
    assert 'value="' + str(users["reviewer1"].pk) + '"' not in page  # already assigned
    assert 'value="' + str(users["supervisor"].pk) + '"' not in page  # author's organisation


def test_demo_two_reviewer_path_completes(city: Any) -> None:
    """With the demo accounts only: demo-editor writes, demo-admin assigns the university and
    police reviewers, both publish."""
    import io

    from django.contrib.auth import get_user_model

    from rempart.core.demo import load

    load(io.StringIO())
    people = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo-")}
    practice = workflow.save_practice(
        Practice(title="Demo street mediation", summary="Mediators at night.", language="en"),
        people["demo-editor"],
    )
    workflow.submit(practice, people["demo-editor"])
    offered = set(workflow.eligible_reviewers(practice).values_list("username", flat=True))
    assert offered == {"demo-reviewer-university", "demo-reviewer-police"}
    for name in sorted(offered):
        workflow.assign_reviewer(practice, people[name], people["demo-admin"])
    practice.refresh_from_db()
    _review_all(practice, "inspiring")
    practice.refresh_from_db()
    assert (practice.status, practice.evidence_label) == (Status.PUBLISHED, "inspiring")
