"""Forms of the control room: actions with a reason and a confirmation, filters, imports."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rempart.access import decide as engine
from rempart.access.schedule import ZoneMode


class ActionForm(forms.Form):
    """Open or close a lane: a reason for the record and an explicit confirmation."""

    reason = forms.CharField(label=_("Reason"), max_length=500)
    confirm = forms.BooleanField(label=_("I confirm"), required=True)


class ModeForm(ActionForm):
    mode = forms.ChoiceField(label=_("Mode"), choices=[(m.value, m.value) for m in ZoneMode])


class AckForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class ScheduleForm(forms.Form):
    mode = forms.ChoiceField(label=_("Mode"), choices=[(m.value, m.value) for m in ZoneMode])
    start = forms.DateTimeField(label=_("Start (zone time)"))
    end = forms.DateTimeField(label=_("End (zone time)"))
    label = forms.CharField(label=_("Label"), max_length=200, required=False)


class DecisionFilterForm(forms.Form):
    lane = forms.CharField(label=_("Lane"), required=False)
    outcome = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", "—")] + [(o.value, o.value) for o in engine.Outcome],
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", "—")] + [(r.value, r.value) for r in engine.Reason],
    )
    plate = forms.CharField(label=_("Plate"), required=False)
    since = forms.DateTimeField(label=_("From"), required=False)
    until = forms.DateTimeField(label=_("To"), required=False)


class PermitImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    dry_run = forms.BooleanField(label=_("Check only"), required=False)
