"""The one rule of who may do what to which object: role, scope, city, token limits.

Every page and every API operation of every module asks here, in this order:

1. **The role** in the module (pages: :func:`rempart.core.permissions.role_required`; the API:
   :func:`require_scope`, where a token must also carry the scope and its owner still hold
   the role). A missing role answers **403** and is audited: a role is no secret.
2. **The object's city**: it must be one the user's organisation works for (superusers: all).
   Each model names the path to its city in a class attribute ``city_path`` (e.g.
   ``"zone__city"``); a :class:`~rempart.core.models.City` is its own city. An object of
   another city answers **404**, exactly as an id that does not exist, so nobody learns which
   ids other cities have; the refusal is audited, under the object's city.
3. **Object rules that are not a city** (a practice's draft is its organisation's, a token is
   its owner's and their organisation admins'): a ``visible`` predicate, with the same 404.
4. **A token limited to lanes or zones** (``ApiToken.constraints``, see :class:`TokenLimits`):
   it may only post camera reads and read (:data:`LIMITED_SCOPES`), and reaches only objects of
   its lanes and zones (models name them in ``lane_path`` / ``zone_path``). Anything else
   answers **403**, audited. The camera path (:mod:`rempart.access.camera`) applies the same
   :class:`TokenLimits` to the tokens it keeps between batches.

:class:`Forbidden` and :class:`Hidden` are both Django's exceptions (a page gets the 403 or 404
page) and django-ninja's ``HttpError`` (the API answers ``{"detail": "<one line>"}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.db.models.manager import BaseManager
from django.http import Http404, HttpRequest
from ninja.errors import HttpError

from rempart.core import audit
from rempart.core.roles import TOKEN_SCOPES, has_role, user_cities

M = TypeVar("M", bound=Model)

#: The only scopes a token limited to lanes or zones may use: a camera posts reads and reads
#: its own lanes. It never sets a zone's mode, commands a barrier or answers a referral.
LIMITED_SCOPES = frozenset({"access:request", "access:read"})


class Forbidden(HttpError, PermissionDenied):
    """403: the role, the token's scope or its lane/zone limits (already audited)."""

    def __init__(self, message: str) -> None:
        HttpError.__init__(self, 403, message)


class Hidden(HttpError, Http404):
    """404: no such object, or one the caller may not know of (already audited if it exists)."""

    def __init__(self, message: str) -> None:
        HttpError.__init__(self, 404, message)


# --- token limits ----------------------------------------------------------------------------


def _idents(value: Any) -> frozenset[str] | None:
    """A limit's identifiers; a malformed limit allows nothing (fail closed)."""
    if value is None:
        return None
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    return frozenset()


@dataclass(frozen=True)
class TokenLimits:
    """The lanes and zones a token is limited to (None: not limited that way).

    Read from ``ApiToken.constraints`` (``{"lanes": [...], "zones": [...]}``). Each limit
    narrows: with both, a lane must be among the lanes *and* in one of the zones.
    """

    lanes: frozenset[str] | None = None
    zones: frozenset[str] | None = None

    @classmethod
    def of(cls, constraints: Any) -> TokenLimits:
        """The limits in ``constraints``; anything else in it (a typo such as ``"lane"``, a value
        that is not a list of ids) limits the token to nothing rather than to nothing less."""
        if not constraints:
            return cls()
        if not isinstance(constraints, dict) or set(constraints) - {"lanes", "zones"}:
            return cls(lanes=frozenset())
        return cls(lanes=_idents(constraints.get("lanes")), zones=_idents(constraints.get("zones")))

    @property
    def limited(self) -> bool:
        return self.lanes is not None or self.zones is not None

    def allows(self, lane: str | None, zone: str | None) -> bool:
        """Whether an object of ``lane`` (None: not of one lane) in ``zone`` is in reach."""
        if self.lanes is not None and (lane is None or lane not in self.lanes):
            return False
        return self.zones is None or (zone is not None and zone in self.zones)

    def allows_scope(self, scope: str) -> bool:
        return not self.limited or scope in LIMITED_SCOPES

    def refusal(self, what: str) -> str:
        """The one line of a 403 for ``what`` (e.g. ``"lane 'x'"``) out of reach."""
        return f"this token may not act on {what}; it is limited to {self.describe()}"

    def describe(self) -> str:
        """``"lanes a, b; zones z"`` (for refusals)."""
        parts = []
        if self.lanes is not None:
            parts.append(f"lanes {', '.join(sorted(self.lanes)) or '(none)'}")
        if self.zones is not None:
            parts.append(f"zones {', '.join(sorted(self.zones)) or '(none)'}")
        return "; ".join(parts) or "nothing"


def token_of(request: HttpRequest) -> Any:
    """The API token the request authenticated with, or None (sessions)."""
    return getattr(request, "api_token", None)


def limits_of(request: HttpRequest) -> TokenLimits:
    token = token_of(request)
    return TokenLimits.of(token.constraints) if token is not None else TokenLimits()


# --- refusals --------------------------------------------------------------------------------


def _refusal(request: HttpRequest, answered: int, reason: str, **fields: Any) -> None:
    token = token_of(request)
    audit.record(
        "permission_denied",
        object_type=fields.pop("object_type", "api" if token is not None else "page"),
        object_id=fields.pop("object_id", ""),
        object_repr=fields.pop("object_repr", request.path[:200]),
        city=fields.pop("city", None),
        detail={
            "reason": reason,
            "answered": answered,
            "method": request.method,
            "path": request.path[:200],
            **({"token": token.key_id} if token is not None else {}),
            **fields,
        },
    )


def forbid(request: HttpRequest, reason: str, **detail: Any) -> Forbidden:
    """Audit a 403 and return it to raise; ``reason`` is the one line the caller reads."""
    _refusal(request, 403, reason, **detail)
    return Forbidden(reason)


# --- 1. the role and the token's scope -------------------------------------------------------


def require_scope(request: HttpRequest, scope: str) -> None:
    """The API's gate: the owner's role for ``scope``; a token must carry ``scope``, and a
    token limited to lanes or zones may use only :data:`LIMITED_SCOPES`. 403, audited."""
    module, role = TOKEN_SCOPES[scope]
    token = token_of(request)
    if not has_role(request.user, module, role) or (
        token is not None and scope not in token.scopes
    ):
        raise forbid(request, f"this credential lacks the {scope!r} permission", scope=scope)
    limits = limits_of(request)
    if not limits.allows_scope(scope):
        raise forbid(
            request,
            f"this token is limited to {limits.describe()}: it may post reads and read them, "
            f"not use {scope!r}",
            scope=scope,
        )


# --- 2-4. the object -------------------------------------------------------------------------


def _follow(obj: Any, path: str) -> Any:
    for name in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def city_of(obj: Any) -> Any:
    """The city ``obj`` belongs to by its model's ``city_path`` (None: not bound to a city)."""
    from rempart.core.models import City

    if isinstance(obj, City):
        return obj
    path = getattr(type(obj), "city_path", None)
    return _follow(obj, path) if path else None


def _where(obj: Any) -> tuple[str | None, str | None]:
    """(lane ident, zone ident) of an object, by its model's ``lane_path`` / ``zone_path``."""
    model = type(obj)
    lane_path = getattr(model, "lane_path", None)
    zone_path = getattr(model, "zone_path", None)
    return (
        _follow(obj, lane_path) if lane_path else None,
        _follow(obj, zone_path) if zone_path else None,
    )


def check(
    request: HttpRequest,
    obj: Model,
    what: str,
    visible: Callable[[Any, Any], bool] | None = None,
) -> None:
    """Steps 2-4 for an object the caller named: 404 (:class:`Hidden`) if it is of a city
    the user does not serve or ``visible(user, obj)`` is false; 403 (:class:`Forbidden`) if
    the token's lane/zone limits do not reach it. Each refusal is audited."""
    user = request.user
    city = city_of(obj)
    hidden_because = ""
    if city is not None and not user_cities(user).filter(pk=city.pk).exists():
        hidden_because = "object of a city the user's organisation does not work for"
    elif visible is not None and not visible(user, obj):
        hidden_because = "object the user may not see"
    if hidden_because:
        _refusal(
            request,
            404,
            hidden_because,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            city=city,
        )
        raise Hidden(f"{what} does not exist")
    limits = limits_of(request)
    if limits.limited:
        lane, zone = _where(obj)
        if not limits.allows(lane, zone):
            raise forbid(
                request,
                limits.refusal(what),
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                city=city,
                lane=lane,
                zone=zone,
            )


def fetch(
    request: HttpRequest,
    queryset: QuerySet[M] | BaseManager[M],
    what: str,
    *,
    visible: Callable[[Any, Any], bool] | None = None,
    **lookup: Any,
) -> M:
    """The object of ``queryset`` matching ``lookup`` if the caller may reach it (:func:`check`);
    404 with ``"<what> does not exist"`` otherwise, the same for an id that does not exist."""
    rows = queryset.all()
    path = getattr(rows.model, "city_path", None)
    if path:
        rows = rows.select_related(path)
    try:
        obj = rows.filter(**lookup).first()
    except (ValueError, TypeError):  # an id of the wrong shape names nothing
        obj = None
    if obj is None:
        raise Hidden(f"{what} does not exist")
    check(request, obj, what, visible)
    return obj


def check_city(request: HttpRequest, city: Any, what: str) -> None:
    """404 (audited) when ``city`` is not one the user's organisation works for."""
    check(request, city, what)


def reachable(request: HttpRequest, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of lanes (``{"id": lane, "zone": zone, ...}``) the token's limits reach."""
    limits = limits_of(request)
    return [row for row in rows if limits.allows(row.get("id"), row.get("zone"))]
