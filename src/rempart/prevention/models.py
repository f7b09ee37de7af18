"""The prevention and support unit: multi-agency casework for people at risk of violent
radicalisation and their families (issue 14; docs/privacy.md is the module's impact assessment).

A :class:`Case` follows the steps of France's CPRAF units, the UK's Channel panels and the
Dutch person-centred approach, with Primero's case workflow (new, assessment, case plan,
services, closed or reopened): referral → screening → consent → case consultation → support
plan (approved) → monitoring → closure (approved) → reopening (:mod:`.workflow`).

Personal data (names, concerns, notes, minutes, the person's own words) is held in
:class:`~.crypto.EncryptedTextField` columns, named in each model's ``audit_redact`` so the
audit trail records that they changed, never what they say. ``__str__`` of every model gives
only the case's reference, which is not personal.

Structured professional judgement, never prediction (EU AI Act, art. 5(1)(d)): the assessment
framework's factors take written evidence and a categorical *presence* a professional chooses;
the overall judgement is the professional's own, written in words. No model here has a numeric
field about a person (a test walks them), nothing adds factors up, ranks or predicts.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as conf
from django.db import models
from django.utils.translation import gettext_lazy as _

from rempart.core.models import City, Organisation
from rempart.prevention.crypto import EncryptedTextField

USER = conf.AUTH_USER_MODEL


class Status(models.TextChoices):
    REFERRED = "referred", _("Referred, awaiting screening")
    ACCEPTED = "accepted", _("Accepted, awaiting consent")
    CONSENTED = "consented", _("Consent recorded, awaiting case consultation")
    CONSULTED = "consulted", _("Consulted, support plan in preparation")
    MONITORING = "monitoring", _("Support plan approved, monitoring")
    CLOSURE_REQUESTED = "closure_requested", _("Closure awaiting approval")
    CLOSED = "closed", _("Closed")


class Source(models.TextChoices):
    """Who refers (the observatory counts referrals by source)."""

    EDUCATION = "education", _("Education")
    HEALTH = "health", _("Health")
    SOCIAL = "social", _("Social services")
    YOUTH_JUSTICE = "youth_justice", _("Youth justice")
    POLICE = "police", _("Police")
    FAMILY = "family", _("Family or friends")
    COMMUNITY = "community", _("Community organisation")
    HOTLINE = "hotline", _("National hotline")
    OTHER = "other", _("Other")


class AgeBand(models.TextChoices):
    """Age at referral, the only age kept in clear (for minors' retention and statistics)."""

    UNDER_13 = "under_13", _("under 13")
    FROM_13_TO_17 = "13_17", _("13 to 17")
    FROM_18_TO_25 = "18_25", _("18 to 25")
    OVER_25 = "over_25", _("over 25")

    @classmethod
    def minors(cls) -> tuple[str, ...]:
        return (cls.UNDER_13.value, cls.FROM_13_TO_17.value)


class Screening(models.TextChoices):
    ACCEPT = "accept", _("Accept for multi-agency support")
    NO_FURTHER_ACTION = "nfa", _("No further action")
    SIGNPOST = "signpost", _("Signpost to another service")


class ClosureReason(models.TextChoices):
    NO_FURTHER_ACTION = "nfa", _("No further action at screening")
    SIGNPOSTED = "signposted", _("Signposted at screening")
    GOALS_MET = "goals_met", _("Support goals met")
    DECLINED = "declined", _("Person declined or withdrew consent")
    TRANSFERRED = "transferred", _("Transferred to another service")
    MOVED = "moved", _("Person moved away")
    ESCALATED = "escalated", _("Referred to the police or justice")
    OTHER = "other", _("Other")


class Case(models.Model):
    """One person supported by the unit, from referral to closure.

    ``reference`` (e.g. ``TLS-2026-0007``) is the only thing about a case that leaves it: in
    audit entries, alerts, deletion certificates and refusals.
    """

    city_path = "city"
    audit_redact = (
        "person_name",
        "birth_date",
        "concern",
        "referrer_name",
        "screening_reasons",
        "person_view",
        "family_view",
        "closure_outcome",
        "legal_hold_reason",
        "summary",
    )

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="prevention_cases")
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.REFERRED
    )
    # the person
    person_name = EncryptedTextField(_("name of the person"))
    birth_date = EncryptedTextField(_("date of birth"), blank=True)
    age_band = models.CharField(_("age at referral"), max_length=12, choices=AgeBand.choices)
    # the referral
    referrer_name = EncryptedTextField(_("referred by"))
    referrer_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prevention_referrals",
        verbose_name=_("referring organisation"),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    concern = EncryptedTextField(_("the concern, in the referrer's own words"))
    referred_on = models.DateField(_("referred on"))
    person_informed = models.BooleanField(_("the person was told of the referral"), default=False)
    person_informed_on = models.DateField(_("told on"), null=True, blank=True)
    # screening
    screening = models.CharField(
        _("screening decision"), max_length=12, choices=Screening.choices, blank=True
    )
    screening_reasons = EncryptedTextField(_("reasons"), blank=True)
    screened_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    screened_at = models.DateTimeField(null=True, blank=True)
    first_contact_on = models.DateField(_("first contact with the person"), null=True, blank=True)
    # lead
    lead_worker = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prevention_cases_led",
        verbose_name=_("lead worker"),
    )
    lead_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="prevention_cases_led",
        verbose_name=_("lead organisation"),
    )
    # the person's and family's own view, and the summary conclusion
    person_view = EncryptedTextField(_("the person's own view, in their words"), blank=True)
    family_view = EncryptedTextField(_("the family's view, in their words"), blank=True)
    summary = EncryptedTextField(_("summary conclusion"), blank=True)
    # plan and closure approvals
    plan_approved_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    plan_approved_at = models.DateTimeField(null=True, blank=True)
    closure_reason = models.CharField(
        _("closure reason"), max_length=16, choices=ClosureReason.choices, blank=True
    )
    closure_outcome = EncryptedTextField(_("outcome at closure"), blank=True)
    closure_requested_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closure_approved_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    status_before_closure = models.CharField(max_length=24, choices=Status.choices, blank=True)
    # rights and retention
    restricted = models.BooleanField(
        _("processing restricted"),
        default=False,
        help_text=_("GDPR art. 18: the record is kept but not used while restricted"),
    )
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    legal_hold_reason = EncryptedTextField(_("reason for the legal hold"), blank=True)
    is_demo = models.BooleanField(_("fictional demo case"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-referred_on", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        permissions = [
            ("override_consent", "Can record a consent override"),
            ("approve_plan", "Can approve a support plan"),
            ("approve_closure", "Can approve a closure"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_minor(self) -> bool:
        return self.age_band in AgeBand.minors()

    def initials(self) -> str:
        return "".join(part[:1].upper() + "." for part in self.person_name.split()[:3])


class TeamMember(models.Model):
    """A named person of a named organisation on the case team, possibly for a time only
    (e.g. for a case consultation). ``partner`` members see only the actions assigned to
    their organisation and what the team shares."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead worker")
        MEMBER = "member", _("Case team member")
        PARTNER = "partner", _("Partner (assigned actions only)")

    city_path = "case__city"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="prevention_teams")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.MEMBER)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    added_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.case.reference}: {self.get_role_display()}"


class Handover(models.Model):
    """A case handed from one worker (and agency) to another; consent follows the case."""

    city_path = "case__city"
    audit_redact = ("note",)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="handovers")
    from_user = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_user = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    from_organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = EncryptedTextField(_("note"), blank=True)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")

    def __str__(self) -> str:
        return f"{self.case.reference}: handover"


class Consent(models.Model):
    """One entry of the consent ledger: what the person (or, for a minor, a parent) agreed to
    share, with whom, under which notice, and when it was given and withdrawn; or an override
    by someone holding the permission, with the justification."""

    city_path = "case__city"
    audit_redact = ("given_by_name", "override_reason")

    class Purpose(models.TextChoices):
        SHARE_WITH_PARTNERS = "share", _("Share information with the case team's agencies")
        SUPPORT = "support", _("Take part in voluntary support")
        MENTORING = "mentoring", _("Mentoring")
        FAMILY = "family", _("Contact with the family")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    recipients = models.ManyToManyField(
        Organisation, related_name="+", blank=True, verbose_name=_("recipients")
    )
    notice_version = models.CharField(_("privacy notice version"), max_length=32)
    given_on = models.DateField(_("given on"), null=True, blank=True)
    given_by_name = EncryptedTextField(_("given by"), blank=True)
    parental = models.BooleanField(_("parental consent (minor)"), default=False)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    override = models.BooleanField(_("override without consent"), default=False)
    override_reason = EncryptedTextField(_("justification of the override"), blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.case.reference}: consent ({self.purpose})"

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None and (self.override or self.given_on is not None)


class Consultation(models.Model):
    """A multi-agency case consultation: who attended for which agency, minutes, decisions."""

    city_path = "case__city"
    audit_redact = ("attendees", "minutes", "decisions")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consultations")
    held_on = models.DateField(_("held on"))
    agencies = models.ManyToManyField(Organisation, related_name="+", verbose_name=_("agencies"))
    attendees = EncryptedTextField(_("attendees"))
    minutes = EncryptedTextField(_("minutes"))
    decisions = EncryptedTextField(_("decisions"))
    recorded_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.case.reference}: consultation"


class Action(models.Model):
    """One action of the support plan, carried by a partner organisation, owned by a person."""

    city_path = "case__city"
    audit_redact = ("description",)

    class Kind(models.TextChoices):
        MENTORING = "mentoring", _("Mentoring")
        FAMILY_SUPPORT = "family_support", _("Family support")
        EDUCATION = "education", _("Education")
        HEALTH = "health", _("Health")
        HOUSING = "housing", _("Housing")
        EMPLOYMENT = "employment", _("Employment")
        OTHER = "other", _("Other")

    class ActionStatus(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        STOPPED = "stopped", _("Stopped")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = EncryptedTextField(_("description"))
    partner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="prevention_actions",
        verbose_name=_("partner organisation"),
    )
    owner = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("owner")
    )
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    consent = models.ForeignKey(
        Consent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("depends on consent"),
    )
    stopped_reason = models.CharField(max_length=32, blank=True)
    shared_with_partner = models.BooleanField(
        _("description shared with the partner"), default=True
    )

    def __str__(self) -> str:
        return f"{self.case.reference}: {self.kind}"


class Factor(models.Model):
    """A factor of the unit's assessment framework (configurable per city), e.g. the UK
    Vulnerability Assessment Framework's engagement, intent and capability dimensions. A factor
    takes written evidence and a professional's categorical view, never a number."""

    city_path = "city"

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="prevention_factors")
    name = models.CharField(_("factor"), max_length=120)
    guidance = models.TextField(_("guidance"), blank=True)
    active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["position", "name"]
        unique_together = [("city", "name")]

    def __str__(self) -> str:
        return self.name


class Presence(models.TextChoices):
    """A professional's categorical view of one factor: words, never a scale to add up."""

    NOT_ASSESSED = "not_assessed", _("Not assessed")
    NOT_PRESENT = "not_present", _("Not present")
    PRESENT = "present", _("Present")
    UNCLEAR = "unclear", _("Unclear, more information needed")


class Review(models.Model):
    """A structured professional judgement: evidence per factor, significant changes since the
    last review, and the professional's own overall judgement in words."""

    city_path = "case__city"
    audit_redact = ("significant_changes", "judgement")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reviews")
    held_on = models.DateField(_("held on"))
    significant_changes = EncryptedTextField(_("significant changes since the last review"))
    judgement = EncryptedTextField(_("overall professional judgement"))
    by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.case.reference}: review"


class FactorEvidence(models.Model):
    city_path = "review__case__city"
    audit_redact = ("evidence",)

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="evidence")
    factor = models.ForeignKey(Factor, on_delete=models.PROTECT, related_name="+")
    presence = models.CharField(
        _("professional view"), max_length=16, choices=Presence.choices, default="not_assessed"
    )
    evidence = EncryptedTextField(_("evidence"), blank=True)

    def __str__(self) -> str:
        return f"{self.review.case.reference}: {self.factor.name}"


class BreakGlass(models.Model):
    """Emergency access to a case by someone outside its team: a reason, an expiry, and an
    alert to the unit's coordinators."""

    city_path = "case__city"
    audit_redact = ("reason",)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    reason = EncryptedTextField(_("reason"))
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.case.reference}: break-glass"


class RightsRequest(models.Model):
    """A data subject's request (GDPR arts. 15-21) and how it was handled."""

    city_path = "case__city"
    audit_redact = ("note",)

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access (art. 15)")
        RECTIFICATION = "rectification", _("Rectification (art. 16)")
        ERASURE = "erasure", _("Erasure (art. 17)")
        RESTRICTION = "restriction", _("Restriction (art. 18)")
        OBJECTION = "objection", _("Objection (art. 21)")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="rights_requests")
    kind = models.CharField(_("request"), max_length=16, choices=Kind.choices)
    received_on = models.DateField(_("received on"))
    note = EncryptedTextField(_("what was asked and what was done"))
    by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.case.reference}: {self.kind}"


class SubjectExport(models.Model):
    """An encrypted subject-access archive, deleted 30 days after it was made."""

    city_path = "city"

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+")
    case_reference = models.CharField(max_length=32)
    path = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.case_reference}: subject access export"


class DeletionCertificate(models.Model):
    """What the retention job deleted: a case's reference, the rule and when; no personal
    data. Its ``digest`` binds these fields (SHA-256) and is written to the audit trail."""

    city_path = "city"

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="+")
    case_reference = models.CharField(max_length=32)
    rule = models.CharField(max_length=40)
    closed_at = models.DateTimeField(null=True)
    deleted_at = models.DateTimeField()
    digest = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.case_reference}: deleted"


class Alert(models.Model):
    """Something a unit member must know (break-glass, withdrawn consent); names the case
    by reference only."""

    class Kind(models.TextChoices):
        BREAK_GLASS = "break_glass", _("Break-glass access")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn: actions stopped")
        ACCESS_EXPIRED = "access_expired", _("Access expired")

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="prevention_alerts")
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, related_name="+")
    case_reference = models.CharField(max_length=32)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.case_reference}: {self.kind}"

    def describe(self) -> Any:
        return self.get_kind_display()
