"""Hooks that write the audit trail: every model change in rempart's apps and auth, logins."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_save
from django.dispatch import receiver

from rempart.core import audit
from rempart.core.audit_models import AuditEntry, AuditHead

AUDITED_APP_LABELS = {
    "core",
    "assess",
    "access",
    "practices",
    "exercises",
    "prevention",
    "funding",
    "auth",
}


def _audited(sender: Any) -> bool:
    meta = getattr(sender, "_meta", None)
    if meta is None or meta.app_label not in AUDITED_APP_LABELS:
        return False
    if sender in (AuditEntry, AuditHead):
        return False
    return not getattr(sender, "audit_exempt", False)


@receiver(pre_save)
def remember_before(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or not _audited(sender) or instance.pk is None:
        return
    previous = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = audit.snapshot(previous) if previous is not None else None


@receiver(post_save)
def record_save(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw or not _audited(sender):
        return
    after = audit.snapshot(instance)
    before = None if created else getattr(instance, "_audit_before", None)
    if not created and before == after:
        return  # e.g. last_login touched with no visible change
    if sender._meta.label_lower == "auth.user" and not created and before is not None:
        changed = {k for k in after if before.get(k) != after[k]}
        if changed <= {"last_login"}:
            return  # the login itself is recorded by the login signal
    audit.record("create" if created else "update", obj=instance, changes=audit.diff(before, after))


@receiver(post_delete)
def record_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not _audited(sender):
        return
    audit.record("delete", obj=instance, changes=audit.diff(audit.snapshot(instance), None))


@receiver(m2m_changed)
def record_m2m(
    sender: Any, instance: Any, action: str, model: Any, pk_set: Any, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "post_clear") or not _audited(type(instance)):
        return
    audit.record(
        "update",
        obj=instance,
        detail={
            "relation": model._meta.label_lower,
            "operation": action.removeprefix("post_"),
            "ids": sorted(pk_set or []),
        },
    )


def _ip(request: Any) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


@receiver(user_logged_in)
def record_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from rempart.core.accounts import remember_at_login

    audit.record("login", obj=user, actor=audit.actor_for_user(user, _ip(request)))
    remember_at_login(request, user)


@receiver(user_logged_out)
def record_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record("logout", obj=user, actor=audit.actor_for_user(user, _ip(request)))


@receiver(user_login_failed)
def record_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit.record(
        "login_failed",
        object_type="auth.user",
        object_repr=username,
        actor=audit.Actor(name="anonymous", ip=_ip(request)),
        detail={"username": username},
        organisation_id=audit.organisation_of_username(username),
    )


@receiver(post_migrate)
def create_role_groups(sender: Any, **kwargs: Any) -> None:
    label = getattr(sender, "label", "")
    if label not in AUDITED_APP_LABELS - {"auth"}:
        return
    from rempart.core.roles import ensure_groups

    ensure_groups(label)
