"""The append-only, hash-chained audit trail (tables only; the logic is in rempart.core.audit).

Entries cannot be changed or deleted through Django: ``save`` on an existing entry, ``delete``
and queryset ``update``/``delete`` raise. On PostgreSQL triggers (migrations 0002 and 0003) also
refuse UPDATE, DELETE and TRUNCATE of entries, and a chain head that moves back, at the database.
``rempart audit verify`` detects what a database owner could still do behind the application's
back (alter, insert, delete rows, move the head), with the key and the checkpoints kept outside
the database.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditImmutableError(Exception):
    """Raised when code tries to change or delete an audit entry."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditImmutableError("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("audit entries are append-only")


class AuditEntry(models.Model):
    """One event: who did what, when (UTC and the city's local time), to which object."""

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True, editable=False)
    at_utc = models.DateTimeField(_("time (UTC)"), db_index=True, editable=False)
    at_local = models.CharField(_("local time"), max_length=64, editable=False)
    actor = models.CharField(_("actor"), max_length=150, editable=False)
    actor_id = models.BigIntegerField(null=True, editable=False)
    action = models.CharField(_("action"), max_length=40, db_index=True, editable=False)
    object_type = models.CharField(_("object type"), max_length=80, blank=True, editable=False)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, editable=False)
    object_repr = models.CharField(_("object"), max_length=200, blank=True, editable=False)
    city = models.CharField(_("city"), max_length=50, blank=True, db_index=True, editable=False)
    changes = models.JSONField(_("changes"), default=dict, editable=False)
    detail = models.JSONField(_("detail"), default=dict, editable=False)
    ip = models.CharField(_("address"), max_length=45, blank=True, editable=False)
    # The organisation an entry without a city concerns (the person's, the token owner's, else
    # the actor's), so that its admins see it and other cities' admins do not. Not a foreign
    # key: entries outlive organisations.
    organisation_id = models.BigIntegerField(null=True, db_index=True, editable=False)
    # 1: SHA-256 chain of entries written before the key existed; 2: HMAC-SHA256 with the audit
    # key (rempart.core.audit). Once keyed, the chain stays keyed.
    chain_version = models.PositiveSmallIntegerField(default=2, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_repr}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditImmutableError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("audit entries are append-only")


class AuditHead(models.Model):
    """The chain's head (single row): the last sequence number and hash, locked on every append.

    It serialises appends across processes (SELECT ... FOR UPDATE on PostgreSQL; SQLite
    transactions are IMMEDIATE) and lets verification notice entries deleted from the end.
    """

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"audit head #{self.last_seq}"
