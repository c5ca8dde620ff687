"""The committee section of the unit's page and the small pieces the committee pages share, kept
here so that the unit page's view stays as it is."""

from __future__ import annotations

from django import template
from django.utils import timezone

from branches.committee_selectors import (
    TermStatus,
    current_term,
    seats_on_day,
    term_status,
)
from branches.models import CommitteePost, Organization
from branches.selectors import in_record_scope
from members.models import years_between

register = template.Library()

STATUS_CLASSES = {
    TermStatus.OVERDUE: "text-bg-danger",
    TermStatus.SOON: "text-bg-warning",
    TermStatus.OK: "text-bg-success",
    TermStatus.NONE: "text-bg-secondary",
}


@register.inclusion_tag("branches/committees/_status.html")
def term_status_badge(status: str) -> dict:
    return {"label": TermStatus.LABELS.get(status, ""), "css": STATUS_CLASSES.get(status, "text-bg-light")}


@register.inclusion_tag("branches/committees/_unit_committee.html", takes_context=True)
def unit_committee(context: template.Context, unit: Organization) -> dict:
    """The current term and its secretary, for people who work with the unit's records (two queries);
    Party organizers and administrators, who may open the unit's page, see nothing of it."""
    if not in_record_scope(context["request"].user, unit):
        return {"shown": False}
    today = timezone.localdate()
    term = current_term(unit)
    seats = seats_on_day(term, today) if term else []
    return {
        "shown": True,
        "unit": unit,
        "term": term,
        "status": term_status(term.due_on if term else None, today),
        "secretaries": [s.cadre.name for s in seats if s.post == CommitteePost.SECRETARY],
        "size": len(seats),
    }


@register.filter
def age_on(birth_date, day) -> int | str:
    """Whole years on `day` ({{ cadre.birth_date|age_on:today }})."""
    return years_between(birth_date, day) if birth_date and day else ""
