from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rempart.funding import countries, links
from rempart.funding.eligibility import RuleError, validate_rules
from rempart.funding.models import Call, Consortium, ConsortiumMember, FundedProject, Spending


class ConsortiumForm(forms.ModelForm):
    class Meta:
        model = Consortium
        fields = ["name", "call"]


class MemberForm(forms.ModelForm):
    class Meta:
        model = ConsortiumMember
        fields = ["name", "country", "legal_type", "role", "group"]

    def clean_country(self) -> str:
        code = countries.normalise(self.cleaned_data["country"])
        if len(code) != 2 or not code.isalpha():
            raise forms.ValidationError(
                _("%(value)s is not a two-letter country code (e.g. FR, DE, EL for Greece)."),
                params={"value": self.cleaned_data["country"]},
            )
        return code

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        for field in ("name", "group"):
            if "\x00" in str(data.get(field, "")):
                self.add_error(field, _("This text contains a NUL character."))
        return data


class SpendingForm(forms.ModelForm):
    """A spending line of a project; ``link`` names what it bought, among the city's objects."""

    link = forms.ChoiceField(label=_("What it bought"), required=False)

    class Meta:
        model = Spending
        fields = ["partner", "category", "amount_eur", "spent_on", "description"]
        widgets = {"spent_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, project: FundedProject, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["partner"].queryset = project.partners.all()  # type: ignore[attr-defined]
        self.fields["link"].choices = [("", "—"), *links.choices(project.city)]  # type: ignore[attr-defined]

    def clean_amount_eur(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount_eur"]
        if amount <= 0:
            raise forms.ValidationError(_("An amount spent is more than 0 EUR."))
        return amount

    def clean_link(self) -> str:
        value: str = self.cleaned_data.get("link", "")
        if value and links.resolve(value, self.project.city) is None:
            raise forms.ValidationError(_("Choose one of the city's objects."))
        return value

    def save(self, commit: bool = True) -> Spending:
        line: Spending = super().save(commit=False)
        line.project = self.project
        resolved = links.resolve(self.cleaned_data.get("link", ""), self.project.city)
        if resolved is not None:
            line.link_type, line.link_id = resolved
        if commit:
            line.save()
        return line


class CallForm(forms.ModelForm):
    """A call edited by a funding administrator; ``rules_json`` is its rules as JSON, checked
    rule by rule (:func:`rempart.funding.eligibility.validate_rules`)."""

    rules_json = forms.CharField(
        label=_("Eligibility rules (JSON)"),
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        required=False,
        max_length=20_000,
        help_text=_(
            'A list of rules, e.g. [{"kind": "eligible_countries", "countries": "MS+AC"}, '
            '{"kind": "min_countries", "count": 3}]. See docs/funding.md.'
        ),
    )

    class Meta:
        model = Call
        fields = [
            "programme",
            "call_id",
            "topic_id",
            "title",
            "budget_eur",
            "grant_min_eur",
            "grant_max_eur",
            "cofunding_rate",
            "opens_at",
            "deadline_at",
            "action_type",
            "url",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["rules_json"] = json.dumps(self.instance.rules, indent=2)

    def clean_rules_json(self) -> list[dict[str, Any]]:
        text = self.cleaned_data.get("rules_json") or "[]"
        if "\x00" in text:
            raise forms.ValidationError(_("This text contains a NUL character."))
        try:
            return validate_rules(json.loads(text))
        except (json.JSONDecodeError, RecursionError):
            raise forms.ValidationError(_("The rules are not valid JSON.")) from None
        except RuleError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        low, high = data.get("grant_min_eur"), data.get("grant_max_eur")
        if low is not None and high is not None and low > high:
            self.add_error("grant_max_eur", _("The largest grant is below the smallest."))
        opens, deadline = data.get("opens_at"), data.get("deadline_at")
        if opens and deadline and deadline <= opens:
            self.add_error("deadline_at", _("The deadline is before the opening."))
        return data

    def save(self, commit: bool = True) -> Call:
        call: Call = super().save(commit=False)
        call.rules = self.cleaned_data["rules_json"]
        if not call.source or call.source == "demo":
            call.source = "manual"
        if commit:
            call.save()
        return call
