"""Forms of the control room: actions with a reason and a confirmation, filters, imports."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rempart.access import labels

#: A blank choice in filters: any value.
ANY = _("any")


class ActionForm(forms.Form):
    """Open or close a lane: a reason for the record and an explicit confirmation."""

    reason = forms.CharField(label=_("Reason"), max_length=500)
    confirm = forms.BooleanField(label=_("I confirm"), required=True)
    # a supervisor's recorded exception to a lockdown (rempart.access.precedence)
    lockdown_exception = forms.BooleanField(
        label=_("Lockdown exception (supervisor, recorded with the reason)"), required=False
    )
    # open: the vehicle's plate, if known (an emergency permit's plate enters in lockdown)
    plate = forms.CharField(label=_("Plate (if known)"), max_length=20, required=False)


class ModeForm(ActionForm):
    mode = forms.ChoiceField(label=_("Mode"), choices=list(labels.MODES.items()))


class AckForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class ScheduleForm(forms.Form):
    mode = forms.ChoiceField(label=_("Mode"), choices=list(labels.MODES.items()))
    start = forms.DateTimeField(label=_("Start (zone time)"))
    end = forms.DateTimeField(label=_("End (zone time)"))
    label = forms.CharField(label=_("Label"), max_length=200, required=False)


class DecisionFilterForm(forms.Form):
    """Filters of the decision log; dates and times typed in the city's time zone."""

    lane = forms.CharField(label=_("Lane"), required=False)
    plate = forms.CharField(label=_("Plate"), required=False)
    outcome = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", ANY), *labels.OUTCOMES.items()],
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", ANY), *labels.REASONS.items()],
    )
    since = forms.DateTimeField(
        label=_("From"), required=False, help_text=_("YYYY-MM-DD HH:MM, city time")
    )
    until = forms.DateTimeField(
        label=_("To (excluded)"), required=False, help_text=_("YYYY-MM-DD HH:MM, city time")
    )


class AlarmFilterForm(forms.Form):
    """Filters of the alarm log; dates and times typed in the city's time zone."""

    lane = forms.CharField(label=_("Lane"), required=False)
    kind = forms.ChoiceField(label=_("Alarm"), required=False, choices=[])
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", ANY),
            ("open", _("cause not ended")),
            ("unacknowledged", _("not acknowledged")),
            ("cleared", _("cause ended")),
        ],
    )
    since = forms.DateTimeField(
        label=_("From"), required=False, help_text=_("YYYY-MM-DD HH:MM, city time")
    )
    until = forms.DateTimeField(
        label=_("To (excluded)"), required=False, help_text=_("YYYY-MM-DD HH:MM, city time")
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            ("", ANY),
            *labels.table("alarm").items(),
        ]


class PermitImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    dry_run = forms.BooleanField(label=_("Check only"), required=False)


class AnswerForm(ActionForm):
    """Grant or deny a referred request: the answer, a reason and a confirmation."""

    answer = forms.ChoiceField(
        label=_("Answer"), choices=[("grant", _("Grant")), ("deny", _("Deny"))]
    )


class ScheduleEditForm(ScheduleForm):
    """Change a scheduled mode: the new values, a reason and a confirmation."""

    reason = forms.CharField(label=_("Reason"), max_length=500)
    confirm = forms.BooleanField(label=_("I confirm"), required=True)


class PermitForm(forms.Form):
    """One permit's fields as text; the checks are the load file's
    (:func:`rempart.access.services.check_permit_fields`), not this form's."""

    id = forms.CharField(
        label=_("Identifier"),
        required=False,
        max_length=64,
        help_text=_("e.g. bakery-2027; letters, digits, '-', '_', '.', ':'"),
    )
    plate = forms.CharField(label=_("Plate"), required=False, max_length=40)
    holder = forms.CharField(label=_("Holder"), required=False, max_length=200)
    holder_contact = forms.CharField(label=_("Holder contact"), required=False, max_length=300)
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", "—"), *labels.CATEGORIES.items()],
    )
    max_mass_kg = forms.CharField(
        label=_("Maximum mass, kg"), required=False, max_length=12, help_text=_("blank: any")
    )
    zones = forms.MultipleChoiceField(
        label=_("Zones"), required=False, widget=forms.CheckboxSelectMultiple
    )
    windows = forms.CharField(
        label=_("Weekly windows (zone time)"),
        required=False,
        max_length=500,
        help_text=_("e.g. mon-sat 05:00-10:30; sun 07:00-09:00 — blank: at any time"),
    )
    valid_from = forms.CharField(
        label=_("Valid from"), required=False, max_length=10, help_text=_("YYYY-MM-DD")
    )
    valid_to = forms.CharField(
        label=_("Valid to"), required=False, max_length=10, help_text=_("YYYY-MM-DD")
    )
    exception_dates = forms.CharField(
        label=_("Exception dates"),
        required=False,
        max_length=2000,
        help_text=_("days without access, e.g. 2027-07-14 2027-08-15"),
    )
    pin = forms.CharField(
        label=_("New PIN"),
        required=False,
        max_length=8,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
        help_text=_("4 to 8 digits, for plate + PIN lanes; blank keeps the enrolled PIN"),
    )
    clear_pin = forms.BooleanField(label=_("Remove the enrolled PIN"), required=False)

    def __init__(self, *args: object, zones: list[str], editing: bool = False, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["zones"].choices = [(z, z) for z in zones]  # type: ignore[attr-defined]
        if editing:
            self.fields["id"].disabled = True
        else:
            del self.fields["clear_pin"]


class PermitStatusForm(ActionForm):
    status = forms.ChoiceField(label=_("New status"), choices=list(labels.PERMIT_STATUSES.items()))
