"""Who may do what with a practice, and its life: draft → submitted → in review → published/returned.

Roles of the ``practices`` module (a role includes the lower ones):

* viewer: a member of the exchange; reads published practices (contacts included, as an
  audited sensitive read), takes part in the exchange.
* editor: writes practices and submits them; edits the drafts of their organisation; editing a
  published practice prepares its next version (a revision), reviewed like a new practice
  before it replaces the published text, which stays visible meanwhile.
* operator: organises the exchange (working groups, events).
* supervisor: a reviewer; when assigned, declares conflicts of interest, then sets the evidence
  label, comments and recommends publishing or returning.
* admin: assigns the two reviewers of a submitted practice.

Pure rules over the models; views, API and command line call these and nothing else changes a
practice's status. Every save is audited by the core's signals.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from rempart.core.roles import group_name, has_role
from rempart.practices import notifications
from rempart.practices.models import (
    EvidenceLabel,
    Practice,
    PracticeTranslation,
    PracticeVersion,
    ReviewAssignment,
    Status,
)
from rempart.practices.records import export_record, unique_ref

MODULE = "practices"
REVIEWERS_NEEDED = 2
#: days a reviewer has for a review, from the assignment (the admin may set another date)
REVIEW_DAYS = 14


class WorkflowError(Exception):
    """A step that is not allowed now or not for this user; the message says why."""


def is_member(user: Any) -> bool:
    return has_role(user, MODULE, "viewer")


def _org_id(user: Any) -> int | None:
    profile = getattr(user, "profile", None)
    return getattr(profile, "organisation_id", None) if profile is not None else None


def user_organisation_id(user: Any) -> int | None:
    return _org_id(user)


def can_edit(user: Any, practice: Practice) -> bool:
    """Editors of the author's organisation (or the author), and practices admins."""
    if not has_role(user, MODULE, "editor"):
        return False
    if has_role(user, MODULE, "admin") or practice.pk is None:
        return True
    if practice.created_by_id == user.pk:
        return True
    org = _org_id(user)
    return org is not None and org == practice.owner_organisation_id


def is_reviewer(user: Any, practice: Practice) -> bool:
    return (
        has_role(user, MODULE, "supervisor")
        and practice.reviews.filter(round=practice.review_round, reviewer_id=user.pk).exists()
    )


def can_view(user: Any, practice: Practice) -> bool:
    if not is_member(user):
        return False
    if practice.status == Status.PUBLISHED:
        return True
    return (
        can_edit(user, practice) or is_reviewer(user, practice) or has_role(user, MODULE, "admin")
    )


def _person(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def practice_for(request: Any, pk: int) -> Practice:
    """Practice ``pk`` if the requesting user may see it (:func:`can_view`): 404 otherwise, as
    for one that does not exist, and the refusal audited (pages and API alike)."""
    from rempart.core.access_rules import fetch

    return fetch(
        request,
        Practice.objects.prefetch_related("translations"),
        f"practice {pk}",
        visible=can_view,
        pk=pk,
    )


def snapshot(
    practice: Practice, user: Any = None, note: str = "", *, published_by: Any = None
) -> PracticeVersion:
    """Store the record as it is now as its current version.

    The version's author is whoever first stored it and stays so: later steps (submission,
    review, publication) update the frozen record, its status and note, never its author.
    ``published_by`` records who completed the version's publication.
    """
    version = PracticeVersion.objects.filter(practice=practice, number=practice.version).first()
    if version is None:
        version = PracticeVersion(
            practice=practice, number=practice.version, created_by=_person(user)
        )
    version.data = export_record(practice)
    version.status = practice.status
    version.note = note[:300]
    if published_by is not None:
        version.published_by = _person(published_by)
        version.published_at = timezone.now()
    version.save()
    return version


def save_practice(
    practice: Practice,
    user: Any,
    *,
    translations: list[dict[str, str]] | None = None,
    note: str = "",
) -> Practice:
    """Create or update a practice's content (never its status or label); reindex it.

    Editing a published practice does not touch it: the edit goes to its revision (created on
    the first edit, version + 1), which is submitted and reviewed like any draft; the published
    text stays visible until the revision is published (see :func:`conclude`). Returns the
    practice saved: ``practice`` itself, or the revision.
    """
    from rempart.practices.search import index_practices

    if not can_edit(user, practice):
        raise WorkflowError("you may not edit this practice")
    if practice.pk is not None:
        stored_status = Practice.objects.filter(pk=practice.pk).values_list("status", flat=True)
        if stored_status and stored_status[0] == Status.PUBLISHED:
            return save_revision(practice, user, translations=translations, note=note)
    with transaction.atomic():
        if practice.pk is None:
            practice.status = Status.DRAFT
            practice.evidence_label = ""
            practice.created_by = user if getattr(user, "is_authenticated", False) else None
            if practice.owner_organisation_id is None:
                practice.owner_organisation_id = _org_id(user)
        else:
            stored = Practice.objects.select_for_update().get(pk=practice.pk)
            # status and label only change through the workflow steps below
            practice.status = stored.status
            practice.evidence_label = stored.evidence_label
            practice.review_round = stored.review_round
            practice.version = stored.version
            practice.revision_of_id = stored.revision_of_id
            if stored.status == Status.PUBLISHED:
                raise WorkflowError("a published practice is edited through its revision")
            if stored.status in (Status.SUBMITTED, Status.IN_REVIEW):
                raise WorkflowError("a practice under review cannot be edited")
        if not practice.ref:
            practice.ref = unique_ref(practice.title)
        practice.full_clean()
        practice.save()
        if translations is not None:
            set_translations(practice, translations)
        snapshot(practice, user, note)
    index_practices([practice])
    return practice


#: Fields that are not the practice's content: identity, workflow state, bookkeeping.
NOT_CONTENT = frozenset(
    {
        "id",
        "ref",
        "status",
        "version",
        "review_round",
        "evidence_label",
        "created_by",
        "owner_organisation",
        "is_demo",
        "created_at",
        "updated_at",
        "published_at",
        "revision_of",
    }
)


def content_fields() -> list[str]:
    return [f.attname for f in Practice._meta.concrete_fields if f.name not in NOT_CONTENT]


def revision_of(practice: Practice) -> Practice | None:
    """The revision (next version in preparation) of a published practice, if any."""
    if practice.pk is None:
        return None
    return Practice.objects.filter(revision_of=practice).first()


def save_revision(
    edited: Practice,
    user: Any,
    *,
    translations: list[dict[str, str]] | None = None,
    note: str = "",
) -> Practice:
    """Store an edit of a published practice in its revision (created on the first edit)."""
    from rempart.practices.search import index_practices

    with transaction.atomic():
        published = Practice.objects.select_for_update().get(pk=edited.pk)
        revision = Practice.objects.filter(revision_of=published).first()
        if revision is None:
            revision = Practice(
                revision_of=published,
                ref=unique_ref(f"{published.ref[:100]}-v{published.version + 1}"),
                status=Status.DRAFT,
                version=published.version + 1,
                created_by=user if getattr(user, "is_authenticated", False) else None,
                owner_organisation_id=published.owner_organisation_id,
                is_demo=published.is_demo,
            )
            if translations is None:
                translations = [
                    {"language": t.language, "title": t.title, "summary": t.summary}
                    for t in published.translations.all()
                ]
        elif revision.status in (Status.SUBMITTED, Status.IN_REVIEW):
            raise WorkflowError("the new version of this practice is under review")
        for name in content_fields():
            setattr(revision, name, getattr(edited, name))
        revision.full_clean()
        revision.save()
        if translations is not None:
            set_translations(revision, translations)
        snapshot(revision, user, note or f"new version of published practice {published.pk}")
    index_practices([revision])
    return revision


def _publish_revision(revision: Practice, label: str, user: Any) -> Practice:
    """Replace the published practice's text with its reviewed revision, then drop the copy.

    The published practice keeps its id, address, links and attachments; it takes the
    revision's content, version and label; the revision's reviews join its history (rounds
    numbered after its own) and its version snapshot becomes the practice's.
    """
    assert revision.revision_of_id is not None
    with transaction.atomic():
        published = Practice.objects.select_for_update().get(pk=revision.revision_of_id)
        for name in content_fields():
            setattr(published, name, getattr(revision, name))
        offset = published.review_round
        for assignment in revision.reviews.order_by("-round"):
            assignment.practice = published
            assignment.round += offset
            assignment.save(update_fields=["practice", "round"])
        published.review_round = offset + revision.review_round
        published.version = revision.version
        published.evidence_label = label
        published.published_at = timezone.now()
        published.save()
        set_translations(
            published,
            [
                {"language": t.language, "title": t.title, "summary": t.summary}
                for t in revision.translations.all()
            ],
        )
        revision.attachments.update(practice=published)
        for link in revision.site_links.all():
            if not published.site_links.filter(site_id=link.site_id).exists():
                link.practice = published
                link.save(update_fields=["practice"])
        revision.versions.exclude(
            number__in=published.versions.values_list("number", flat=True)
        ).update(practice=published)
        snapshot(published, user, "new version published after review", published_by=user)
        revision.delete()
    return Practice.objects.prefetch_related("translations").get(pk=published.pk)


def set_translations(practice: Practice, translations: list[dict[str, str]]) -> None:
    wanted = {
        t["language"]: t
        for t in translations
        if t.get("language") and t.get("language") != practice.language and t.get("title")
    }
    practice.translations.exclude(language__in=list(wanted)).delete()
    for language, item in wanted.items():
        PracticeTranslation.objects.update_or_create(
            practice=practice,
            language=language,
            defaults={"title": item["title"], "summary": item.get("summary", "")},
        )


def submit(practice: Practice, user: Any) -> Practice:
    if not can_edit(user, practice):
        raise WorkflowError("only an editor of the practice's organisation may submit it")
    if practice.status not in (Status.DRAFT, Status.RETURNED):
        raise WorkflowError(f"a practice that is {practice.status} cannot be submitted")
    with transaction.atomic():
        practice.status = Status.SUBMITTED
        practice.review_round += 1
        practice.save(update_fields=["status", "review_round", "updated_at"])
        snapshot(practice, user, "submitted")
    return practice


def active_reviews(practice: Practice) -> list[ReviewAssignment]:
    return [
        r
        for r in practice.reviews.filter(round=practice.review_round).select_related("reviewer")
        if r.decision != ReviewAssignment.Decision.RECUSED
    ]


def eligible_reviewers(practice: Practice) -> QuerySet[Any]:
    """Who may still be assigned to review ``practice`` in its current round.

    Active practices supervisors (or admins, or superusers), neither its author nor members of
    its owning organisation, and not already assigned in this round (a recused reviewer
    included).
    """
    names = [group_name(MODULE, role) for role in ("supervisor", "admin")]
    people = get_user_model().objects.filter(
        Q(groups__name__in=names) | Q(is_superuser=True), is_active=True
    )
    if practice.created_by_id is not None:
        people = people.exclude(pk=practice.created_by_id)
    if practice.owner_organisation_id is not None:
        people = people.exclude(profile__organisation_id=practice.owner_organisation_id)
    assigned = practice.reviews.filter(round=practice.review_round).values("reviewer_id")
    return people.exclude(pk__in=assigned).distinct().order_by("username")


def assign_reviewer(
    practice: Practice, reviewer: Any, by: Any, *, due_on: datetime.date | None = None
) -> ReviewAssignment:
    """An admin assigns one of the two reviewers (a supervisor, not from the authors' side).

    The review is due ``REVIEW_DAYS`` after the assignment unless ``due_on`` says otherwise;
    the reviewer is told by e-mail (if they chose to be).
    """
    if not has_role(by, MODULE, "admin"):
        raise WorkflowError("only a practices admin assigns reviewers")
    if practice.status not in (Status.SUBMITTED, Status.IN_REVIEW):
        raise WorkflowError("reviewers are assigned to submitted practices only")
    if not has_role(reviewer, MODULE, "supervisor"):
        raise WorkflowError(f"{reviewer} is not a reviewer (practices supervisor role)")
    if reviewer.pk == practice.created_by_id:
        raise WorkflowError("the author cannot review their own practice")
    org = _org_id(reviewer)
    if org is not None and org == practice.owner_organisation_id:
        raise WorkflowError("a reviewer cannot belong to the practice's own organisation")
    if len(active_reviews(practice)) >= REVIEWERS_NEEDED:
        raise WorkflowError(f"this practice already has {REVIEWERS_NEEDED} reviewers")
    if practice.reviews.filter(round=practice.review_round, reviewer=reviewer).exists():
        raise WorkflowError(f"{reviewer} was already assigned in this round")
    with transaction.atomic():
        assignment = ReviewAssignment.objects.create(
            practice=practice,
            version=practice.version,
            round=practice.review_round,
            reviewer=reviewer,
            assigned_by=by,
            due_on=due_on or timezone.localdate() + datetime.timedelta(days=REVIEW_DAYS),
        )
        if practice.status == Status.SUBMITTED:
            practice.status = Status.IN_REVIEW
            practice.save(update_fields=["status", "updated_at"])
        notifications.review_assigned(assignment)
    return assignment


def review(
    assignment: ReviewAssignment,
    user: Any,
    *,
    conflict: bool,
    conflict_statement: str = "",
    label: str = "",
    decision: str = "",
    comments: str = "",
) -> ReviewAssignment:
    """A reviewer's declaration and verdict; concludes the review when both have spoken."""
    practice = assignment.practice
    if assignment.reviewer_id != user.pk or not has_role(user, MODULE, "supervisor"):
        raise WorkflowError("only the assigned reviewer may review")
    if practice.status != Status.IN_REVIEW or assignment.round != practice.review_round:
        raise WorkflowError("this review is closed")
    if assignment.decision == ReviewAssignment.Decision.RECUSED:
        raise WorkflowError("you declared a conflict of interest for this review")
    if conflict and not conflict_statement.strip():
        raise WorkflowError("describe the conflict of interest")
    if not conflict:
        if decision not in (ReviewAssignment.Decision.PUBLISH, ReviewAssignment.Decision.RETURN):
            raise WorkflowError("choose to publish or to return the practice")
        if decision == ReviewAssignment.Decision.PUBLISH and label not in EvidenceLabel.values:
            raise WorkflowError(f"unknown evidence label {label!r}")
        if decision == ReviewAssignment.Decision.PUBLISH and not label:
            raise WorkflowError("set the evidence label to publish")
        if decision == ReviewAssignment.Decision.RETURN and not comments.strip():
            raise WorkflowError("say what the author must change")
    with transaction.atomic():
        assignment.conflict_declared = conflict
        assignment.conflict_statement = conflict_statement.strip()
        if conflict:
            assignment.decision = ReviewAssignment.Decision.RECUSED
            assignment.label = ""
        else:
            assignment.decision = decision
            assignment.label = label if decision == ReviewAssignment.Decision.PUBLISH else ""
            assignment.comments = comments
        assignment.decided_at = timezone.now()
        assignment.save()
        conclude(practice, user)
    return assignment


def conclude(practice: Practice, user: Any = None) -> str:
    """Publish when both reviewers agree on publishing with the same label; return on any return.

    Returns what happened: ``published``, ``returned``, ``disagree`` or ``waiting``.
    """
    from rempart.practices.search import index_practices

    reviews = active_reviews(practice)
    decided = [r for r in reviews if r.decision]
    if any(r.decision == ReviewAssignment.Decision.RETURN for r in decided):
        practice.status = Status.RETURNED
        practice.save(update_fields=["status", "updated_at"])
        snapshot(practice, user, "returned with comments")
        index_practices([practice])
        return "returned"
    if len(decided) < REVIEWERS_NEEDED:
        return "waiting"
    labels = {r.label for r in decided}
    if len(labels) != 1:
        return "disagree"
    if practice.revision_of_id is not None:
        published = _publish_revision(practice, labels.pop(), user)
        index_practices([published])
        notifications.practice_published(published)
        return "published"
    practice.status = Status.PUBLISHED
    practice.evidence_label = labels.pop()
    practice.published_at = timezone.now()
    practice.save(update_fields=["status", "evidence_label", "published_at", "updated_at"])
    snapshot(practice, user, "published after review", published_by=user)
    index_practices([practice])
    notifications.practice_published(practice)
    return "published"


def return_comments(practice: Practice) -> list[ReviewAssignment]:
    """The reviews of the last round that carry comments (what the author must address)."""
    return [r for r in active_reviews(practice) if r.comments]
