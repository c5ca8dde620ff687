"""Pages of the organization tree, the home page and the health check. Thin: fetch in scope,
validate with a form, call a service, redirect."""

from __future__ import annotations

import os
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from branches import account_services, selectors, services
from branches.audit import history_for
from branches.forms import (
    NewPasswordRequiredForm,
    OrganizationDissolveForm,
    OrganizationForm,
    OrganizationMoveForm,
    PartyOrganizationForm,
    attach_service_errors,
)
from branches.models import (
    BRANCH_KINDS,
    INSTANCE_ROLES,
    STAFF_ROLES,
    Organization,
    OrganizationKind,
    PartyOrganization,
    Role,
)
from branches.scope import user_scope
from branches.searched_choices import SearchedKind
from leagueadmin.celery import app as celery_app
from members.selectors import member_summary


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachability, for load balancers and monitoring."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001  any failure means unreachable: report it, don't raise
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            if conn.transport.driver_type == "filesystem":
                _check_broker_folders(conn.transport_options)
    except Exception as exc:  # noqa: BLE001  as above
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_broker_folders(options: dict) -> None:
    """kombu's filesystem transport "connects" without touching the disk: check its folders."""
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        folder = options[key]
        if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            raise FileNotFoundError(folder)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What this person should do next, and the numbers of their scope."""
    user = request.user
    scope = user_scope(user)
    counts = selectors.scope_unit_counts(user)
    context = {
        "scope": scope,
        "assignments": scope.assignments,
        "committee_counts": [
            (kind.label, counts[kind]) for kind in OrganizationKind if kind not in BRANCH_KINDS and counts.get(kind)
        ],
        "branch_kind_counts": [
            (kind.label, counts[kind]) for kind in OrganizationKind if kind in BRANCH_KINDS and counts.get(kind)
        ],
        "branch_count": sum(n for kind, n in counts.items() if kind in BRANCH_KINDS),
        "is_staff_role": scope.has_role(*STAFF_ROLES),
        "is_instance_role": bool(scope.roles & INSTANCE_ROLES) or user.is_superuser,
    }
    if scope.has_role(*STAFF_ROLES):
        context["without_secretary"] = selectors.branches_without_secretary(user)
        context["without_party"] = selectors.units_without_party_pairing(user)
    if scope.has_role(Role.SECURITY_ADMIN):
        context["locked_usernames"] = selectors.locked_usernames_recent()
    context["members"] = member_summary(user)
    own_units = [a.organization for a in scope.assignments if a.organization is not None]
    own_units += Organization.objects.filter(path__in=scope.exact_paths)  # a Party organizer's pairings
    context["own_units"] = list(dict.fromkeys(own_units))
    context["incomplete_units"] = [u for u in context["own_units"] if not (u.party_organization_id and u.contact_phone)]
    return render(request, "branches/home.html", context)


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    show_dissolved = request.GET.get("dissolved") == "1"
    query = request.GET.get("q", "").strip()
    if query:
        matches = selectors.search_units(request.user, query, include_dissolved=show_dissolved)
        return render(
            request, "branches/tree.html", {"matches": matches, "query": query, "show_dissolved": show_dissolved}
        )
    roots = selectors.visible_tree(request.user, include_dissolved=show_dissolved)
    return render(request, "branches/tree.html", {"roots": roots, "show_dissolved": show_dissolved})


@require_safe
@login_required
def tree_children(request: HttpRequest, pk: int) -> HttpResponse:
    """The units right below one unit, as items of the tree page's list (static/js/unit-tree.js loads
    them when the unit is opened)."""
    unit = selectors.get_organization_for_user(request.user, pk)
    show_dissolved = request.GET.get("dissolved") == "1"
    nodes = selectors.visible_tree(request.user, include_dissolved=show_dissolved, under=unit)
    return render(request, "branches/_tree_nodes.html", {"nodes": nodes, "show_dissolved": show_dissolved})


def _breadcrumbs(request: HttpRequest, unit, *, include_self: bool = False) -> list[tuple[object, bool]]:
    """Ancestors with whether the user may open them (a secretary sees the names, not the pages)."""
    scope = user_scope(request.user)
    crumbs = [(ancestor, scope.sees(ancestor)) for ancestor in Organization.objects.get_ancestors(unit)]
    return [*crumbs, (unit, True)] if include_self else crumbs


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = selectors.get_organization_for_user(request.user, pk)
    scope = user_scope(request.user)
    manages = scope.manages(unit)
    children = list(Organization.objects.get_children(unit).select_related("party_organization"))
    context = {
        "unit": unit,
        "breadcrumbs": _breadcrumbs(request, unit),
        "children": children,
        "manages": manages,
        "manages_parent": scope.manages_strictly_below(unit),
        "holders": selectors.accounts_at(unit) if manages else [],
        "history": list(history_for(unit)[:50]) if manages or scope.has_role(Role.AUDIT_ADMIN) else None,
        "may_add_children": manages and unit.is_active and not unit.is_branch,
    }
    return render(request, "branches/unit_detail.html", context)


@login_required
def unit_create(request: HttpRequest, parent_pk: int) -> HttpResponse:
    parent = selectors.get_organization_for_user(request.user, parent_pk, manage=True)
    if parent.is_branch or not parent.is_active:
        messages.error(request, _("No unit can be created under %(unit)s.") % {"unit": parent})
        return redirect("branches:unit", pk=parent.pk)
    form = OrganizationForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.organization_create(actor=request.user, parent=parent, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("%(unit)s has been created.") % {"unit": unit})
            return redirect("branches:unit", pk=unit.pk)
    return render(
        request,
        "branches/unit_form.html",
        {"form": form, "parent": parent, "breadcrumbs": _breadcrumbs(request, parent, include_self=True)},
    )


def _refuse_dissolved(request: HttpRequest, unit: Organization) -> HttpResponse:
    messages.error(request, _("%(unit)s has been dissolved; its record can no longer change.") % {"unit": unit})
    return redirect("branches:unit", pk=unit.pk)


@login_required
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = selectors.get_organization_for_user(request.user, pk, manage=True)
    if not unit.is_active:
        return _refuse_dissolved(request, unit)
    form = OrganizationForm(request.POST or None, instance=unit)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(actor=request.user, organization=unit, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("branches:unit", pk=unit.pk)
    unit.refresh_from_db()  # the bound form wrote its input onto the instance
    return render(
        request,
        "branches/unit_form.html",
        {"form": form, "unit": unit, "breadcrumbs": _breadcrumbs(request, unit, include_self=True)},
    )


@login_required
def unit_move(request: HttpRequest, pk: int) -> HttpResponse:
    unit = selectors.get_organization_for_user(request.user, pk, manage=True, from_above=True)
    if not unit.is_active:
        return _refuse_dissolved(request, unit)
    form = OrganizationMoveForm(request.POST or None, user=request.user, organization=unit)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_move(
                actor=request.user, organization=unit, new_parent=form.cleaned_data["new_parent"]
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("%(unit)s has been moved.") % {"unit": unit})
            return redirect("branches:unit", pk=unit.pk)
    return render(
        request,
        "branches/unit_action.html",
        {
            "form": form,
            "unit": unit,
            "title": _("Move %(unit)s") % {"unit": unit},
            "breadcrumbs": _breadcrumbs(request, unit, include_self=True),
        },
    )


# What a picker's search reads of the text typed: more is no name or username, and PostgreSQL refuses
# a NUL character in a text parameter (an error page, not "nothing found").
SEARCHED_TEXT_LENGTH = 100


@never_cache
@login_required
@require_safe
def searched_choices(request: HttpRequest, kind: SearchedKind) -> JsonResponse:
    """What a searched picker of `kind` (branches.urls names it) offers for what was typed (`q`): the
    picker is named by `for` (kind.purposes, or e.g. move:<pk>), and the server works out its rows
    from the user. The answer names people: never kept by a browser or a proxy."""
    rows = kind.offered(request.user, request.GET.get("for", ""))
    typed = request.GET.get("q", "").replace("\x00", "")[:SEARCHED_TEXT_LENGTH]
    return JsonResponse({"results": [kind.as_choice(row) for row in kind.found(rows, typed)]})


@login_required
def unit_dissolve(request: HttpRequest, pk: int) -> HttpResponse:
    unit = selectors.get_organization_for_user(request.user, pk, manage=True, from_above=True)
    if not unit.is_active:
        return _refuse_dissolved(request, unit)
    form = OrganizationDissolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_dissolve(
                actor=request.user,
                organization=unit,
                on_date=form.cleaned_data["on_date"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("%(unit)s has been dissolved.") % {"unit": unit})
            return redirect("branches:unit", pk=unit.pk)
    return render(
        request,
        "branches/unit_action.html",
        {
            "form": form,
            "unit": unit,
            "title": _("Dissolve %(unit)s") % {"unit": unit},
            "danger": True,
            "breadcrumbs": _breadcrumbs(request, unit, include_self=True),
        },
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = NewPasswordRequiredForm

    def form_valid(self, form):
        response = super().form_valid(form)
        account_services.account_password_changed(user=form.user)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        account_services.account_password_changed(user=form.user, by_reset_link=True)
        return response


def _require_party_list_access(request: HttpRequest) -> None:
    scope = user_scope(request.user)
    if not (scope.sees_everything or scope.has_role(*STAFF_ROLES)):
        raise PermissionDenied


@login_required
def party_organization_list(request: HttpRequest) -> HttpResponse:
    """The county's Party organizations, with how many active units are paired with each."""
    _require_party_list_access(request)
    query = request.GET.get("q", "").strip()
    parties = (
        PartyOrganization.objects.visible_to(request.user)
        .annotate(unit_count=Count("units", filter=Q(units__dissolved_on__isnull=True)))
        .order_by("name")
    )
    if query:
        parties = parties.filter(Q(name__icontains=query) | Q(contact_name__icontains=query))
    page = Paginator(parties, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "branches/party_list.html",
        {
            "page": page,
            "query": query,
            "query_string": urlencode({"q": query}) if query else "",
            "may_manage": user_scope(request.user).has_role(Role.COUNTY_STAFF),
        },
    )


@login_required
def party_organization_create(request: HttpRequest) -> HttpResponse:
    scope = user_scope(request.user)
    county = next((a.organization for a in scope.assignments if a.role == Role.COUNTY_STAFF), None)
    if county is None:
        raise PermissionDenied
    form = PartyOrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            party = services.party_organization_create(actor=request.user, county=county, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("%(party)s has been recorded.") % {"party": party})
            return redirect("branches:party-organizations")
    return render(request, "branches/party_form.html", {"form": form, "title": _("New Party organization")})


@login_required
def party_organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    party = get_object_or_404(PartyOrganization.objects.visible_to(request.user), pk=pk)
    if not user_scope(request.user).manages(party.county):
        raise PermissionDenied
    form = PartyOrganizationForm(request.POST or None, instance=party)
    if request.method == "POST" and form.is_valid():
        try:
            services.party_organization_update(actor=request.user, party_organization=party, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("branches:party-organizations")
    party.refresh_from_db()
    return render(
        request,
        "branches/party_form.html",
        {"form": form, "title": _("Edit %(party)s") % {"party": party}, "history": list(history_for(party)[:50])},
    )
