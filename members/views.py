"""Member pages: list with search and filters, the member's page, create and edit."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches import unit_search
from branches.forms import attach_service_errors
from branches.scope import user_scope
from members import exports, idnumbers, selectors, services
from members.filters import MemberFilter
from members.forms import MemberForm
from members.models import Member

PAGE_SIZE = 50


def _require_member_access(request: HttpRequest) -> None:
    if not (request.user.is_superuser or user_scope(request.user).record_paths):
        raise PermissionDenied


def _safe_params(data, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """Filter parameters fit for a URL or the audit trail: a whole ID number becomes its keyed hash."""
    params = {key: value for key, value in data.items() if key not in ("csrfmiddlewaretoken", *drop) and value}
    number = idnumbers.normalize(params.get("q", ""))
    if len(number) == 18:
        params.pop("q")
        params["idh"] = idnumbers.lookup_hash(number)
    return params


def _search_redirect(request: HttpRequest) -> HttpResponse:
    """The search form is posted, so that a whole ID number typed into it never appears in a URL or
    an access log."""
    return redirect(f"{request.path}?{urlencode(_safe_params(request.POST))}")


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    _require_member_access(request)
    if request.method == "POST":
        return _search_redirect(request)
    filters, queryset = _filtered_members(request)
    page = selectors.MemberListPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = _safe_params(request.GET, drop=("page",))
    return render(
        request,
        "members/member_list.html",
        {
            "filters": filters,
            "page": page,
            "query_string": urlencode(kept),
            "may_create": unit_search.record_branches(request.user).exists(),
            "may_export": request.user.is_superuser or user_scope(request.user).may_export_records,
            "may_export_full": services.may_see_full_id_numbers(request.user),
        },
    )


def _filtered_members(request: HttpRequest):
    """The list's filters; one that does not make sense (a unit out of scope, a typo) is dropped with
    a message next to it, and the others still apply: an error never widens the list."""
    members = Member.objects.visible_to(request.user).select_related("branch")
    units = unit_search.record_units(request.user)
    filters = MemberFilter(request.GET or None, members, units=units)
    if filters.is_bound and not filters.is_valid():
        valid = request.GET.copy()
        for name in filters.errors:
            valid.pop(name, None)
        shown_errors = filters.errors
        filters = MemberFilter(valid, members, units=units)
        filters.is_valid()
        filters.form._errors.update(shown_errors)
    return filters, filters.qs


@login_required
def member_export(request: HttpRequest) -> HttpResponse:
    """The current filtered list as .xlsx or .csv; a right of its own, and audited."""
    _require_member_access(request)
    file_format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    full_id_numbers = request.GET.get("full") == "1"
    _filters, members = _filtered_members(request)
    members = exports.exportable(request.user, members, full_id_numbers=full_id_numbers)
    kept = urlencode(_safe_params(request.GET, drop=("format", "full", "page")))
    exports.record_export(
        request.user, count=members.count(), filters=kept, file_format=file_format, full_id_numbers=full_id_numbers
    )
    filename = quote(f"{_('Members')}-{timezone.localdate():%Y%m%d}.{file_format}")
    if file_format == "csv":
        response = StreamingHttpResponse(
            exports.export_csv(members, full_id_numbers=full_id_numbers), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            exports.export_xlsx(members, full_id_numbers=full_id_numbers),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.get_member_for_user(request.user, pk)
    return render(
        request,
        "members/member_detail.html",
        {
            "member": member,
            "timeline": selectors.member_timeline(member),
            "years": selectors.yearly_record(member),
            "may_edit": member.is_active and services.may_edit_members_in(request.user, member.branch),
            "may_reinstate": not member.is_active and services.may_edit_members_in(request.user, member.branch),
            "may_reveal": services.may_see_full_id_numbers(request.user, member.branch),
        },
    )


@login_required
def member_create(request: HttpRequest) -> HttpResponse:
    _require_member_access(request)
    branches = unit_search.record_branches(request.user)
    named = request.GET.get("branch")  # after "Save and add another": the same branch
    form = MemberForm(request.POST or None, branches=branches, initial={"branch": named} if named else None)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            member = services.member_create(actor=request.user, **fields)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s has been added.") % {"name": member.name})
            if "add_another" in request.POST:
                return redirect(f"{request.path}?branch={member.branch_id}")
            return redirect("members:member", pk=member.pk)
    return render(request, "members/member_form.html", {"form": form, "title": _("New member")})


@login_required
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.get_member_for_user(request.user, pk)
    if not services.may_edit_members_in(request.user, member.branch):
        raise PermissionDenied
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            services.member_update(actor=request.user, member=member, **fields)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("members:member", pk=member.pk)
    member.refresh_from_db()
    return render(
        request,
        "members/member_form.html",
        {"form": form, "member": member, "title": _("Edit %(name)s") % {"name": member.name}},
    )


@login_required
@require_POST
def member_reveal_id(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full ID number once, to a role that needs it; the look is audited."""
    member = selectors.get_member_for_user(request.user, pk)
    number = services.member_reveal_id_number(actor=request.user, member=member)
    response = render(request, "members/member_id.html", {"member": member, "number": number})
    response["Cache-Control"] = "no-store"
    return response
