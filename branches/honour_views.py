"""Honours pages: the list for the user's scope, recording an honour for a member or a unit, an
honour's page and revoking a mistaken record. Thin: fetch in scope, validate, call the service."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from branches import honour_selectors as selectors
from branches import honour_services as services
from branches.audit import history_for
from branches.forms import attach_service_errors
from branches.honour_forms import HonourFilter, HonourForm, HonourRevokeForm, MemberFinderForm
from branches.scope import user_scope
from branches.selectors import has_record_scope
from branches.unit_search import record_branches, record_units
from members.selectors import get_member_for_user

PAGE_SIZE = 50
# Beyond this many matches the member select would be unusable on a phone: narrow the search first.
MEMBER_CHOICES_LIMIT = 200


def _require_record_scope(request: HttpRequest) -> None:
    if not has_record_scope(request.user):
        raise PermissionDenied


@login_required
def honour_list(request: HttpRequest) -> HttpResponse:
    _require_record_scope(request)
    units = record_units(request.user)
    filters = HonourFilter(request.GET or None, selectors.honours_in_scope(request.user), units=units)
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = {key: value for key, value in request.GET.items() if key != "page" and value}
    return render(
        request,
        "branches/honours/honour_list.html",
        {
            "filters": filters,
            "page": page,
            "query_string": urlencode(kept),
            "may_record": bool(user_scope(request.user).record_paths),
        },
    )


@login_required
def honour_create(request: HttpRequest) -> HttpResponse:
    """Record an honour: for the member given (`?member=`, from the member's page), for a unit
    (`?unit=`, from the unit's page, or `?for=unit`), or for a member found by branch and name.
    A member or unit out of the user's scope is 404, as on its own page."""
    user = request.user
    member, finder, members, units, initial = None, None, None, None, {}
    if "member" in request.GET:
        member = get_member_for_user(user, _int_or_404(request.GET["member"]))
        if not services.may_record_honours(user, member.branch):
            raise PermissionDenied
    elif "unit" in request.GET:
        units = record_units(user)
        initial["organization"] = get_object_or_404(units, pk=_int_or_404(request.GET["unit"]))
    else:
        _require_record_scope(request)
        if request.GET.get("for") == "unit":
            units = record_units(user)
        else:
            finder = MemberFinderForm(request.GET, branches=record_branches(user))
            found = finder.cleaned_data if finder.is_valid() else {}
            branch = found.get("branch")
            members = selectors.award_candidates(
                user, branch_id=branch.pk if branch else None, query=found.get("q", "").strip()
            )
    for_units = units is not None
    form = HonourForm(request.POST or None, for_units=for_units, members=members, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        fields.setdefault("member", member)
        try:
            honour = services.honour_award(actor=user, **fields)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(title)s has been recorded for %(recipient)s.")
                % {"title": honour.title, "recipient": honour.recipient},
            )
            if honour.member_id:
                return redirect("members:member", pk=honour.member_id)
            return redirect("branches:unit", pk=honour.organization_id)
    match_count = members.count() if members is not None else None
    if match_count is not None and match_count > MEMBER_CHOICES_LIMIT:
        form.fields.pop("member")  # too many to offer: the page asks to narrow the search
    return render(
        request,
        "branches/honours/honour_form.html",
        {
            "form": form,
            "member": member,
            "finder": finder,
            "match_count": match_count,
            "may_submit": match_count is None or 0 < match_count <= MEMBER_CHOICES_LIMIT,
            "for_units": for_units,
        },
    )


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404 from None


@login_required
def honour_detail(request: HttpRequest, pk: int) -> HttpResponse:
    honour = selectors.get_honour_for_user(request.user, pk)
    return render(
        request,
        "branches/honours/honour_detail.html",
        {
            "honour": honour,
            "may_revoke": not honour.is_revoked and services.may_revoke_honour(request.user, honour),
            "history": list(history_for(honour)[:50]),
        },
    )


@login_required
def honour_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks for the reason first: the confirmation of a destructive action."""
    honour = selectors.get_honour_for_user(request.user, pk, record=True)
    if not services.may_revoke_honour(request.user, honour):
        raise PermissionDenied
    if honour.is_revoked:
        messages.info(request, _("This honour has already been revoked."))
        return redirect("branches:honour", pk=honour.pk)
    form = HonourRevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.honour_revoke(honour=honour, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The honour has been revoked."))
            return redirect("branches:honour", pk=honour.pk)
    return render(request, "branches/honours/honour_revoke.html", {"form": form, "honour": honour})
