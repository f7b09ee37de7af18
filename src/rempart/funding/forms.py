from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rempart.funding import countries
from rempart.funding.models import Consortium, ConsortiumMember


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
