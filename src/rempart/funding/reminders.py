"""Deadline reminders: an e-mail to the project's organisation's funding editors, once, when a
deadline that is not done falls due within :data:`REMIND_DAYS` days. Run daily
(``rempart funding remind``). Due moments are stored in UTC and shown in the reader's city time
zone, so "in 7 days" is the same instant for a reader in Helsinki and one in Lisbon."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rempart.core import notify
from rempart.core.roles import has_role
from rempart.funding.models import Deadline

REMIND_DAYS = 7
#: Countries whose cities get their mails in French (the platform offers English and French).
FRENCH_COUNTRIES = frozenset({"FR", "BE", "LU", "MC"})


def city_language(city: object) -> str:
    """The language of the city's mails: French in French-speaking countries, else English."""
    return "fr" if getattr(city, "country", "") in FRENCH_COUNTRIES else "en"


def due_soon(now: dt.datetime, days: int = REMIND_DAYS) -> list[Deadline]:
    return list(
        Deadline.objects.filter(
            done=False,
            reminded_at__isnull=True,
            due_at__gt=now,
            due_at__lte=now + dt.timedelta(days=days),
        ).select_related("project__city", "project__organisation")
    )


def remind(now: dt.datetime | None = None) -> int:
    """Send the reminders due at ``now``; the number of deadlines reminded."""
    now = now or timezone.now()
    sent = 0
    users = get_user_model().objects.filter(is_active=True).select_related("profile")
    for deadline in due_soon(now):
        project = deadline.project
        readers = [
            user
            for user in users.filter(profile__organisation=project.organisation)
            if user.email and has_role(user, "funding", "editor")
        ]
        language = city_language(project.city)
        for user in readers:
            notify.send(
                user.email,
                language,
                _("Deadline within a week: %(what)s") % {"what": f"{project.acronym} {deadline}"},
                "funding/email/deadline.txt",
                {
                    "project": project,
                    "deadline": deadline,
                    "url": notify.absolute_url(f"/funding/projects/{project.pk}/"),
                },
            )
        deadline.reminded_at = now
        deadline.save(update_fields=["reminded_at"])
        sent += 1
    return sent
