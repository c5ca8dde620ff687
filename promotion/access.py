"""The record of who read a handed-over case: each time a Party organizer opens one, an access entry goes
to the audit trail, so the county sees who looked at what (promotion/county_views.py access_log)."""

from __future__ import annotations

from auditlog.models import LogEntry

from branches.audit import audit_event
from branches.models import User
from promotion.models import PromotionCase

# What an access entry says was looked at (branches.audit shows the key as a label).
ACCESS_CHANGE = {"handed_over_record": ["", "viewed"]}


def case_access_record(*, case: PromotionCase, actor: User) -> LogEntry:
    """One access entry for the case, naming the reader."""
    return audit_event(case, actor=actor, changes=ACCESS_CHANGE, action=LogEntry.Action.ACCESS)
