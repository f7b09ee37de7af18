"""Forms of the prevention unit's pages; every label in English and French."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rempart.core.models import Organisation
from rempart.prevention.models import (
    Action,
    AgeBand,
    ClosureReason,
    Consent,
    Presence,
    RightsRequest,
    Screening,
    Source,
    TeamMember,
)

DATE = forms.DateInput(attrs={"type": "date"})


class Purpose:
    """Why someone opens a case (written with every read in the audit trail)."""

    CHOICES = [
        ("casework", _("Casework")),
        ("consultation", _("Case consultation")),
        ("supervision", _("Supervision or approval")),
        ("subject_access", _("Subject access request")),
        ("break_glass", _("Emergency (break-glass)")),
    ]
    VALUES = {value for value, _label in CHOICES}


def _organisations(city: Any) -> Any:
    return Organisation.objects.filter(cities=city).order_by("name")


class ReferralForm(forms.Form):
    person_name = forms.CharField(label=_("Name of the person"), max_length=200)
    birth_date = forms.CharField(label=_("Date of birth (optional)"), max_length=20, required=False)
    age_band = forms.ChoiceField(label=_("Age at referral"), choices=AgeBand.choices)
    source = forms.ChoiceField(label=_("Source of the referral"), choices=Source.choices)
    referrer_name = forms.CharField(label=_("Referred by"), max_length=200)
    referrer_organisation = forms.ModelChoiceField(
        label=_("Referring organisation"), queryset=Organisation.objects.none(), required=False
    )
    concern = forms.CharField(
        label=_("The concern, in the referrer's own words"), widget=forms.Textarea
    )
    referred_on = forms.DateField(label=_("Referred on"), widget=DATE)
    person_informed = forms.BooleanField(label=_("The person was told"), required=False)
    person_informed_on = forms.DateField(label=_("Told on"), widget=DATE, required=False)

    def __init__(self, *args: Any, city: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["referrer_organisation"].queryset = _organisations(city)  # type: ignore[attr-defined]


class ScreenForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Screening.choices)
    reasons = forms.CharField(label=_("Reasons"), widget=forms.Textarea)
    first_contact_on = forms.DateField(
        label=_("First contact with the person (if any)"), widget=DATE, required=False
    )


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Consent.Purpose.choices)
    recipients = forms.ModelMultipleChoiceField(
        label=_("Recipients"), queryset=Organisation.objects.none(), required=False
    )
    notice_version = forms.CharField(label=_("Privacy notice version"), max_length=32)
    given_on = forms.DateField(label=_("Given on"), widget=DATE, required=False)
    given_by_name = forms.CharField(label=_("Given by"), max_length=200, required=False)
    parental = forms.BooleanField(label=_("Parental consent (minor)"), required=False)
    override_reason = forms.CharField(
        label=_("Override without consent: justification (coordinators only)"),
        widget=forms.Textarea,
        required=False,
    )

    def __init__(self, *args: Any, city: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipients"].queryset = _organisations(city)  # type: ignore[attr-defined]


class WithdrawForm(forms.Form):
    consent = forms.IntegerField(widget=forms.HiddenInput)
    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=DATE)


class ConsultationForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DATE)
    agencies = forms.ModelMultipleChoiceField(
        label=_("Agencies"), queryset=Organisation.objects.none()
    )
    attendees = forms.CharField(label=_("Attendees"), widget=forms.Textarea)
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea)
    decisions = forms.CharField(label=_("Decisions"), widget=forms.Textarea)

    def __init__(self, *args: Any, city: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agencies"].queryset = _organisations(city)  # type: ignore[attr-defined]


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Action.Kind.choices)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea)
    partner = forms.ModelChoiceField(
        label=_("Partner organisation"), queryset=Organisation.objects.none()
    )
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Owner"), queryset=Organisation.objects.none()
    )
    due_on = forms.DateField(label=_("Due"), widget=DATE)
    consent = forms.ModelChoiceField(
        label=_("Depends on consent"), queryset=Consent.objects.none(), required=False
    )
    shared_with_partner = forms.BooleanField(
        label=_("Share the description with the partner"), required=False, initial=True
    )

    def __init__(self, *args: Any, case: Any, **kwargs: Any) -> None:
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = _organisations(case.city)  # type: ignore[attr-defined]
        owner: Any = self.fields["owner"]
        owner.queryset = get_user_model().objects.filter(prevention_teams__case=case).distinct()
        self.fields["consent"].queryset = case.consents.filter(withdrawn_on__isnull=True)  # type: ignore[attr-defined]


class ActionStatusForm(forms.Form):
    action = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[c for c in Action.ActionStatus.choices if c[0] != Action.ActionStatus.STOPPED],
    )


class ReviewForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DATE)
    significant_changes = forms.CharField(
        label=_("Significant changes since the last review"), widget=forms.Textarea
    )
    judgement = forms.CharField(
        label=_("Overall professional judgement, in words"), widget=forms.Textarea
    )

    def __init__(self, *args: Any, factors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.factors = list(factors)
        for factor in self.factors:
            self.fields[f"presence_{factor.pk}"] = forms.ChoiceField(
                label=factor.name, choices=Presence.choices, initial=Presence.NOT_ASSESSED
            )
            self.fields[f"evidence_{factor.pk}"] = forms.CharField(
                label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 2}), required=False
            )

    def evidence(self) -> dict[Any, tuple[str, str]]:
        return {
            f: (self.cleaned_data[f"presence_{f.pk}"], self.cleaned_data[f"evidence_{f.pk}"])
            for f in self.factors
        }


class ClosureForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=ClosureReason.choices)
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea)


class DecideForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Approve the closure")), ("no", _("Send back"))],
        coerce=lambda v: v == "yes",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea)


class BreakGlassForm(forms.Form):
    reason = forms.CharField(label=_("Reason for emergency access"), widget=forms.Textarea)
    hours = forms.FloatField(label=_("For how many hours (at most 24)"), initial=4)


class HandoverForm(forms.Form):
    to_user: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("New lead worker"), queryset=Organisation.objects.none()
    )
    to_organisation = forms.ModelChoiceField(
        label=_("Their organisation"), queryset=Organisation.objects.none()
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea, required=False)

    def __init__(self, *args: Any, city: Any, **kwargs: Any) -> None:
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        to_user: Any = self.fields["to_user"]
        to_user.queryset = (
            get_user_model()
            .objects.filter(
                groups__name__startswith="prevention:", profile__organisation__cities=city
            )
            .distinct()
        )
        self.fields["to_organisation"].queryset = _organisations(city)  # type: ignore[attr-defined]


class TeamForm(HandoverForm):
    role = forms.ChoiceField(
        label=_("Role on the team"),
        choices=[c for c in TeamMember.Role.choices if c[0] != TeamMember.Role.LEAD],
    )
    ends_at = forms.DateTimeField(
        label=_("Access until (optional, e.g. the end of a consultation)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, city: Any, **kwargs: Any) -> None:
        super().__init__(*args, city=city, **kwargs)
        del self.fields["note"]
        self.fields["to_user"].label = _("Person")


class ViewsForm(forms.Form):
    person_view = forms.CharField(
        label=_("The person's own view, in their words"), widget=forms.Textarea, required=False
    )
    family_view = forms.CharField(
        label=_("The family's view, in their words"), widget=forms.Textarea, required=False
    )
    summary = forms.CharField(label=_("Summary conclusion"), widget=forms.Textarea, required=False)


class LegalHoldForm(forms.Form):
    hold = forms.BooleanField(label=_("Hold: never delete while set"), required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, required=False)


class RightsForm(forms.Form):
    kind = forms.ChoiceField(label=_("Request"), choices=RightsRequest.Kind.choices)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    note = forms.CharField(label=_("What was asked and what was done"), widget=forms.Textarea)
    restrict = forms.BooleanField(label=_("Restrict processing from now on"), required=False)
    lift_restriction = forms.BooleanField(label=_("Lift the restriction"), required=False)
