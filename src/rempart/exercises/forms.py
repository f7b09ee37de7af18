"""Forms of the exercises pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rempart.core.models import Organisation, Site
from rempart.exercises.io import MAX_BYTES
from rempart.exercises.models import (
    Certificate,
    CorrectiveAction,
    Course,
    Evaluation,
    Exercise,
    Inject,
    JournalEntry,
    Objective,
    Participant,
    TrainingSession,
)

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT3 = forms.Textarea(attrs={"rows": 3})


class ExerciseForm(forms.ModelForm):
    class Meta:
        model = Exercise
        fields = [
            "name",
            "kind",
            "site",
            "sponsor",
            "starts_at",
            "ends_at",
            "stage",
            "pacing",
            "scope",
            "hazard",
            "scenario",
        ]
        widgets = {"starts_at": DATETIME, "ends_at": DATETIME, "scope": TEXT3, "scenario": TEXT3}

    def __init__(self, *args: Any, city: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(city=city)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must come after the start."))
        return data


class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = Objective
        fields = ["text", "capability"]
        widgets = {"text": TEXT3}


class ParticipantForm(forms.ModelForm):
    class Meta:
        model = Participant
        fields = ["name", "organisation", "role", "user", "objectives"]

    def __init__(self, *args: Any, exercise: Exercise, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            cities=exercise.city
        )
        from django.contrib.auth import get_user_model

        users = (
            get_user_model().objects.filter(profile__organisation__cities=exercise.city).distinct()
        )
        self.fields["user"].queryset = users  # type: ignore[attr-defined]
        self.fields["objectives"].queryset = exercise.objectives.all()  # type: ignore[attr-defined]
        self.fields["objectives"].widget = forms.CheckboxSelectMultiple()
        self.fields["objectives"].help_text = _("The objectives an evaluator rates.")


class InjectForm(forms.ModelForm):
    scenario_time = forms.CharField(
        label=_("Scenario time"),
        required=False,
        help_text=_("H:MM:SS after STARTEX; empty for an inject released on demand only."),
    )

    class Meta:
        model = Inject
        fields = [
            "number",
            "planned_at",
            "sender",
            "recipient",
            "method",
            "subject",
            "message",
            "expected_action",
            "objectives",
            "phase",
            "controller",
            "parent",
            "trigger",
            "contingency",
            "controller_notes",
        ]
        widgets = {
            "planned_at": DATETIME,
            "message": TEXT3,
            "expected_action": TEXT3,
            "controller_notes": TEXT3,
        }

    def __init__(self, *args: Any, exercise: Exercise, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exercise = exercise
        others = exercise.injects.all()
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
            if self.instance.scenario_time_s is not None:
                from rempart.exercises.msel import clock_text

                self.initial["scenario_time"] = clock_text(self.instance.scenario_time_s)
        self.fields["parent"].queryset = others  # type: ignore[attr-defined]
        self.fields["objectives"].queryset = exercise.objectives.all()  # type: ignore[attr-defined]
        self.fields["objectives"].widget = forms.CheckboxSelectMultiple()
        from django.contrib.auth import get_user_model

        users = (
            get_user_model()
            .objects.filter(exercise_roles__exercise=exercise, exercise_roles__role="controller")
            .distinct()
        )
        self.fields["controller"].queryset = users  # type: ignore[attr-defined]

    def clean_scenario_time(self) -> int | None:
        from rempart.exercises.io import parse_clock

        try:
            return parse_clock(self.cleaned_data.get("scenario_time") or "")
        except ValueError:
            raise forms.ValidationError(
                _("Write the scenario time as H:MM:SS, MM:SS or seconds.")
            ) from None

    def clean_number(self) -> int:
        number = self.cleaned_data["number"]
        taken = self.exercise.injects.filter(number=number)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("Inject %(number)s already exists.") % {"number": number})
        return number

    def save(self, commit: bool = True) -> Inject:
        inject = super().save(commit=False)
        inject.exercise = self.exercise
        inject.scenario_time_s = self.cleaned_data.get("scenario_time")
        if commit:
            inject.save()
            self.save_m2m()
        return inject


class StateForm(forms.Form):
    state = forms.ChoiceField(choices=Inject.State.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class JournalForm(forms.ModelForm):
    class Meta:
        model = JournalEntry
        fields = ["kind", "text", "objective"]
        widgets = {"text": TEXT3}

    def __init__(self, *args: Any, exercise: Exercise, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            (JournalEntry.Kind.ACTION, JournalEntry.Kind.ACTION.label),
            (JournalEntry.Kind.OBSERVATION, JournalEntry.Kind.OBSERVATION.label),
            (JournalEntry.Kind.NOTE, JournalEntry.Kind.NOTE.label),
        ]
        self.fields["objective"].queryset = exercise.objectives.all()  # type: ignore[attr-defined]


class EvaluationForm(forms.ModelForm):
    class Meta:
        model = Evaluation
        fields = ["rating", "strengths", "improvements"]
        widgets = {"rating": forms.RadioSelect, "strengths": TEXT3, "improvements": TEXT3}


class ActionForm(forms.ModelForm):
    class Meta:
        model = CorrectiveAction
        fields = [
            "description",
            "objective",
            "capability",
            "owner",
            "contact",
            "due_on",
            "status",
            "evidence",
        ]
        widgets = {"due_on": DATE, "description": TEXT3, "evidence": TEXT3}

    def __init__(self, *args: Any, exercise: Exercise, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = exercise.objectives.all()  # type: ignore[attr-defined]
        self.fields["owner"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            cities=exercise.city
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == CorrectiveAction.Status.DONE and not data.get("evidence"):
            self.add_error("evidence", _("An action is done only with its evidence."))
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (CSV or XLSX)"))
    mapping = forms.CharField(label=_("Saved column mapping"), required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s bytes.") % {"size": MAX_BYTES}
            )
        return upload


class ScenarioForm(forms.Form):
    vehicle = forms.CharField(label=_("Vehicle"), required=False, max_length=100)


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ["title", "description", "validity_months", "required_for_lanes"]
        widgets = {"description": TEXT3}


class SessionForm(forms.ModelForm):
    class Meta:
        model = TrainingSession
        fields = ["starts_at", "ends_at", "place", "trainer", "capacity"]
        widgets = {"starts_at": DATETIME, "ends_at": DATETIME}


class CertificateForm(forms.ModelForm):
    class Meta:
        model = Certificate
        fields = ["person", "session", "completed_on"]
        widgets = {"completed_on": DATE}

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        users = (
            get_user_model().objects.filter(profile__organisation__cities=course.city).distinct()
        )
        self.fields["person"].queryset = users  # type: ignore[attr-defined]
        self.fields["session"].queryset = course.sessions.all()  # type: ignore[attr-defined]
