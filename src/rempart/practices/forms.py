"""Forms of the practices pages: the record, the review, attachments, site links, the exchange."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from rempart.inputs import InputError, check_size, decode_text
from rempart.practices.models import (
    LANGUAGE_CHOICES,
    Attachment,
    Audience,
    Event,
    EvidenceLabel,
    HelpRequest,
    MemberProfile,
    Practice,
    Setting,
    SiteLink,
    Theme,
    WorkingGroup,
)

CHECKBOXES = forms.CheckboxSelectMultiple


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class PracticeForm(forms.ModelForm):
    """The record as an editor writes it: never its status, version or evidence label."""

    themes = forms.MultipleChoiceField(
        label=_("Themes"), choices=Theme.choices, widget=CHECKBOXES, required=False
    )
    audiences = forms.MultipleChoiceField(
        label=_("Target audiences"), choices=Audience.choices, widget=CHECKBOXES, required=False
    )
    settings = forms.MultipleChoiceField(
        label=_("Settings"), choices=Setting.choices, widget=CHECKBOXES, required=False
    )
    links_text = forms.CharField(
        label=_("Links"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: the address, then optionally a space and a title."),
    )
    source_url = forms.URLField(
        label=_("Source"), required=False, max_length=500, assume_scheme="https"
    )
    contacts_text = forms.CharField(
        label=_("Contacts (members only)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: name | e-mail | role."),
    )

    class Meta:
        model = Practice
        fields = [
            "language",
            "title",
            "summary",
            "problem",
            "approach",
            "themes",
            "audiences",
            "settings",
            "country",
            "city_name",
            "organisation_name",
            "organisation_type",
            "start_year",
            "end_year",
            "cost",
            "funding",
            "effect",
            "effect_strength",
            "mechanism",
            "mechanism_strength",
            "moderators",
            "moderators_strength",
            "implementation",
            "implementation_strength",
            "economic",
            "economic_strength",
            "evaluation_references",
            "licence",
            "source_url",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in (
                "summary",
                "problem",
                "approach",
                "effect",
                "mechanism",
                "moderators",
                "implementation",
                "economic",
                "evaluation_references",
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance: Practice = self.instance
        self.translation_fields: list[tuple[str, str, str]] = []
        existing = {t.language: t for t in instance.translations.all()} if instance.pk else {}
        for code, name in LANGUAGE_CHOICES:
            title_key, summary_key = f"tr_{code}_title", f"tr_{code}_summary"
            self.fields[title_key] = forms.CharField(
                label=_("Title in %(language)s") % {"language": name},
                required=False,
                max_length=300,
            )
            self.fields[summary_key] = forms.CharField(
                label=_("Summary in %(language)s") % {"language": name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            if code in existing:
                self.initial[title_key] = existing[code].title
                self.initial[summary_key] = existing[code].summary
            self.translation_fields.append((code, title_key, summary_key))
        if instance.pk:
            self.initial["links_text"] = "\n".join(
                f"{link.get('url', '')} {link.get('title', '')}".strip() for link in instance.links
            )
            self.initial["contacts_text"] = "\n".join(
                " | ".join([c.get("name", ""), c.get("email", ""), c.get("role", "")]).rstrip(" |")
                for c in instance.contacts
            )

    def clean_country(self) -> str:
        value = (self.cleaned_data.get("country") or "").strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise ValidationError(_("Expected a two-letter ISO code such as FR."))
        return value

    def clean_links_text(self) -> list[dict[str, str]]:
        links = []
        validate = URLValidator(schemes=["http", "https"])
        for line in _lines(self.cleaned_data.get("links_text", "")):
            url, _sep, title = line.partition(" ")
            try:
                validate(url)
            except ValidationError as exc:
                raise ValidationError(
                    _("%(value)s is not an http(s) address.") % {"value": url}
                ) from exc
            links.append({"url": url, "title": title.strip()})
        return links

    def clean_contacts_text(self) -> list[dict[str, str]]:
        contacts = []
        for line in _lines(self.cleaned_data.get("contacts_text", "")):
            parts = [p.strip() for p in line.split("|")] + ["", ""]
            name, email, role = parts[0], parts[1], parts[2]
            if not name:
                raise ValidationError(_("Each contact needs a name."))
            if email:
                try:
                    EmailValidator()(email)
                except ValidationError as exc:
                    raise ValidationError(
                        _("%(value)s is not an e-mail address.") % {"value": email}
                    ) from exc
            contacts.append(
                {k: v for k, v in (("name", name), ("email", email), ("role", role)) if v}
            )
        return contacts

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_year"), cleaned.get("end_year")
        if start and end and end < start:
            self.add_error("end_year", _("The end year is before the start year."))
        return cleaned

    def apply(self) -> tuple[Practice, list[dict[str, str]]]:
        """The unsaved practice and its translations (saved through the workflow)."""
        practice: Practice = self.save(commit=False)
        practice.links = self.cleaned_data["links_text"]
        practice.contacts = self.cleaned_data["contacts_text"]
        translations = [
            {
                "language": code,
                "title": self.cleaned_data.get(title_key, ""),
                "summary": self.cleaned_data.get(summary_key, ""),
            }
            for code, title_key, summary_key in self.translation_fields
            if self.cleaned_data.get(title_key)
        ]
        return practice, translations


class ReviewForm(forms.Form):
    conflict = forms.TypedChoiceField(
        label=_("Do you have a conflict of interest with this practice?"),
        choices=[("no", _("No conflict of interest")), ("yes", _("Yes, I have a conflict"))],
        widget=forms.RadioSelect,
        coerce=lambda value: value == "yes",
    )
    conflict_statement = forms.CharField(
        label=_("Describe the conflict"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", "—"), ("publish", _("Publish")), ("return", _("Return to the author"))],
    )
    label = forms.ChoiceField(
        label=_("Evidence label"), required=False, choices=EvidenceLabel.choices
    )
    comments = forms.CharField(
        label=_("Comments to the author"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class AssignForm(forms.Form):
    reviewer: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Reviewer"),
        queryset=None,  # type: ignore[arg-type]
        help_text=_(
            "Only eligible reviewers are offered: practices supervisors outside the authors' "
            "organisation, not already assigned."
        ),
    )
    due_on = forms.DateField(
        label=_("Review due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: two weeks from today."),
    )

    def __init__(self, *args: Any, reviewers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers  # type: ignore[attr-defined]


PDF_MAGIC = b"%PDF-"


class AttachmentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    file = forms.FileField(label=_("PDF file"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > Attachment.MAX_BYTES:
            raise ValidationError(
                _("The file is %(size)d bytes; at most %(max)d are accepted.")
                % {"size": upload.size, "max": Attachment.MAX_BYTES}
            )
        upload.seek(0)
        head = upload.read(1024)
        upload.seek(max(upload.size - 2048, 0))
        tail = upload.read()
        upload.seek(0)
        # a PDF starts with %PDF- (within its first 1024 bytes) and ends with %%EOF
        if PDF_MAGIC not in head or b"%%EOF" not in tail:
            raise ValidationError(_("This is not a PDF file."))
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        self.cleaned_data["sha256"] = digest.hexdigest()
        return upload


class SiteLinkForm(forms.ModelForm):
    class Meta:
        model = SiteLink
        fields = ["site", "note", "applied_since"]
        widgets = {"applied_since": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]


class ProfileForm(forms.ModelForm):
    expertise = forms.MultipleChoiceField(
        label=_("Expertise"), choices=Theme.choices, widget=CHECKBOXES, required=False
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=LANGUAGE_CHOICES, widget=CHECKBOXES, required=False
    )

    class Meta:
        model = MemberProfile
        fields = [
            "display_name",
            "job_title",
            "organisation",
            "city",
            "expertise",
            "languages",
            "email",
            "listed",
            "show_job_title",
            "show_organisation",
            "show_city",
            "show_expertise",
            "show_languages",
            "show_email",
            "accepts_requests",
        ]


class NotificationsForm(forms.ModelForm):
    """Which e-mails a member receives, and in which language."""

    class Meta:
        model = MemberProfile
        fields = [
            "email_language",
            "notify_review_assigned",
            "notify_review_due",
            "notify_published",
            "notify_request_routed",
            "notify_request_answered",
            "notify_waiting_list",
        ]


class GroupForm(forms.ModelForm):
    class Meta:
        model = WorkingGroup
        fields = ["name", "description", "theme"]


class ThreadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))


class PostForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))


class EventForm(forms.ModelForm):
    class Meta:
        model = Event
        fields = ["title", "kind", "description", "place", "starts_at", "ends_at", "capacity"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The event must end after it starts."))
        if cleaned.get("capacity") == 0:
            self.add_error("capacity", _("At least one place."))
        return cleaned


class HelpRequestForm(forms.ModelForm):
    themes = forms.MultipleChoiceField(label=_("Themes"), choices=Theme.choices, widget=CHECKBOXES)
    #: set by the page once the asker has seen that nobody matches and chose where it goes
    fallback = forms.ChoiceField(
        choices=[("", ""), ("coordinators", "coordinators"), ("open", "open")],
        required=False,
        widget=forms.HiddenInput,
    )

    class Meta:
        model = HelpRequest
        fields = ["question", "themes"]
        widgets = {"question": forms.Textarea(attrs={"rows": 3})}


class AnswerForm(forms.Form):
    body = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 3}))


class CatalogueUploadForm(forms.Form):
    """A catalogue file (.json or .csv, UTF-8) uploaded by an editor."""

    file = forms.FileField(label=_("Catalogue file (.json or .csv)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".json", ".csv")):
            raise ValidationError(_("Expected a .json or .csv file."))
        try:
            check_size(upload.size, upload.name)
            self.cleaned_data["text"] = decode_text(upload.read(), upload.name)
        except InputError as exc:
            raise ValidationError(str(exc)) from None
        self.cleaned_data["format"] = name.rsplit(".", 1)[1]
        return upload
