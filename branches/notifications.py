"""Notifications and the reminder rules that create them.

`notify` writes an account's notifications in bulk; each has a natural key (rule, target, period),
and a unique constraint makes it arrive once, however often or concurrently a rule runs. E-mail goes
out after the commit, by a task that claims each notification before sending it, so it is sent once.

A reminder rule finds, for a day, who should be reminded of what (in a bounded number of queries)
and is run by `run_rule`; rules register themselves here from their apps (members/reminders.py).
Rules look at a window around the day, not at the day alone, so a day the scheduler missed is
caught up on the next run; whether a reminder still applies is decided from the data at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from branches.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    Organization,
    ReminderRun,
    Role,
    RoleAssignment,
    WorkReminder,
    subtree_filter,
)


@dataclass(frozen=True)
class Reminder:
    recipients: frozenset[int]
    kind: str
    key: str
    subject: str
    body: str = ""
    link: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    label: str
    find: Callable[[date], Iterable[Reminder]]


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    RULES[rule.name] = rule
    return rule


def notify(reminders: Iterable[Reminder]) -> int:
    """Create the notifications that do not exist yet; return how many were new."""
    rows = [
        Notification(
            recipient_id=recipient,
            kind=r.kind,
            key=r.key[:120],
            subject=r.subject[:200],
            body=r.body,
            link=r.link[:300],
        )
        for r in reminders
        for recipient in sorted(r.recipients)
    ]
    if not rows:
        return 0
    existing = set(Notification.objects.filter(key__in={row.key for row in rows}).values_list("recipient_id", "key"))
    new = [row for row in rows if (row.recipient_id, row.key) not in existing]
    with transaction.atomic():
        # The constraint, not the check above, is what keeps a reminder single under concurrent runs.
        Notification.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
        if new:
            transaction.on_commit(_queue_emails)
    return len(new)


def _queue_emails() -> None:
    from branches.tasks import send_notification_emails

    send_notification_emails.delay()


def run_rule(name: str, day: date | None = None) -> int:
    """Run one rule for a day (today by default) and record the run."""
    day = day or timezone.localdate()
    created = notify(RULES[name].find(day))
    ReminderRun.objects.create(rule=name, for_date=day, created=created)
    return created


def preview_rule(name: str, day: date) -> list[Reminder]:
    """Who would be reminded of what on a day, without sending anything."""
    return list(RULES[name].find(day))


def send_pending_emails(limit: int = 500) -> int:
    """E-mail the notifications whose recipients asked for e-mail, each once: a notification is
    claimed (emailed_at set where it is still empty) before it is sent."""
    wanted = NotificationPreference.objects.filter(by_email=True).values_list("user_id", "kind")
    wanted_pairs = set(wanted)
    if not wanted_pairs:
        return 0
    pending = (
        Notification.objects.filter(emailed_at__isnull=True, recipient__email__gt="")
        .select_related("recipient")
        .order_by("pk")[:limit]
    )
    sent = 0
    for notification in pending:
        if (notification.recipient_id, notification.kind) not in wanted_pairs:
            continue
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
        send_mail(
            notification.subject,
            f"{notification.body}\n\n{notification.link}".strip(),
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient.email],
        )
        sent += 1
    return sent


def unit_role_holders(unit_ids: Iterable[int], roles: Iterable[str], day: date | None = None) -> dict[int, set[int]]:
    """Unit id → ids of the accounts holding one of `roles` there on `day` (one query)."""
    holders: dict[int, set[int]] = {}
    rows = RoleAssignment.objects.active_on(day).filter(organization_id__in=list(unit_ids), role__in=list(roles))
    for unit_id, user_id in rows.values_list("organization_id", "user_id"):
        holders.setdefault(unit_id, set()).add(user_id)
    return holders


SECRETARY_AND_STAFF = (Role.BRANCH_SECRETARY, Role.TOWNSHIP_STAFF, Role.COUNTY_STAFF)


# --- the county's monthly work reminder -------------------------------------------------------

WORK_REMINDER_CATCH_UP_DAYS = 7


def work_reminders(day: date):
    """Work reminders whose date has come (within a week, to catch up a missed run), to every
    secretary and committee staff member under their county."""
    due = WorkReminder.objects.filter(send_on__lte=day, send_on__gte=day - timedelta(days=WORK_REMINDER_CATCH_UP_DAYS))
    for reminder in due.select_related("county"):
        units = Organization.objects.filter(subtree_filter([reminder.county.path])).active().values("pk")
        recipients = set(
            RoleAssignment.objects.active_on(day)
            .filter(organization__in=units, role__in=[Role.BRANCH_SECRETARY, Role.TOWNSHIP_STAFF])
            .values_list("user_id", flat=True)
        )
        yield Reminder(
            recipients=frozenset(recipients),
            kind=NotificationKind.WORK_REMINDER,
            key=f"work-reminder:{reminder.pk}",
            subject=reminder.title,
            body=reminder.body,
        )


register(Rule("work_reminders", gettext_lazy("County work reminders"), work_reminders))
