"""Reminder rule about branch life (registered with branches.notifications; issue 6): from a
configurable day of the month (LEAGUE_RULES["activity_reminder_day"]) to its end, the secretaries of
every branch that has not yet recorded a required meeting of the month — or, in a quarter's last
month, of the quarter; in December, of the year — are reminded once for that month.

The window (the reminder day to the month's end), not the exact day, is what makes a day the
scheduler missed caught up on the next run; the unique key (rule, branch, month) makes it arrive once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.activity_selectors import branch_completeness, month_end, month_start
from branches.models import ActivityKind, NotificationKind, Organization, Role
from branches.notifications import Reminder, Rule, register, unit_role_holders

RULE_NAME = "activities_missing"


def activities_missing(day: date) -> Iterator[Reminder]:
    """Active branches with a required kind still outstanding for the period ending this month. A
    bounded number of queries: the completeness computation (four) and the secretaries (two)."""
    month = month_start(day)
    reminder_day = min(settings.LEAGUE_RULES["activity_reminder_day"], month_end(month).day)
    if day.day < reminder_day:
        return
    branches = Organization.objects.branches().active()
    table = branch_completeness(branches, month, month, today=day)
    outstanding = {row.unit.pk: row.cells[0].outstanding for row in table.rows if row.cells[0].outstanding}
    holders = unit_role_holders(outstanding, [Role.BRANCH_SECRETARY], day)
    for branch_id, kinds in outstanding.items():
        if branch_id not in holders:
            continue
        yield Reminder(
            recipients=frozenset(holders[branch_id]),
            kind=NotificationKind.BRANCH_LIFE,
            key=f"{RULE_NAME}:{branch_id}:{month:%Y-%m}",
            subject=_("Not yet recorded for %(month)s: %(kinds)s")
            % {"month": f"{month:%Y-%m}", "kinds": "、".join(str(ActivityKind(k).label) for k in kinds)},
            body=_(
                "Your branch has not recorded these required meetings yet. If they were held, record "
                "them (with attendance); if not, hold them before the end of the month."
            ),
            link=reverse("branches:activity-create", kwargs={"pk": branch_id}),
        )


register(Rule(RULE_NAME, gettext_lazy("Required meetings not recorded"), activities_missing))
