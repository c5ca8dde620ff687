"""The honours section of the member's and the unit's pages (one query each), kept here so those
pages' views stay as they are."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from branches.honour_services import may_record_honours
from branches.models import Honour, Organization
from members.models import Member

register = template.Library()


@register.inclusion_tag("branches/honours/_honours.html", takes_context=True)
def member_honours(context: template.Context, member: Member) -> dict:
    """The member's current honours; the member's page is already limited to people who keep the record."""
    user = context["request"].user
    may_add = member.is_active and may_record_honours(user, member.branch)
    return {
        "honours": list(Honour.objects.current().filter(member=member).select_related("title")),
        "add_url": f"{reverse('branches:honour-create')}?{urlencode({'member': member.pk})}" if may_add else "",
    }


@register.inclusion_tag("branches/honours/_unit_honours.html", takes_context=True)
def unit_honours(context: template.Context, unit: Organization) -> dict:
    """The unit's own current honours, for people who keep its records (not for Party organizers or
    administrators, who may open the unit's page but see no records of it)."""
    user = context["request"].user
    if not may_record_honours(user, unit):
        return {"shown": False}
    return {
        "shown": True,
        "honours": list(Honour.objects.current().filter(organization=unit).select_related("title")),
        "add_url": f"{reverse('branches:honour-create')}?{urlencode({'unit': unit.pk})}" if unit.is_active else "",
        "more_url": f"{reverse('branches:honours')}?{urlencode({'unit': unit.pk})}",
        "more_label": _("Honours of its members and units"),
    }
