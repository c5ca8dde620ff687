"""Reads of member records shaped for pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from auditlog.models import LogEntry
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization, User, subtree_filter
from branches.scope import user_scope
from members.models import Member


def get_member_for_user(user: User, pk: int) -> Member:
    """The member if the user works with their branch; 404 otherwise, the same as missing."""
    return get_object_or_404(Member.objects.visible_to(user).select_related("branch"), pk=pk)


def units_for_member_filter(user: User):
    """Units the member list can be narrowed to: the user's record scope, committees and branches."""
    scope = user_scope(user)
    units = (
        Organization.objects.all()
        if user.is_superuser
        else Organization.objects.filter(subtree_filter(scope.record_paths))
    )
    return units.active()


def branches_for_new_members(user: User):
    return units_for_member_filter(user).branches()


@dataclass(frozen=True)
class TimelineItem:
    at: datetime | date
    title: str
    detail: str
    actor: str


def member_timeline(member: Member) -> list[TimelineItem]:
    """Everything that happened to the member, newest first: record changes from the audit trail,
    registrations and evaluations. Four queries whatever the member's history."""
    items: list[TimelineItem] = []
    for entry in LogEntry.objects.get_for_object(member).select_related("actor"):
        changes = "; ".join(
            f"{field}: {old} → {new}" for field, (old, new) in (entry.changes_display_dict or {}).items()
        )
        items.append(TimelineItem(entry.timestamp, str(entry.get_action_display()), changes, _actor(entry.actor)))
    for registration in member.registrations.select_related("recorded_by"):
        items.append(
            TimelineItem(
                registration.registered_on, _registered_label(registration.year), "", _actor(registration.recorded_by)
            )
        )
    for evaluation in member.evaluations.select_related("recorded_by"):
        items.append(
            TimelineItem(
                evaluation.recorded_at,
                _evaluated_label(evaluation.year),
                evaluation.get_grade_display(),
                _actor(evaluation.recorded_by),
            )
        )
    return sorted(items, key=lambda item: _as_datetime(item.at), reverse=True)


def _actor(user: User | None) -> str:
    return user.display_name if user is not None else ""


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime(value.year, value.month, value.day))


def _registered_label(year: int) -> str:
    return _("Registered for %(year)d") % {"year": year}


def _evaluated_label(year: int) -> str:
    return _("Evaluated for %(year)d") % {"year": year}
