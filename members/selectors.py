"""Reads of member records shaped for pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from auditlog.models import LogEntry
from django.shortcuts import get_object_or_404

from branches.audit import ACTION_LABELS, describe_changes
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
    at: datetime
    title: str
    detail: str
    actor: str


def member_timeline(member: Member) -> list[TimelineItem]:
    """Everything that happened to the member, newest first, from the audit trail: record changes,
    registrations, evaluations, transfers, leaving. One query whatever the member's history."""
    items = []
    for entry in LogEntry.objects.get_for_object(member).select_related("actor", "content_type"):
        changes = "; ".join(f"{label}: {old} → {new}" for label, old, new in describe_changes(entry))
        note = (entry.additional_data or {}).get("note", "")
        actor = entry.actor.display_name if entry.actor else ""
        items.append(
            TimelineItem(entry.timestamp, str(ACTION_LABELS.get(entry.action, "")), f"{changes} {note}".strip(), actor)
        )
    return items


@dataclass(frozen=True)
class YearRecord:
    year: int
    registered_on: date | None
    grade: str


def yearly_record(member: Member) -> list[YearRecord]:
    """Registration and evaluation year by year, newest first (two queries)."""
    registered = dict(member.registrations.values_list("year", "registered_on"))
    graded = {e.year: e.get_grade_display() for e in member.evaluations.all()}
    return [
        YearRecord(year, registered.get(year), graded.get(year, ""))
        for year in sorted(registered.keys() | graded.keys(), reverse=True)
    ]
