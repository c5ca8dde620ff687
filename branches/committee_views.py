"""Committee pages: a unit's committee with its current and past terms, recording an election,
changes during a term, cadre records; for committee staff, the county-wide lists of terms and
cadres and the cadre statistics. Thin: fetch in scope, validate, call a service, redirect."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import committee_selectors as selectors
from branches import committee_services as services
from branches.committee_forms import (
    CadreFilterForm,
    CadreForm,
    ElectionForm,
    SeatAddForm,
    SeatEndForm,
    SeatFormSet,
    StatisticsForm,
    TermCorrectForm,
    TermFilterForm,
)
from branches.forms import attach_service_errors
from branches.models import Cadre, CommitteePost, CommitteeSeat, Organization
from branches.views import _breadcrumbs

PAGE_SIZE = 50
POST_LABELS = dict(CommitteePost.choices)


def _unit_crumbs(request: HttpRequest, unit: Organization) -> list:
    return _breadcrumbs(request, unit, include_self=True)


@login_required
def committee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = selectors.get_committee_unit_for_user(request.user, pk)
    today = timezone.localdate()
    current, past, warnings = selectors.committee_terms(unit, today)
    may_manage = selectors.may_manage_committee(request.user, unit) and unit.is_active
    correctable = {
        view.term.pk
        for view in [current, *past]
        if view is not None and unit.is_active and selectors.may_correct_term(request.user, view.term)
    }
    correct_form = TermCorrectForm(term=current.term) if current and current.term.pk in correctable else None
    return render(
        request,
        "branches/committees/committee_detail.html",
        {
            "unit": unit,
            "breadcrumbs": _unit_crumbs(request, unit),
            "current": current,
            "past": past,
            "warnings": warnings,
            "today": today,
            "may_manage": may_manage,
            "correctable": correctable,
            "correct_form": correct_form,
            "default_years": selectors.default_term_years(unit),
            "history": selectors.committee_history(unit) if may_manage else None,
        },
    )


@login_required
def election_record(request: HttpRequest, pk: int) -> HttpResponse:
    unit = selectors.get_committee_unit_for_user(request.user, pk, manage=True)
    current = selectors.current_term(unit)
    # Re-elections are common: the rows start with the committee as it stands.
    initial = (
        [{"cadre": seat.cadre_id, "post": seat.post} for seat in selectors.seats_on_day(current, timezone.localdate())]
        if current
        else []
    )
    form = ElectionForm(request.POST or None, unit=unit)
    formset = SeatFormSet(
        request.POST or None,
        initial=initial,
        prefix="seats",
        actor=request.user,
        cadres=Cadre.objects.filter(organization=unit),
        roster=selectors.roster_for(unit),
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.election_record(
                organization=unit,
                actor=request.user,
                elected_on=form.cleaned_data["elected_on"],
                length_years=form.cleaned_data["length_years"],
                note=form.cleaned_data["note"],
                seats=formset.seat_inputs(),
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The election of %(unit)s has been recorded.") % {"unit": unit})
            return redirect("branches:committee", pk=unit.pk)
    return render(
        request,
        "branches/committees/election_form.html",
        {
            "unit": unit,
            "current": current,
            "form": form,
            "formset": formset,
            "breadcrumbs": _unit_crumbs(request, unit),
        },
    )


@login_required
def seat_add(request: HttpRequest, pk: int) -> HttpResponse:
    unit = selectors.get_committee_unit_for_user(request.user, pk, manage=True)
    term = selectors.current_term(unit)
    if term is None:
        messages.error(request, _("Record the committee's election first."))
        return redirect("branches:committee-election", pk=unit.pk)
    sitting = CommitteeSeat.objects.filter(term=term, until__isnull=True).values("cadre_id")
    form = SeatAddForm(
        request.POST or None,
        actor=request.user,
        cadres=Cadre.objects.filter(organization=unit).exclude(pk__in=sitting),
        roster=selectors.roster_for(unit),
    )
    if request.method == "POST" and form.is_valid():
        seat = form.seat_input()
        try:
            services.seat_add(
                term=term,
                actor=request.user,
                post=seat.post,
                since=form.cleaned_data["since"],
                cadre=seat.cadre,
                person=seat.person,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The committee has been changed."))
            return redirect("branches:committee", pk=unit.pk)
    return render(
        request,
        "branches/committees/seat_form.html",
        {
            "unit": unit,
            "form": form,
            "title": _("Add someone to the committee of %(unit)s") % {"unit": unit},
            "breadcrumbs": _unit_crumbs(request, unit),
        },
    )


@login_required
def seat_end(request: HttpRequest, pk: int) -> HttpResponse:
    seat = selectors.get_seat_for_user(request.user, pk, manage=True)
    unit = seat.term.organization
    if seat.until is not None:
        messages.error(request, _("%(name)s no longer holds this post.") % {"name": seat.cadre.name})
        return redirect("branches:committee", pk=unit.pk)
    form = SeatEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.seat_end(
                seat=seat, actor=request.user, until=form.cleaned_data["until"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s has left the committee.") % {"name": seat.cadre.name})
            return redirect("branches:committee", pk=unit.pk)
    return render(
        request,
        "branches/committees/seat_form.html",
        {
            "unit": unit,
            "form": form,
            "danger": True,
            "title": _("%(name)s leaves the post of %(post)s")
            % {"name": seat.cadre.name, "post": seat.get_post_display()},
            "breadcrumbs": _unit_crumbs(request, unit),
        },
    )


@login_required
def term_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a mistaken term (the committee page offers the form for the current term)."""
    term = selectors.get_term_for_user(request.user, pk, correct=True)
    unit = term.organization
    form = TermCorrectForm(request.POST or None, term=term)
    if request.method == "POST" and form.is_valid():
        try:
            services.term_correct(term=term, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The term has been corrected."))
            return redirect("branches:committee", pk=unit.pk)
    return render(
        request,
        "branches/committees/term_form.html",
        {"unit": unit, "term": term, "form": form, "breadcrumbs": _unit_crumbs(request, unit)},
    )


@login_required
def cadre_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cadre = selectors.get_cadre_for_user(request.user, pk)
    today = timezone.localdate()
    return render(
        request,
        "branches/committees/cadre_detail.html",
        {
            "cadre": cadre,
            "age": selectors.age_on(cadre.birth_date, today),
            "age_warning": selectors.age_warning(cadre, today),
            "seats": selectors.cadre_seats(cadre),
            "may_manage": selectors.may_manage_committee(request.user, cadre.organization)
            and cadre.organization.is_active,
            "breadcrumbs": _unit_crumbs(request, cadre.organization),
        },
    )


@login_required
def cadre_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cadre = selectors.get_cadre_for_user(request.user, pk, manage=True)
    form = CadreForm(
        request.POST or None,
        instance=cadre,
        roster=selectors.roster_for(cadre.organization),
        may_grant_exception=selectors.may_grant_age_exception(request.user, cadre.organization),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.cadre_update(cadre=cadre, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("branches:cadre", pk=cadre.pk)
    cadre.refresh_from_db()  # the bound form wrote its input onto the instance
    return render(
        request,
        "branches/committees/cadre_form.html",
        {"cadre": cadre, "form": form, "breadcrumbs": _unit_crumbs(request, cadre.organization)},
    )


# --- the county-wide lists (committee staff) -------------------------------------------------------


def _valid_filters(form) -> dict:
    """The filters that make sense; a wrong one (a unit out of scope, a typo) is dropped, never
    widening or failing the list."""
    form.is_valid()
    return {name: value for name, value in getattr(form, "cleaned_data", {}).items() if name not in form.errors}


@login_required
def term_list(request: HttpRequest) -> HttpResponse:
    """Every committee in the user's units with its current term: by default those never recorded
    and the overdue first, with how many there are of each status."""
    selectors.require_staff(request.user)
    today = timezone.localdate()
    form = TermFilterForm(request.GET or None, townships=selectors.township_choices(request.user))
    filters = _valid_filters(form)
    units = selectors.committee_units(request.user)
    if filters.get("kind"):
        units = units.filter(kind=filters["kind"])
    if filters.get("sector"):
        units = units.filter(sector=filters["sector"])
    if filters.get("township"):
        units = units.filter(path__startswith=filters["township"].path)
    counts = selectors.term_status_counts(units, today)
    if filters.get("status"):
        units = units.filter(selectors.status_filter(filters["status"], today, "term_due_on"))
    if filters.get("sort") == "-due":
        units = units.order_by(F("term_due_on").desc(nulls_last=True), "path")
    elif filters.get("sort") != "tree":
        units = units.order_by(F("term_due_on").asc(nulls_first=True), "path")
    page = Paginator(units, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = {key: value for key, value in request.GET.items() if key != "page" and value}
    other_filters = {key: value for key, value in kept.items() if key != "status"}
    return render(
        request,
        "branches/committees/term_list.html",
        {
            "form": form,
            "page": page,
            "rows": selectors.term_rows(list(page.object_list), today),
            "query_string": urlencode(kept),
            "notice_days": selectors.notice_days(),
            "status_links": [
                (status, label, counts[status], urlencode({**other_filters, "status": status}))
                for status, label in selectors.TermStatus.CHOICES
            ],
        },
    )


@login_required
def cadre_list(request: HttpRequest) -> HttpResponse:
    selectors.require_staff(request.user)
    today = timezone.localdate()
    form = CadreFilterForm(request.GET or None)
    filters = _valid_filters(form)
    cadres = selectors.cadres_in_scope(request.user, today)
    if filters.get("q"):
        cadres = cadres.filter(name__icontains=filters["q"].strip())
    if filters.get("post"):
        cadres = cadres.filter(current_post=filters["post"])
    elif not filters.get("former"):
        cadres = cadres.filter(current_post__isnull=False)
    for field in ("employment", "establishment"):
        if filters.get(field):
            cadres = cadres.filter(**{field: filters[field]})
    if filters.get("over_age"):
        cadres = cadres.filter(selectors.over_age_q(today))
    page = Paginator(cadres, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = {key: value for key, value in request.GET.items() if key != "page" and value}
    return render(
        request,
        "branches/committees/cadre_list.html",
        {
            "form": form,
            "page": page,
            "rows": [
                (
                    c,
                    POST_LABELS.get(c.current_post, ""),
                    selectors.age_on(c.birth_date, today),
                    selectors.age_warning(c, today),
                )
                for c in page.object_list
            ],
            "query_string": urlencode(kept),
        },
    )


@login_required
def cadre_statistics(request: HttpRequest) -> HttpResponse:
    selectors.require_staff(request.user)
    townships = selectors.township_choices(request.user)
    form = StatisticsForm(request.GET or None, units=townships)
    filters = _valid_filters(form)
    day = filters.get("day") or timezone.localdate()
    units = selectors.staff_units(request.user)
    if filters.get("unit"):
        units = units.filter(path__startswith=filters["unit"].path)
    statistics = selectors.cadre_statistics(units, day)
    return render(
        request,
        "branches/committees/cadre_statistics.html",
        {
            "form": form,
            "statistics": statistics,
            "sections": [
                (_("Sex"), statistics.sex),
                (_("Education"), statistics.education),
                (_("Full-time or part-time"), statistics.employment),
                (_("Establishment"), statistics.establishment),
            ],
            "scope_label": filters.get("unit") or _("All my units"),
        },
    )
