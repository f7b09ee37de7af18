"""People of an organisation and their roles, managed by the organisation's core admins.

A core admin sees and manages only the accounts of their own organisation (superusers: all).
New accounts get a one-time password shown once, which its owner must change at first login
(rempart.core.accounts); role changes and deactivations go through
Django's models, so the audit trail records them like any other change.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from rempart.core.access_rules import fetch
from rempart.core.models import Organisation, Profile
from rempart.core.permissions import deny, role_required
from rempart.core.roles import MODULES, ROLES, group_name, has_role

ROLE_CHOICES = [("", gettext_lazy("none"))] + [(role, role) for role in ROLES]


class PersonForm(forms.Form):
    username = forms.RegexField(
        label=gettext_lazy("Username"), max_length=150, regex=r"^[\w.@+-]+$"
    )
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"), queryset=Organisation.objects.none()
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args: Any, organisations: Any, editing: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["organisation"].queryset = organisations  # type: ignore[attr-defined]
        for module in MODULES:
            self.fields[f"role_{module}"] = forms.ChoiceField(
                label=_("Role in %(module)s") % {"module": module},
                choices=ROLE_CHOICES,
                required=False,
            )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        others = get_user_model().objects.filter(username=username)
        if self.editing is not None:
            others = others.exclude(pk=self.editing.pk)
        if others.exists():
            raise forms.ValidationError(_("the username %(name)s is taken") % {"name": username})
        return username


def _own_organisation_id(request: HttpRequest) -> int:
    """The admin's organisation (0, matching nothing, for an account without one)."""
    return int(getattr(getattr(request.user, "profile", None), "organisation_id", None) or 0)


def managed_users(user: Any) -> Any:
    """The accounts ``user`` manages as a core admin: those of their own organisation, never a
    superuser (superusers: every account); none for anyone else. Their API tokens too."""
    users = get_user_model().objects.select_related("profile__organisation").order_by("username")
    if user.is_superuser:
        return users
    if not has_role(user, "core", "admin"):
        return users.none()
    organisation_id = getattr(getattr(user, "profile", None), "organisation_id", None) or 0
    return users.filter(profile__organisation_id=organisation_id, is_superuser=False)


def _managed_users(request: HttpRequest) -> Any:
    return managed_users(request.user)


def _organisations(request: HttpRequest) -> Any:
    if request.user.is_superuser:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk=_own_organisation_id(request))


def _role_of(user: Any, module: str) -> str:
    names = set(user.groups.values_list("name", flat=True))
    held = [role for role in ROLES if f"{module}:{role}" in names]
    return held[-1] if held else ""


@role_required("core", "admin")
def people_list(request: HttpRequest) -> HttpResponse:
    rows = [
        (user, {module: _role_of(user, module) for module in MODULES})
        for user in _managed_users(request)
    ]
    return render(request, "core/people_list.html", {"rows": rows, "modules": MODULES})


@role_required("core", "admin")
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    person = (
        fetch(
            request,
            get_user_model().objects.select_related("profile__organisation"),
            f"account {pk}",
            visible=lambda user, account: managed_users(user).filter(pk=account.pk).exists(),
            pk=pk,
        )
        if pk is not None
        else None
    )
    if person is not None and person.pk == request.user.pk:
        raise deny(request, "change your own roles through another admin")
    initial: dict[str, Any] = {"is_active": True}
    if person is not None:
        initial = {
            "username": person.username,
            "email": person.email,
            "is_active": person.is_active,
            "organisation": getattr(getattr(person, "profile", None), "organisation", None),
            **{f"role_{m}": _role_of(person, m) for m in MODULES},
        }
    form = PersonForm(
        request.POST or None, organisations=_organisations(request), editing=person, initial=initial
    )
    new_password = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            if person is None:
                new_password = secrets.token_urlsafe(12)
                person = get_user_model().objects.create_user(
                    data["username"], data["email"], new_password
                )
                Profile.objects.create(
                    user=person, organisation=data["organisation"], must_change_password=True
                )
            else:
                person.username, person.email, person.is_active = (
                    data["username"],
                    data["email"],
                    data["is_active"],
                )
                person.save()
                Profile.objects.update_or_create(
                    user=person, defaults={"organisation": data["organisation"]}
                )
            wanted = {group_name(m, data[f"role_{m}"]) for m in MODULES if data[f"role_{m}"]}
            current = set(person.groups.filter(name__contains=":").values_list("name", flat=True))
            if current - wanted:
                person.groups.remove(*Group.objects.filter(name__in=current - wanted))
            if wanted - current:
                person.groups.add(*Group.objects.filter(name__in=wanted - current))
        if new_password:
            return render(
                request, "core/person_created.html", {"person": person, "password": new_password}
            )
        messages.success(request, _("%(name)s saved.") % {"name": person.username})
        return redirect("core:people_list")
    return render(
        request,
        "core/person_form.html",
        {"form": form, "person": person},
        status=400 if request.method == "POST" else 200,
    )
