"""Funding: calls and their rules, draft consortia, and the CORDIS record of past projects.

Amounts are exact decimals in euros (``*_eur``), never floats. Calls are shared by every city
(they are public); consortia belong to a city and to the organisation that drafts them.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from rempart.funding.eligibility import LEGAL_TYPES, MEMBER_ROLES, Member


class Programme(models.TextChoices):
    ISF = "isf", _("Internal Security Fund")
    HORIZON = "horizon", _("Horizon Europe")
    OTHER = "other", _("Other programme")


class Call(models.Model):
    """A call for proposals (one topic of it), with its eligibility rules as data."""

    programme = models.CharField(_("programme"), max_length=20, choices=Programme.choices)
    call_id = models.CharField(_("call"), max_length=100)
    topic_id = models.CharField(_("topic"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=300)
    budget_eur = models.DecimalField(
        _("budget (EUR)"), null=True, blank=True, max_digits=15, decimal_places=2
    )
    grant_min_eur = models.DecimalField(
        _("smallest grant (EUR)"), null=True, blank=True, max_digits=15, decimal_places=2
    )
    grant_max_eur = models.DecimalField(
        _("largest grant (EUR)"), null=True, blank=True, max_digits=15, decimal_places=2
    )
    cofunding_rate = models.DecimalField(
        _("co-funding rate"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("Share of eligible costs the EU pays, from 0 to 1 (e.g. 0.9)."),
    )
    opens_at = models.DateTimeField(_("opens"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    action_type = models.CharField(_("type of action"), max_length=60, blank=True)
    rules = models.JSONField(_("eligibility rules"), default=list, blank=True)
    url = models.URLField(_("call page"), blank=True)
    source = models.CharField(_("source"), max_length=20, default="manual")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deadline_at", "topic_id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")

    def __str__(self) -> str:
        return f"{self.topic_id}: {self.title}"


class Consortium(models.Model):
    """A draft consortium of a city's organisation, checked against the calls."""

    city_path = "city"

    city = models.ForeignKey("core.City", on_delete=models.CASCADE, related_name="consortia")
    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.CASCADE, related_name="consortia"
    )
    name = models.CharField(_("name"), max_length=200)
    call = models.ForeignKey(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="consortia"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("consortium")
        verbose_name_plural = _("consortia")

    def __str__(self) -> str:
        return self.name

    def members_for_check(self) -> list[Member]:
        return [m.as_member() for m in self.members.all()]


class ConsortiumMember(models.Model):
    city_path = "consortium__city"

    consortium = models.ForeignKey(Consortium, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("organisation"), max_length=300)
    country = models.CharField(_("country"), max_length=2)
    legal_type = models.CharField(_("legal type"), max_length=20, choices=list(LEGAL_TYPES.items()))
    role = models.CharField(
        _("role"), max_length=20, choices=list(MEMBER_ROLES.items()), default="beneficiary"
    )
    group = models.CharField(
        _("controlled by"),
        max_length=100,
        blank=True,
        help_text=_(
            "Members with the same entry here are not independent of each other (one controls "
            "the other, or one organisation controls both)."
        ),
    )
    cordis_organisation_id = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("consortium member")
        verbose_name_plural = _("consortium members")

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"

    def as_member(self) -> Member:
        return Member(self.name, self.country, self.legal_type, self.role, self.group)


class CordisProject(models.Model):
    """A project of the CORDIS bulk files (public data, CC BY 4.0)."""

    audit_exempt = True  # bulk public data; each import is recorded by one summary entry

    grant_id = models.PositiveBigIntegerField(primary_key=True)
    acronym = models.CharField(max_length=40)
    title = models.CharField(max_length=500)
    status = models.CharField(max_length=20, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    total_cost_eur = models.DecimalField(null=True, blank=True, max_digits=15, decimal_places=2)
    ec_max_contribution_eur = models.DecimalField(
        null=True, blank=True, max_digits=15, decimal_places=2
    )
    legal_basis = models.CharField(max_length=100, blank=True)
    topics = models.CharField(max_length=500, blank=True)
    framework = models.CharField(max_length=20, blank=True)
    funding_scheme = models.CharField(max_length=60, blank=True)
    objective = models.TextField(blank=True)
    security_related = models.BooleanField(default=False, db_index=True)

    class Meta:
        ordering = ["acronym"]

    def __str__(self) -> str:
        return f"{self.acronym} ({self.grant_id})"


class CordisParticipation(models.Model):
    """One organisation's part in a CORDIS project."""

    audit_exempt = True

    project = models.ForeignKey(
        CordisProject, on_delete=models.CASCADE, related_name="participations"
    )
    organisation_id = models.CharField(max_length=20, db_index=True)
    name = models.CharField(max_length=300)
    short_name = models.CharField(max_length=60, blank=True)
    country = models.CharField(max_length=2, db_index=True)
    city = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=20)
    activity_type = models.CharField(max_length=3, blank=True)
    legal_type = models.CharField(max_length=20, db_index=True)
    ec_contribution_eur = models.DecimalField(
        null=True, blank=True, max_digits=15, decimal_places=2
    )

    class Meta:
        ordering = ["project_id", "pk"]

    def __str__(self) -> str:
        return f"{self.name} in {self.project_id}"


class CostCategory(models.TextChoices):
    PERSONNEL = "personnel", _("A. Personnel")
    SUBCONTRACTING = "subcontracting", _("B. Subcontracting")
    TRAVEL = "travel", _("C.1 Travel and subsistence")
    EQUIPMENT = "equipment", _("C.2 Equipment")
    OTHER_GOODS = "other_goods", _("C.3 Other goods, works and services")
    OTHER_COSTS = "other_costs", _("D. Other cost categories")


class FundedProject(models.Model):
    """A grant the city takes part in: its agreement, partners, budget and deadlines."""

    city_path = "city"

    city = models.ForeignKey("core.City", on_delete=models.CASCADE, related_name="funded_projects")
    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.CASCADE, related_name="funded_projects"
    )
    programme = models.CharField(_("programme"), max_length=20, choices=Programme.choices)
    call = models.ForeignKey(Call, on_delete=models.SET_NULL, null=True, blank=True)
    grant_agreement = models.CharField(_("grant agreement"), max_length=40)
    acronym = models.CharField(_("acronym"), max_length=40)
    title = models.CharField(_("title"), max_length=300)
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    eu_contribution_eur = models.DecimalField(
        _("EU contribution (EUR)"), max_digits=15, decimal_places=2, null=True, blank=True
    )
    funding_rate = models.DecimalField(
        _("funding rate"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("1.000"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    indirect_rate = models.DecimalField(
        _("indirect cost rate"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.250"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    lump_sum_eur = models.DecimalField(
        _("lump sum (EUR)"), max_digits=15, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["-starts_on", "acronym"]
        verbose_name = _("funded project")
        verbose_name_plural = _("funded projects")

    def __str__(self) -> str:
        return f"{self.acronym} ({self.grant_agreement})"


class ProjectPartner(models.Model):
    city_path = "project__city"

    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(_("organisation"), max_length=300)
    country = models.CharField(_("country"), max_length=2)
    role = models.CharField(
        _("role"), max_length=20, choices=list(MEMBER_ROLES.items()), default="beneficiary"
    )

    class Meta:
        ordering = ["pk"]
        unique_together = [("project", "name")]

    def __str__(self) -> str:
        return self.name


class WorkPackage(models.Model):
    city_path = "project__city"

    project = models.ForeignKey(
        FundedProject, on_delete=models.CASCADE, related_name="work_packages"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    lump_sum_share_eur = models.DecimalField(
        _("lump sum share (EUR)"), max_digits=15, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["number"]
        unique_together = [("project", "number")]

    def __str__(self) -> str:
        return f"WP{self.number} {self.title}"


class BudgetLine(models.Model):
    city_path = "project__city"

    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="budget")
    partner = models.ForeignKey(ProjectPartner, on_delete=models.CASCADE, related_name="budget")
    work_package = models.ForeignKey(
        WorkPackage, on_delete=models.SET_NULL, null=True, blank=True, related_name="budget"
    )
    category = models.CharField(_("category"), max_length=20, choices=CostCategory.choices)
    amount_eur = models.DecimalField(_("amount (EUR)"), max_digits=15, decimal_places=2)
    person_months = models.DecimalField(
        _("person-months"), max_digits=7, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["partner_id", "category"]

    def __str__(self) -> str:
        return f"{self.category}: {self.amount_eur} EUR"


class Spending(models.Model):
    """Money spent, and what it bought: a lane, a barrier, an assessment, a practice..."""

    city_path = "project__city"

    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="spending")
    partner = models.ForeignKey(ProjectPartner, on_delete=models.CASCADE, related_name="spending")
    category = models.CharField(_("category"), max_length=20, choices=CostCategory.choices)
    amount_eur = models.DecimalField(_("amount (EUR)"), max_digits=15, decimal_places=2)
    spent_on = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=300)
    link_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.SET_NULL, null=True, blank=True
    )
    link_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-spent_on", "pk"]
        verbose_name = _("spending line")
        verbose_name_plural = _("spending lines")

    def __str__(self) -> str:
        return f"{self.spent_on} {self.description}: {self.amount_eur} EUR"


class Deadline(models.Model):
    """A deliverable, milestone or report due at a moment (stored in UTC)."""

    city_path = "project__city"

    class Kind(models.TextChoices):
        DELIVERABLE = "deliverable", _("deliverable")
        MILESTONE = "milestone", _("milestone")
        REPORT = "report", _("periodic report")

    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    code = models.CharField(_("number"), max_length=20, blank=True)
    title = models.CharField(_("title"), max_length=300)
    due_at = models.DateTimeField(_("due"))
    done = models.BooleanField(_("done"), default=False)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")

    def __str__(self) -> str:
        return f"{self.code} {self.title}".strip()
