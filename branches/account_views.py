"""Account administration (county staff for their county, the security administrator for all),
the sign-in log (security administrator) and the audit trail (audit administrator)."""

from __future__ import annotations

from urllib.parse import urlencode

from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches import account_services, selectors
from branches.account_search import accounts_matching
from branches.audit import account_history
from branches.forms import (
    AccountCreateForm,
    AccountSearchForm,
    HandOverForm,
    RoleEndForm,
    RoleGrantForm,
    attach_service_errors,
)
from branches.models import LoginEvent, Role, RoleAssignment, User
from branches.scope import user_scope

PAGE_SIZE = 50


def _filters_query(filters: dict[str, str]) -> str:
    """The list's active filters as a query string, so that pagination links keep them."""
    return urlencode({key: value for key, value in filters.items() if value})


def _require_account_admin(request: HttpRequest) -> None:
    if not selectors.may_manage_accounts(request.user):
        raise PermissionDenied


def _require_role(request: HttpRequest, role: str) -> None:
    if not (request.user.is_superuser or user_scope(request.user).has_role(role)):
        raise PermissionDenied


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    _require_account_admin(request)
    search = AccountSearchForm(request.GET or None)
    accounts = selectors.manageable_accounts(request.user).order_by("username")
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    if query:
        accounts = accounts_matching(accounts, query)
    accounts = accounts.prefetch_related(
        Prefetch(
            "roles",
            queryset=RoleAssignment.objects.active_on().select_related("organization", "party_organization"),
            to_attr="active_roles",
        )
    )
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "branches/account_list.html",
        {"page": page, "search": search, "query": query, "query_string": _filters_query({"q": query})},
    )


@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    _require_account_admin(request)
    form = AccountCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user, password = account_services.account_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            return _show_temporary_password(request, user, password)
    return render(request, "branches/account_form.html", {"form": form, "title": _("New account")})


def _show_temporary_password(request: HttpRequest, user: User, password: str) -> HttpResponse:
    # Shown once, never stored in clear or sent anywhere: the administrator passes it on in person.
    response = render(request, "branches/temporary_password.html", {"account": user, "password": password})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_account_admin(request)
    account = selectors.get_account_for_user(request.user, pk)
    assignments = account.roles.select_related("organization", "party_organization", "deputy_for").order_by(
        "-starts_on"
    )
    return render(
        request,
        "branches/account_detail.html",
        {
            "account": account,
            "assignments": assignments,
            "history": account_history(account)[:50],
            "show_record": True,
        },
    )


@login_required
@require_POST
def account_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    _require_account_admin(request)
    account = selectors.get_account_for_user(request.user, pk)
    try:
        password = account_services.account_reset_password(actor=request.user, user=account)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("branches:account", pk=account.pk)
    return _show_temporary_password(request, account, password)


@login_required
@require_POST
def account_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    _require_account_admin(request)
    account = selectors.get_account_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        account_services.account_set_active(actor=request.user, user=account, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The account has been enabled.") if active else _("The account has been disabled."))
    return redirect("branches:account", pk=account.pk)


@login_required
def role_grant(request: HttpRequest, pk: int) -> HttpResponse:
    _require_account_admin(request)
    account = selectors.get_account_for_user(request.user, pk)
    accounts = selectors.manageable_accounts(request.user)
    form = RoleGrantForm(request.POST or None, actor=request.user, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.role_grant(actor=request.user, user=account, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The role has been assigned."))
            return redirect("branches:account", pk=account.pk)
    return render(
        request, "branches/account_form.html", {"form": form, "account": account, "title": _("Assign a role")}
    )


def _get_assignment(request: HttpRequest, pk: int) -> RoleAssignment:
    assignment = get_object_or_404(RoleAssignment.objects.select_related("user", "organization"), pk=pk)
    selectors.get_account_for_user(request.user, assignment.user_id)  # 404 outside the actor's remit
    return assignment


@login_required
def role_end(request: HttpRequest, pk: int) -> HttpResponse:
    _require_account_admin(request)
    assignment = _get_assignment(request, pk)
    form = RoleEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.role_end(actor=request.user, assignment=assignment, on_date=form.cleaned_data["on_date"])
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The role has been ended."))
            return redirect("branches:account", pk=assignment.user_id)
    return render(
        request,
        "branches/account_form.html",
        {"form": form, "account": assignment.user, "assignment": assignment, "title": _("End a role")},
    )


@login_required
def role_hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    _require_account_admin(request)
    assignment = _get_assignment(request, pk)
    form = HandOverForm(
        request.POST or None, accounts=selectors.manageable_accounts(request.user), exclude=assignment.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            new = account_services.role_hand_over(actor=request.user, assignment=assignment, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(role)s has been handed over to %(successor)s.")
                % {"role": assignment, "successor": new.user.display_name},
            )
            return redirect("branches:account", pk=new.user_id)
    return render(
        request,
        "branches/account_form.html",
        {"form": form, "account": assignment.user, "assignment": assignment, "title": _("Hand over a role")},
    )


@login_required
def sign_in_log(request: HttpRequest) -> HttpResponse:
    """The security administrator's page: recent sign-in events and the usernames locked now."""
    _require_role(request, Role.SECURITY_ADMIN)
    events = LoginEvent.objects.select_related("user")
    username = request.GET.get("username", "").strip().lower()
    if username:
        events = events.filter(username=username)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "branches/sign_in_log.html",
        {
            "page": page,
            "username": username,
            "locked": selectors.locked_usernames_recent(),
            "query_string": _filters_query({"username": username}),
        },
    )


@login_required
@require_POST
def unlock_username(request: HttpRequest) -> HttpResponse:
    _require_role(request, Role.SECURITY_ADMIN)
    username = request.POST.get("username", "")
    account_services.account_unlock(actor=request.user, username=username)
    messages.success(request, _("%(username)s can sign in again.") % {"username": username})
    return redirect("branches:sign-ins")


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    """The audit administrator reads every entry; nothing on this page changes anything."""
    _require_role(request, Role.AUDIT_ADMIN)
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp")
    actor = request.GET.get("actor", "").strip()
    model = request.GET.get("model", "").strip()
    if actor:
        entries = entries.filter(actor__username__iexact=actor)
    if model:
        entries = entries.filter(content_type__model=model)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    models = LogEntry.objects.order_by().values_list("content_type__app_label", "content_type__model").distinct()
    return render(
        request,
        "branches/audit_trail.html",
        {
            "page": page,
            "actor": actor,
            "model": model,
            "models": sorted({m for _app, m in models}),
            "query_string": _filters_query({"actor": actor, "model": model}),
        },
    )
