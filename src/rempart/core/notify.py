"""Send a person an e-mail in their language, through Django's mail framework.

One helper for every module that tells people something (practices notifications today;
password reset uses Django's own views). The message is rendered from a plain-text template
under the recipient's language, and sent once the current transaction commits (nothing is
sent for a change that is rolled back). A mail server that refuses or cannot be reached is
logged, never raised: publishing a practice must not fail because the SMTP relay is down.

Where messages go is set by ``REMPART_EMAIL_*`` (:func:`rempart.config.email_settings`): the
console by default, an SMTP server when ``REMPART_EMAIL_HOST`` is set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

log = logging.getLogger("rempart.notify")


@dataclass(frozen=True)
class Message:
    """One rendered e-mail: the address, the subject line and the body, in one language."""

    to: str
    subject: str
    body: str
    language: str


def render(to: str, language: str, subject: Any, template: str, context: dict[str, Any]) -> Message:
    """Render ``subject`` (a lazy translation, or a callable given the context) and the
    ``template`` body in ``language``. A language the site does not offer falls back to the
    default."""
    offered = {code for code, _name in settings.LANGUAGES}
    language = language if language in offered else settings.LANGUAGE_CODE
    with translation.override(language):
        line = subject(context) if callable(subject) else str(subject)
        body = render_to_string(template, {**context, "language": language})
    # a subject is one line: a newline would let a title inject headers
    return Message(to, " ".join(line.split())[:200], body.strip() + "\n", language)


def absolute_url(path: str) -> str:
    """``path`` on the site as people open it (``REMPART_SITE_URL``)."""
    return f"{settings.REMPART_SITE_URL}{path}"


def deliver(message: Message) -> bool:
    """Send now; False (and a log line naming the address) when the server refused."""
    try:
        EmailMessage(message.subject, message.body, None, [message.to]).send()
    except Exception as exc:  # smtplib, socket and TLS errors all mean the same here
        log.warning("e-mail to %s not sent (%s): %s", message.to, message.subject, exc)
        return False
    log.info("e-mail sent to %s: %s", message.to, message.subject)
    return True


def send(to: str, language: str, subject: Any, template: str, context: dict[str, Any]) -> None:
    """Render now and send after the current transaction commits (at once outside one)."""
    if not to:
        return
    message = render(to, language, subject, template, context)
    transaction.on_commit(lambda: deliver(message))
