"""Reminder rules about members (registered with branches.notifications)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import NotificationKind, Role
from branches.notifications import Reminder, Rule, register, unit_role_holders
from members.lifecycle import over_age_due
from members.models import Member, Registration, Transfer, TransferStatus

EXPIRING_NOTICE_DAYS = 3  # remind both sides this many days before a transfer lapses
LAPSED_CATCH_UP_DAYS = 7  # a lapse is told within a week, even if the scheduler missed days

UNIT_ROLES = (Role.BRANCH_SECRETARY, Role.TOWNSHIP_STAFF, Role.COUNTY_STAFF)


def _to_both_sides(transfers: list[Transfer], day: date, key: str, subject, body: str) -> Iterator[Reminder]:
    """One reminder per transfer, to the role holders of the sending branch and the receiving unit."""
    units = {t.from_branch_id for t in transfers} | {t.to_unit_id for t in transfers if t.to_unit_id}
    holders = unit_role_holders(units, UNIT_ROLES, day)
    for transfer in transfers:
        yield Reminder(
            recipients=frozenset(holders.get(transfer.from_branch_id, set()) | holders.get(transfer.to_unit_id, set())),
            kind=NotificationKind.TRANSFER,
            key=f"{key}:{transfer.pk}",
            subject=subject(transfer),
            body=body,
            link=reverse("members:transfer", kwargs={"pk": transfer.pk}),
        )


def transfers_expiring(day: date) -> Iterator[Reminder]:
    due = Transfer.objects.pending().filter(
        expires_on__gte=day, expires_on__lte=day + timedelta(days=EXPIRING_NOTICE_DAYS)
    )
    return _to_both_sides(
        list(due.select_related("member")),
        day,
        "transfer-expiring",
        lambda t: (
            _("The transfer of %(name)s lapses after %(day)s")
            % {"name": t.member.name, "day": t.expires_on.isoformat()}
        ),
        _("Approve or reject it before then, or it lapses and has to be started again."),
    )


def transfers_lapsed(day: date) -> Iterator[Reminder]:
    lapsed = Transfer.objects.filter(
        status=TransferStatus.LAPSED,
        decided_at__date__gte=day - timedelta(days=LAPSED_CATCH_UP_DAYS),
        decided_at__date__lte=day,
    )
    return _to_both_sides(
        list(lapsed.select_related("member")),
        day,
        "transfer-lapsed",
        lambda t: _("The transfer of %(name)s has lapsed") % {"name": t.member.name},
        _("Nobody decided it in time. The member stays in the branch they were in."),
    )


def members_over_age(day: date) -> Iterator[Reminder]:
    """Once a month per branch: who reaches the leaving age within the notice period without a post."""
    by_branch: dict[int, list[str]] = defaultdict(list)
    for branch_id, name in over_age_due(Member.objects.all(), today=day).values_list("branch_id", "name"):
        by_branch[branch_id].append(name)
    holders = unit_role_holders(by_branch, [Role.BRANCH_SECRETARY], day)
    for branch_id, names in by_branch.items():
        if branch_id not in holders:
            continue
        yield Reminder(
            recipients=frozenset(holders[branch_id]),
            kind=NotificationKind.OVER_AGE,
            key=f"over-age:{branch_id}:{day:%Y-%m}",
            subject=_("%(n)d members reach %(age)d within %(days)d days")
            % {
                "n": len(names),
                "age": settings.LEAGUE_RULES["leaving_age"],
                "days": settings.LEAGUE_RULES["over_age_notice_days"],
            },
            body="、".join(names),
            link=reverse("members:over-age"),
        )


register(Rule("transfers_expiring", gettext_lazy("Transfers about to lapse"), transfers_expiring))
register(Rule("transfers_lapsed", gettext_lazy("Transfers that lapsed"), transfers_lapsed))
register(Rule("members_over_age", gettext_lazy("Members reaching the leaving age"), members_over_age))


def registration_window(day: date) -> Iterator[Reminder]:
    """Weekly during the registration window: the secretaries of branches not yet done."""
    start, end = settings.LEAGUE_RULES["registration_window"]  # (month, day) pairs; may wrap the new year
    today = (day.month, day.day)
    inside = start <= today <= end if start <= end else (today >= start or today <= end)
    if not inside:
        return
    registered = Registration.objects.filter(member=OuterRef("pk"), year=day.year)
    rows = (
        Member.objects.active()
        .annotate(is_registered=Exists(registered))
        .order_by()
        .values("branch")
        .annotate(active=Count("pk"), registered=Count("pk", filter=Q(is_registered=True)))
    )
    missing = {row["branch"]: row["active"] - row["registered"] for row in rows if row["registered"] < row["active"]}
    holders = unit_role_holders(missing, [Role.BRANCH_SECRETARY], day)
    iso_year, iso_week, _weekday = day.isocalendar()
    for branch_id, count in missing.items():
        if branch_id not in holders:
            continue
        yield Reminder(
            recipients=frozenset(holders[branch_id]),
            kind=NotificationKind.REGISTRATION,
            key=f"registration:{branch_id}:{iso_year}-W{iso_week:02d}",
            subject=_("%(n)d members of your branch are not registered for %(year)d yet")
            % {"n": count, "year": day.year},
            link=reverse("members:registration-branch", kwargs={"branch_pk": branch_id}) + f"?year={day.year}",
        )


register(Rule("registration_window", gettext_lazy("Annual registration not done"), registration_window))
