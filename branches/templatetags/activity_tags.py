"""The activities section of the unit's page, kept here so that page's view stays as it is."""

from __future__ import annotations

from django import template

from branches import activity_selectors
from branches.activity_services import may_record_activities
from branches.models import Activity, ActivityKind, Organization

register = template.Library()

RECENT = 3


@register.inclusion_tag("branches/activities/_unit_section.html", takes_context=True)
def unit_activities(context: template.Context, unit: Organization) -> dict:
    """Links to the unit's activities and its latest few, for the people who keep its records (not
    for Party organizers or administrators, who may open the unit's page but see no records of it)."""
    if not may_record_activities(context["request"].user, unit):
        return {"shown": False}
    return {
        "shown": True,
        "unit": unit,
        "recent": list(Activity.objects.filter(organization=unit).not_voided()[:RECENT]),
    }


@register.filter
def kind_label(kind: str) -> str:
    """An activity kind's name, from its stored value (completeness cells keep only the values)."""
    return ActivityKind(kind).label if kind in ActivityKind.values else kind


@register.filter
def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


@register.filter
def recorded_late(activity: Activity) -> bool:
    return activity_selectors.recorded_late(activity)
