from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rempart.funding import countries, links
from rempart.funding.models import Consortium, ConsortiumMember, FundedProject, Spending


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
