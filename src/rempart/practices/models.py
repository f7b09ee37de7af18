"""Practices toolbox and exchange: practice records, their review, links to sites, the exchange.

A :class:`Practice` follows the EMMIE frame of the College of Policing's Crime Reduction Toolkit
(Effect, Mechanism, Moderators, Implementation, Economic cost, each graded for strength of
evidence with EUCPN's strong/moderate/limited scale) and carries one overall label modelled on
RAN's collection ("inspiring", "peer reviewed") and CrimeSolutions' ratings (effective,
promising, no effect, harmful); see docs/practices.md.

Themes, audiences and settings are stored on the record (JSON lists, the source of truth, audited
as one change) and mirrored into :class:`PracticeFacet` rows and the facet columns of
:class:`SearchDocument`, derived indexes used to filter and count facets on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as conf
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rempart.core.models import City, Organisation, Site

#: Languages a record may be written in; each has a Snowball stemmer and a PostgreSQL config.
LANGUAGES: dict[str, str] = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "nl": "dutch",
}
LANGUAGE_CHOICES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("de", _("German")),
    ("es", _("Spanish")),
    ("it", _("Italian")),
    ("nl", _("Dutch")),
]


class Theme(models.TextChoices):
    RADICALISATION_PREVENTION = "radicalisation_prevention", _("Radicalisation prevention")
    DISENGAGEMENT = "disengagement", _("Disengagement and exit")
    PUBLIC_SPACE_PROTECTION = "public_space_protection", _("Public-space protection")
    JUVENILE_DELINQUENCY = "juvenile_delinquency", _("Juvenile delinquency")
    MULTI_AGENCY = "multi_agency", _("Multi-agency cooperation")
    FAMILY_SUPPORT = "family_support", _("Family support")
    EDUCATION = "education", _("Education")
    ONLINE_HATE = "online_hate", _("Online hate")
    COMMUNITY_POLICING = "community_policing", _("Community policing")
    VICTIM_SUPPORT = "victim_support", _("Victim support")
    CRISIS_RESPONSE = "crisis_response", _("Crisis response")
    TRAINING = "training", _("Training")
    ORGANISED_CRIME = "organised_crime", _("Trafficking and organised crime")
    EVALUATION = "evaluation", _("Evaluation and evidence")


class Audience(models.TextChoices):
    YOUNG_PEOPLE = "young_people", _("Young people")
    FAMILIES = "families", _("Families")
    PRACTITIONERS = "practitioners", _("Front-line practitioners")
    POLICE = "police", _("Police")
    TEACHERS = "teachers", _("Teachers")
    LOCAL_AUTHORITIES = "local_authorities", _("Local authorities")
    PRISON_STAFF = "prison_staff", _("Prison and probation staff")
    OFFENDERS = "offenders", _("Offenders and former extremists")
    GENERAL_PUBLIC = "general_public", _("General public")
    VICTIMS = "victims", _("Victims")
    BUSINESSES = "businesses", _("Businesses and event organisers")


class Setting(models.TextChoices):
    SCHOOL = "school", _("School")
    PRISON = "prison", _("Prison")
    STREET = "street", _("Street")
    ONLINE = "online", _("Online")
    FAMILY = "family", _("Family")
    NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")
    PUBLIC_SPACE = "public_space", _("Public space")


class Strength(models.TextChoices):
    """Strength of evidence (EUCPN grades, plus "none" when nothing was evaluated)."""

    NONE = "", _("Not assessed")
    LIMITED = "limited", _("Limited")
    MODERATE = "moderate", _("Moderate")
    STRONG = "strong", _("Strong")


class EvidenceLabel(models.TextChoices):
    """Overall label, set by reviewers only (RAN labels + CrimeSolutions ratings)."""

    NONE = "", _("Not labelled")
    INSPIRING = "inspiring", _("Inspiring")
    PROMISING = "promising", _("Promising")
    PEER_REVIEWED = "peer_reviewed", _("Peer reviewed")
    EFFECTIVE = "effective", _("Effective")
    NO_EFFECT = "no_effect", _("No effect")
    HARMFUL = "harmful", _("Harmful")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    RETURNED = "returned", _("Returned with comments")
    PUBLISHED = "published", _("Published")


EMMIE = ("effect", "mechanism", "moderators", "implementation", "economic")
EMMIE_LABELS = {
    "effect": _("Effect"),
    "mechanism": _("Mechanism"),
    "moderators": _("Moderators and context"),
    "implementation": _("Implementation"),
    "economic": _("Economic cost"),
}


class Practice(models.Model):
    """One practice or programme, in its original language, with translations and evidence."""

    ref = models.SlugField(_("reference"), max_length=120, unique=True)
    language = models.CharField(
        _("original language"), max_length=2, choices=LANGUAGE_CHOICES, default="en"
    )
    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"))
    problem = models.TextField(_("problem addressed"), blank=True)
    approach = models.TextField(_("approach"), blank=True)
    themes = models.JSONField(_("themes"), default=list, blank=True)
    audiences = models.JSONField(_("target audiences"), default=list, blank=True)
    settings = models.JSONField(_("settings"), default=list, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2")
    )
    city_name = models.CharField(_("city"), max_length=120, blank=True)
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    organisation_type = models.CharField(
        _("type of organisation"), max_length=32, choices=Organisation.Kind.choices, blank=True
    )
    start_year = models.PositiveSmallIntegerField(_("start year"), null=True, blank=True)
    end_year = models.PositiveSmallIntegerField(_("end year"), null=True, blank=True)
    cost = models.CharField(_("cost"), max_length=300, blank=True)
    funding = models.CharField(_("funding"), max_length=300, blank=True)
    effect = models.TextField(_("effect"), blank=True)
    effect_strength = models.CharField(
        _("effect: strength of evidence"), max_length=10, choices=Strength.choices, blank=True
    )
    mechanism = models.TextField(_("mechanism"), blank=True)
    mechanism_strength = models.CharField(
        _("mechanism: strength of evidence"), max_length=10, choices=Strength.choices, blank=True
    )
    moderators = models.TextField(_("moderators and context"), blank=True)
    moderators_strength = models.CharField(
        _("moderators: strength of evidence"), max_length=10, choices=Strength.choices, blank=True
    )
    implementation = models.TextField(_("implementation"), blank=True)
    implementation_strength = models.CharField(
        _("implementation: strength of evidence"),
        max_length=10,
        choices=Strength.choices,
        blank=True,
    )
    economic = models.TextField(_("economic cost"), blank=True)
    economic_strength = models.CharField(
        _("economic cost: strength of evidence"),
        max_length=10,
        choices=Strength.choices,
        blank=True,
    )
    evidence_label = models.CharField(
        _("evidence label"), max_length=16, choices=EvidenceLabel.choices, blank=True
    )
    evaluation_references = models.TextField(
        _("evaluation references"), blank=True, help_text=_("One reference per line.")
    )
    links = models.JSONField(_("links"), default=list, blank=True)
    contacts = models.JSONField(_("contacts"), default=list, blank=True)
    licence = models.CharField(_("licence"), max_length=60, default="CC-BY-4.0")
    source_url = models.URLField(_("source"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    review_round = models.PositiveIntegerField(_("review round"), default=0)
    city = models.ForeignKey(
        City,
        verbose_name=_("rempart city"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practices",
    )
    owner_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("owning organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practices",
    )
    created_by = models.ForeignKey(
        conf.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practices_created",
    )
    is_demo = models.BooleanField(_("demo data"), default=False)
    revision_of = models.OneToOneField(
        "self",
        verbose_name=_("new version of"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="revision",
        help_text=_(
            "Set on the working copy of a published practice: it goes through review and, once "
            "published, replaces the published text (which stays visible meanwhile)."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    # Contacts are personal data: kept out of the audit trail's diffs.
    audit_redact = ("contacts",)

    class Meta:
        ordering = ["title"]
        verbose_name = _("practice")
        verbose_name_plural = _("practices")
        indexes = [models.Index(fields=["status", "evidence_label"])]

    def __str__(self) -> str:
        return f"{self.title} (demo)" if self.is_demo else self.title

    def get_absolute_url(self) -> str:
        return reverse("practices:detail", args=[self.pk])

    def emmie_rows(self) -> list[tuple[str, str, str, str]]:
        """(key, label, text, strength display) per EMMIE dimension."""
        rows = []
        for key in EMMIE:
            strength = getattr(self, f"{key}_strength")
            rows.append(
                (
                    key,
                    str(EMMIE_LABELS[key]),
                    getattr(self, key),
                    str(Strength(strength).label) if strength else str(Strength.NONE.label),
                )
            )
        return rows

    def translation(self, language: str) -> tuple[str, str]:
        """(title, summary) in ``language`` when translated, else the original."""
        if language == self.language:
            return self.title, self.summary
        for item in self.translations.all():
            if item.language == language:
                return item.title, item.summary
        return self.title, self.summary


class PracticeTranslation(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGE_CHOICES)
    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"))

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "language"], name="practice_translation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.language}]"


class PracticeVersion(models.Model):
    """A frozen copy of a practice as it was (the record's export form), one per version.

    ``created_by`` is the version's author, set when the version is first stored and never
    changed by later steps (submission, review, publication); ``published_by`` is whoever
    completed its publication (the reviewer whose verdict concluded the review, or the
    importer). Its reviewers are the :class:`ReviewAssignment` rows of the same version.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    data = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices)
    created_by = models.ForeignKey(
        conf.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    published_by = models.ForeignKey(
        conf.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practice_versions_published",
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    audit_redact = ("data",)  # holds contacts

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "number"], name="practice_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.practice_id} v{self.number}"


class Attachment(models.Model):
    """A PDF attached to a practice (checked to be a PDF, at most MAX_BYTES).

    The file lives in the default storage under ``path``; a plain text field rather than a
    FileField so the audit trail records the path (its snapshot serialises field values as JSON).
    """

    MAX_BYTES = 10 * 1024 * 1024

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=200)
    path = models.CharField(_("file"), max_length=300)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        conf.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class PracticeFacet(models.Model):
    """Derived index row: one (kind, value) of a practice, for facet filters and counts."""

    audit_exempt = True

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="facets")
    kind = models.CharField(max_length=16)
    value = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["kind", "value"])]

    def __str__(self) -> str:
        return f"{self.kind}={self.value}"


class SearchDocument(models.Model):
    """Derived index row: the searchable text of a practice (see :mod:`rempart.practices.search`).

    On SQLite the stemmed tokens also live in the FTS5 table ``practices_fts`` (rowid = practice
    id); on PostgreSQL the ``vector`` tsvector column and its GIN index are added by migration
    0002 (they do not exist on SQLite).
    """

    audit_exempt = True

    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    published = models.BooleanField(default=False, db_index=True)
    title_key = models.CharField(max_length=300, db_index=True)
    # Facets of the practice, denormalised so one pass over the matching rows counts them all:
    # a bit per known value of the multi-valued kinds (``search.FACET_BITS``), the single-valued
    # kinds as they are; ``facet_extra`` marks a practice holding a value outside the known
    # vocabularies (counted from PracticeFacet rows instead, so counts stay exact).
    theme_bits = models.IntegerField(default=0)
    audience_bits = models.IntegerField(default=0)
    setting_bits = models.IntegerField(default=0)
    country = models.CharField(max_length=2, blank=True)
    evidence = models.CharField(max_length=16, default="none")
    facet_extra = models.BooleanField(default=False)
    # The index terms (rempart.practices.analysis), space separated, in text order: what the
    # database's full-text index holds, read back to rank the best candidates the same way on
    # SQLite and PostgreSQL, and to keep the vocabulary's document counts.
    title_terms = models.TextField(default="")
    body_terms = models.TextField(default="")
    length = models.PositiveIntegerField(default=0)  # number of index terms

    class Meta:
        indexes = [
            # browsing without a query counts facets over every published row: index-only
            models.Index(fields=["theme_bits"], name="practices_sd_theme_bits"),
            models.Index(fields=["audience_bits"], name="practices_sd_audience_bits"),
            models.Index(fields=["setting_bits"], name="practices_sd_setting_bits"),
            models.Index(fields=["country"], name="practices_sd_country"),
            models.Index(fields=["evidence"], name="practices_sd_evidence"),
        ]

    def __str__(self) -> str:
        return f"search document of {self.practice_id}"


class SearchTerm(models.Model):
    """Derived index row: an index term and the number of published practices holding it.

    Kept by the indexer on both databases: the inverse document frequency of the ranking, and
    the vocabulary a misspelt query word is corrected against. ``rempart practices reindex``
    rebuilds it.
    """

    audit_exempt = True

    term = models.CharField(max_length=60, primary_key=True)
    # a plain integer: the indexer adds negative counts (documents removed) in one upsert
    documents = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.term} ({self.documents})"


class ReviewAssignment(models.Model):
    """A reviewer assigned to one version of a practice, with a conflict-of-interest declaration."""

    class Decision(models.TextChoices):
        PENDING = "", _("Pending")
        PUBLISH = "publish", _("Publish")
        RETURN = "return", _("Return to the author")
        RECUSED = "recused", _("Recused (conflict of interest)")

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="reviews")
    version = models.PositiveIntegerField()
    round = models.PositiveIntegerField(default=1)
    reviewer = models.ForeignKey(
        conf.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_reviews"
    )
    assigned_by = models.ForeignKey(
        conf.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="practice_review_assignments",
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    conflict_declared = models.BooleanField(_("conflict of interest declared"), null=True)
    conflict_statement = models.TextField(_("conflict of interest statement"), blank=True)
    label = models.CharField(
        _("evidence label"), max_length=16, choices=EvidenceLabel.choices, blank=True
    )
    comments = models.TextField(_("comments"), blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(_("review due"), null=True, blank=True)
    #: when the reviewer was last reminded that the review is due (at most one reminder a day)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "round", "reviewer"], name="practice_review_unique"
            )
        ]

    def __str__(self) -> str:
        return f"review of {self.practice_id} v{self.version} by {self.reviewer_id}"


class SiteLink(models.Model):
    """A practice applied at a site ("what we applied here").

    A site foreign key for now; when the access module's zones exist a nullable ``zone`` key
    can join it (one of the two set), rather than a generic relation the database cannot check.
    """

    # where its city (and lane, zone) are, for rempart.core.access_rules
    city_path = "site__city"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="site_links")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="practice_links")
    note = models.TextField(_("what was applied"), blank=True)
    applied_since = models.DateField(_("applied since"), null=True, blank=True)
    created_by = models.ForeignKey(
        conf.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "site"], name="practice_site_unique")
        ]

    def __str__(self) -> str:
        return f"{self.practice} @ {self.site}"


# --- Exchange ------------------------------------------------------------------------------


class MemberProfile(models.Model):
    """What a member shows the other members; each ``show_*`` flag is the member's choice."""

    user = models.OneToOneField(
        conf.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practices_profile"
    )
    display_name = models.CharField(_("name shown"), max_length=150)
    job_title = models.CharField(_("role"), max_length=150, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    expertise = models.JSONField(_("expertise"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    listed = models.BooleanField(_("appear in the members directory"), default=True)
    show_job_title = models.BooleanField(_("show my role"), default=True)
    show_organisation = models.BooleanField(_("show my organisation"), default=True)
    show_city = models.BooleanField(_("show my city"), default=True)
    show_expertise = models.BooleanField(_("show my expertise"), default=True)
    show_languages = models.BooleanField(_("show my languages"), default=True)
    show_email = models.BooleanField(_("show my e-mail"), default=False)
    accepts_requests = models.BooleanField(
        _("route “who has done this?” requests to me"), default=True
    )
    # E-mail notifications the member chose to receive (see rempart.practices.notifications)
    # and the language they are written in.
    email_language = models.CharField(
        _("language of my e-mails"), max_length=8, choices=conf.LANGUAGES, default="en"
    )
    notify_review_assigned = models.BooleanField(
        _("e-mail me when I am assigned a review"), default=True
    )
    notify_review_due = models.BooleanField(
        _("e-mail me when a review of mine is due"), default=True
    )
    notify_published = models.BooleanField(
        _("e-mail me when a practice I wrote is published"), default=True
    )
    notify_request_answered = models.BooleanField(
        _("e-mail me when someone answers my “who has done this?” question"), default=True
    )
    notify_request_routed = models.BooleanField(
        _("e-mail me when a “who has done this?” question is routed to me"), default=True
    )
    notify_waiting_list = models.BooleanField(
        _("e-mail me when a place frees up for me on an event's waiting list"), default=True
    )
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    def public_fields(self) -> dict[str, Any]:
        """Only what the member chose to show."""
        shown: dict[str, Any] = {"name": self.display_name}
        for field in ("job_title", "organisation", "city", "expertise", "languages", "email"):
            if getattr(self, f"show_{field}"):
                shown[field] = getattr(self, field)
        return shown


class WorkingGroup(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    theme = models.CharField(_("theme"), max_length=40, choices=Theme.choices, blank=True)
    members = models.ManyToManyField(
        conf.AUTH_USER_MODEL, related_name="practice_groups", blank=True
    )
    #: who answers for the group: "who has done this?" questions on its theme that match no
    #: member's expertise can be sent to them instead
    coordinators = models.ManyToManyField(
        conf.AUTH_USER_MODEL,
        verbose_name=_("coordinators"),
        related_name="practice_groups_coordinated",
        blank=True,
    )
    created_by = models.ForeignKey(
        conf.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="practice_groups_created",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Thread(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="threads")
    title = models.CharField(_("title"), max_length=200)
    created_by = models.ForeignKey(conf.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(conf.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"post {self.pk} in {self.thread_id}"


class Event(models.Model):
    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        FIELD_VISIT = "field_visit", _("Field visit")
        STUDY_VISIT = "study_visit", _("Study visit")
        TRAINING = "training", _("Training")

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("capacity"))
    practice = models.ForeignKey(
        Practice, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    organiser = models.ForeignKey(conf.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return self.title


class Registration(models.Model):
    class State(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        conf.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_registrations"
    )
    state = models.CharField(max_length=10, choices=State.choices)
    registered_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["registered_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="practice_registration_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.event_id}: {self.state}"


class HelpRequest(models.Model):
    """A "who has done this?" question, routed to members whose expertise matches its themes."""

    author = models.ForeignKey(
        conf.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_requests"
    )
    question = models.TextField(_("question"))
    themes = models.JSONField(_("themes"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    closed = models.BooleanField(default=False)
    routed_to = models.ManyToManyField(
        conf.AUTH_USER_MODEL, related_name="practice_requests_routed", blank=True
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.question[:80]


class HelpAnswer(models.Model):
    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(conf.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    body = models.TextField(_("answer"))
    practice = models.ForeignKey(Practice, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"answer {self.pk}"
