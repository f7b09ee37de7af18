"""Pages of the core: dashboard, sites (map, draw, import/export), audit trail, API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rempart.core import audit
from rempart.core.access_rules import check_city, fetch
from rempart.core.audit_visibility import visible_entries
from rempart.core.forms import SiteEventForm, SiteForm, SiteImportForm, TokenForm
from rempart.core.models import ApiToken, City, CityBasemap, Site, SiteEvent
from rempart.core.people import managed_users
from rempart.core.permissions import deny, role_required
from rempart.core.plugins import plugins
from rempart.core.roles import has_role, user_cities
from rempart.core.sites_io import SiteImportError, export_sites, import_sites
from rempart.inputs import InputError, check_size

SESSION_CITY = "rempart_city"


def current_city(request: HttpRequest) -> City | None:
    """The city the user is looking at: ?city=slug, else the one in the session, else the first."""
    cities = user_cities(request.user)
    wanted = request.GET.get("city") or request.session.get(SESSION_CITY)
    city = cities.filter(slug=wanted).first() if wanted else None
    if city is None:
        city = cities.first()
    if city is not None:
        request.session[SESSION_CITY] = city.slug
        timezone.activate(city.timezone)  # this request's dates too (the middleware's are next)
    return city


def required_city(request: HttpRequest) -> City:
    """The current city, or 403 (audited) when the user's organisation works for none."""
    city = current_city(request)
    if city is None:
        raise deny(request, "your organisation works for no city yet")
    return city


def _module_counts(user: Any, city: City) -> list[tuple[str, str, int]]:
    """(module, label, count) for the dashboard, for whichever module apps define counters,
    only of the modules where ``user`` holds a role (a figure is a module's data too)."""
    counts: list[tuple[str, str, int]] = []
    if has_role(user, "core", "viewer"):
        counts.append(("core", _("Sites"), city.sites.count()))
    for label, module in plugins("dashboard"):
        if has_role(user, label, "viewer"):
            counts.extend((label, text, value) for text, value in module.counts(city))
    return counts


def _waiting(user: Any, city: City) -> list[tuple[str, int, str]]:
    """(what, how many, where to act) waiting for ``user``, from module apps whose dashboard
    plug-in defines ``waiting(user, city)`` and where the user holds a role; only what is there
    (count above zero)."""
    items: list[tuple[str, int, str]] = []
    for label, module in plugins("dashboard"):
        if hasattr(module, "waiting") and has_role(user, label, "viewer"):
            items.extend(item for item in module.waiting(user, city) if item[1] > 0)
    return items


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    # the sites and their map are the core module's: for its viewers only
    sites = city.sites.all() if has_role(request.user, "core", "viewer") else Site.objects.none()
    context: dict[str, Any] = {
        "city": city,
        "cities": user_cities(request.user),
        "sites": sites,
        "show_sites": has_role(request.user, "core", "viewer"),
        "sites_geojson": {"type": "FeatureCollection", "features": [s.as_feature() for s in sites]},
        "counts": _module_counts(request.user, city),
        "waiting": _waiting(request.user, city),
        "basemap_url": _basemap_url(city),
    }
    if has_role(request.user, "core", "admin"):
        visible = visible_entries(request.user)
        context["recent_audit"] = visible.filter(city__in=["", city.slug])[:10]
    return render(request, "core/dashboard.html", context)


def _basemap_url(city: City) -> str:
    from django.urls import reverse

    if CityBasemap.objects.filter(city=city).exists():
        return reverse("core:basemap", args=[city.slug])
    return ""


@role_required("core", "viewer")
def basemap(request: HttpRequest, slug: str) -> HttpResponse:
    city = fetch(request, City.objects, f"city {slug!r}", slug=slug)
    layer = get_object_or_404(CityBasemap, city=city)
    response = HttpResponse(layer.geojson, content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@role_required("core", "viewer")
def site_list(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    sites = city.sites.all()
    query = request.GET.get("q", "").strip()
    if query:
        sites = sites.filter(name__icontains=query)
    template = (
        "core/_site_rows.html" if request.headers.get("HX-Request") else "core/site_list.html"
    )
    return render(
        request,
        template,
        {"city": city, "cities": user_cities(request.user), "sites": sites, "q": query},
    )


def _site_for(request: HttpRequest, pk: int) -> Site:
    return fetch(request, Site.objects, f"site {pk}", pk=pk)


@role_required("core", "viewer")
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site_for(request, pk)
    panels = []
    for _label, module in plugins("site_panel"):
        panel = module.panel(request, site)
        if panel:
            panels.append(panel)
    return render(
        request,
        "core/site_detail.html",
        {
            "site": site,
            "city": site.city,
            "events": site.events.all(),
            "site_geojson": {"type": "FeatureCollection", "features": [site.as_feature()]},
            "basemap_url": _basemap_url(site.city),
            "event_form": SiteEventForm(),
            "panels": panels,
        },
    )


@role_required("core", "editor")
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    site = _site_for(request, pk) if pk is not None else None
    cities = user_cities(request.user)
    city = site.city if site else current_city(request)
    form = SiteForm(request.POST or None, instance=site, cities=cities, initial={"city": city})
    if request.method == "POST" and form.is_valid():
        check_city(request, form.cleaned_data["city"], "city")
        saved = form.save()
        messages.success(request, _("Site “%(name)s” saved.") % {"name": saved.name})
        return redirect(saved)
    geojson = {"type": "FeatureCollection", "features": [site.as_feature()] if site else []}
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "core/site_form.html",
        {
            "form": form,
            "site": site,
            "city": city,
            "site_geojson": geojson,
            "basemap_url": _basemap_url(city) if city else "",
        },
        status=status,
    )


@role_required("core", "editor")
@require_http_methods(["GET", "POST"])
def site_delete(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site_for(request, pk)
    if request.method == "POST":
        name = site.name
        site.delete()
        messages.success(request, _("Site “%(name)s” deleted.") % {"name": name})
        return redirect("core:site_list")
    return render(request, "core/site_confirm_delete.html", {"site": site})


@role_required("core", "editor")
@require_POST
def site_event_add(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site_for(request, pk)
    form = SiteEventForm(request.POST)
    if form.is_valid():
        event = form.save(commit=False)
        event.site = site
        event.save()
        messages.success(request, _("Event added."))
        return redirect(site)
    return render(request, "core/site_event_form.html", {"site": site, "form": form}, status=400)


@role_required("core", "editor")
@require_POST
def site_event_delete(request: HttpRequest, pk: int, event_pk: int) -> HttpResponse:
    site = _site_for(request, pk)
    get_object_or_404(SiteEvent, pk=event_pk, site=site).delete()
    return redirect(site)


@role_required("core", "editor")
@require_http_methods(["GET", "POST"])
def site_import(request: HttpRequest) -> HttpResponse:
    cities = user_cities(request.user)
    form = SiteImportForm(
        request.POST or None,
        request.FILES or None,
        cities=cities,
        initial={"city": current_city(request)},
    )
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        what = _("file %(name)s") % {"name": upload.name}
        try:
            check_size(upload.size, what)
            saved = import_sites(form.cleaned_data["city"], upload.read(), what=what)
        except InputError as exc:
            errors = [str(exc)]
        except SiteImportError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("%(count)d sites imported.") % {"count": len(saved)})
            return redirect("core:site_list")
    status = 400 if request.method == "POST" else 200
    return render(request, "core/site_import.html", {"form": form, "errors": errors}, status=status)


@role_required("core", "viewer")
def site_export(request: HttpRequest) -> HttpResponse:
    city = required_city(request)
    data = export_sites(city.sites.all(), city=city)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Type"] = "application/geo+json"
    response["Content-Disposition"] = f'attachment; filename="{city.slug}-sites.geojson"'
    return response


@role_required("core", "viewer")
def site_geojson(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site_for(request, pk)
    data = export_sites([site], city=site.city)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/geo+json"
    return response


@role_required("core", "admin")
def audit_list(request: HttpRequest) -> HttpResponse:
    current_city(request)  # its time zone labels the time column
    entries = visible_entries(request.user)
    filters = {key: request.GET.get(key, "").strip() for key in ("action", "actor", "object_type")}
    for key, value in filters.items():
        if value:
            entries = entries.filter(**{f"{key}__icontains": value})
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    audit.record(
        "sensitive_read",
        object_type="core.auditentry",
        object_repr="audit trail",
        detail={"filters": filters, "page": page.number},
    )
    return render(request, "core/audit_list.html", {"page": page, "filters": filters})


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's own tokens and a form for a new one; for core admins, also the tokens of the
    people of their organisation (to revoke a lost camera's, for instance)."""
    form = TokenForm(request.POST or None, user=request.user)
    new_secret = ""
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            _token, new_secret = ApiToken.issue(
                request.user,
                form.cleaned_data["name"],
                list(form.cleaned_data["scopes"]),
                constraints=form.constraints(),
                expires_at=form.cleaned_data.get("expires_at"),
            )
        form = TokenForm(user=request.user)
    tokens = request.user.api_tokens.all()  # type: ignore[union-attr]
    managed = (
        ApiToken.objects.filter(user__in=managed_users(request.user))
        .exclude(pk__in=tokens.values_list("pk", flat=True))
        .select_related("user")
    )
    return render(
        request,
        "core/token_list.html",
        {"form": form, "tokens": tokens, "managed": managed, "new_secret": new_secret},
        status=400 if request.method == "POST" and form.errors else 200,
    )


def _may_revoke(user: Any, token: ApiToken) -> bool:
    """A token is revoked by its owner, or by a core admin of the owner's organisation (never
    by another organisation's admin: its cameras are another city's), or by a superuser."""
    return token.user_id == user.pk or managed_users(user).filter(pk=token.user_id).exists()


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = fetch(
        request, ApiToken.objects.select_related("user"), f"token {pk}", visible=_may_revoke, pk=pk
    )
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    messages.success(request, _("Token revoked."))
    return redirect("core:token_list")
