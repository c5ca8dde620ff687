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
from django.db.models import Exists, OuterRef
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
    """Create the notifications that do not exist yet; return how many this call added."""
    rows: dict[tuple[int, str], Notification] = {}
    for r in reminders:
        for recipient in sorted(r.recipients):
            rows[(recipient, r.key[:120])] = Notification(
                recipient_id=recipient,
                kind=r.kind,
                key=r.key[:120],
                subject=r.subject[:200],
                body=r.body,
                link=r.link[:300],
            )
    if not rows:
        return 0
    keys = {key for _recipient, key in rows}

    def present() -> set[tuple[int, str]]:
        return set(Notification.objects.filter(key__in=keys).values_list("recipient_id", "key")) & rows.keys()

    before = present()
    with transaction.atomic():
        # The unique constraint, not the check, keeps a reminder single under concurrent runs.
        Notification.objects.bulk_create(
            [row for pair, row in rows.items() if pair not in before], ignore_conflicts=True, batch_size=1000
        )
        transaction.on_commit(_queue_emails)
    return len(present() - before)  # what this call added, counted in the database


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
    """E-mail the notifications whose recipients asked for e-mail (since they asked: no backlog),
    each once: a notification is claimed (emailed_at set while still empty) before it is sent, and
    released again if sending fails, so that a retry sends it."""
    asked = NotificationPreference.objects.filter(
        user=OuterRef("recipient"), kind=OuterRef("kind"), by_email=True, updated_at__lte=OuterRef("created_at")
    )
    pending = (
        Notification.objects.filter(emailed_at__isnull=True, recipient__is_active=True, recipient__email__gt="")
        .filter(Exists(asked))
        .select_related("recipient")
        .order_by("pk")[:limit]
    )
    sent = 0
    for notification in pending:
        claimed_at = timezone.now()
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=claimed_at)
        if not claimed:
            continue  # another worker has it
        try:
            send_mail(
                notification.subject,
                f"{notification.body}\n\n{settings.SITE_URL}{notification.link}".strip(),
                settings.DEFAULT_FROM_EMAIL,
                [notification.recipient.email],
            )
        except Exception:
            Notification.objects.filter(pk=notification.pk, emailed_at=claimed_at).update(emailed_at=None)
            raise
        sent += 1
    return sent


def unit_role_holders(unit_ids: Iterable[int], roles: Iterable[str], day: date | None = None) -> dict[int, set[int]]:
    """Unit id → ids of the active accounts holding one of `roles` there on `day` (two queries). A
    deputy counts only while the principal still holds the role (a term may end by date)."""
    return {
        unit_id: users
        for (unit_id, _path), users in _role_holders({"organization_id__in": list(unit_ids)}, roles, day).items()
    }


def nearest_role_holders(
    units: Iterable[Organization], roles: Iterable[str], day: date | None = None
) -> dict[int, tuple[int, frozenset[int]]]:
    """Unit id → (the unit whose holders answer for it, their account ids): the active holders of one
    of `roles` at the unit itself or, when it has none, at its nearest ancestor that has (a branch
    without a secretary is looked after by its general branch's 团总支 secretary). The unit's own
    tree (its county) is the limit; units nobody answers for are left out. Two queries whatever the
    number of units (the holders on every unit of the units' paths, and the deputies' principals),
    resolved here."""
    units = list(units)
    step = Organization.steplen
    paths = {unit.path[:end] for unit in units for end in range(step, len(unit.path) + 1, step)}
    if not paths:
        return {}
    by_path = {
        path: (unit_id, users)
        for (unit_id, path), users in _role_holders({"organization__path__in": sorted(paths)}, roles, day).items()
    }
    found: dict[int, tuple[int, frozenset[int]]] = {}
    for unit in units:
        for end in range(len(unit.path), 0, -step):  # the unit first, then up towards the root
            if (held := by_path.get(unit.path[:end])) is not None:
                found[unit.pk] = (held[0], frozenset(held[1]))
                break
    return found


def _role_holders(where: dict, roles: Iterable[str], day: date | None) -> dict[tuple[int, str], set[int]]:
    """(unit id, unit path) → the active holders of `roles` on the units `where` selects: two queries."""
    assignments = list(
        RoleAssignment.objects.active_on(day)
        .filter(**where, role__in=list(roles), user__is_active=True)
        .values_list("organization_id", "organization__path", "user_id", "role", "deputy_for_id")
    )
    principals = {deputy_for for *_rest, deputy_for in assignments if deputy_for}
    held = set(
        RoleAssignment.objects.active_on(day)
        .filter(user_id__in=principals, deputy_for__isnull=True)
        .values_list("user_id", "role", "organization_id")
    )
    holders: dict[tuple[int, str], set[int]] = {}
    for unit_id, path, user_id, role, deputy_for in assignments:
        if deputy_for is None or (deputy_for, role, unit_id) in held:
            holders.setdefault((unit_id, path), set()).add(user_id)
    return holders


# --- the county's monthly work reminder -------------------------------------------------------

WORK_REMINDER_CATCH_UP_DAYS = 7


def work_reminders(day: date):
    """Work reminders whose date has come (within a week, to catch up a missed run), to every
    secretary and committee staff member under their county."""
    due = WorkReminder.objects.filter(send_on__lte=day, send_on__gte=day - timedelta(days=WORK_REMINDER_CATCH_UP_DAYS))
    for reminder in due.select_related("county"):
        units = (
            Organization.objects.filter(subtree_filter([reminder.county.path])).active().values_list("pk", flat=True)
        )
        holders = unit_role_holders(units, [Role.BRANCH_SECRETARY, Role.TOWNSHIP_STAFF], day)
        recipients = set().union(*holders.values())
        yield Reminder(
            recipients=frozenset(recipients),
            kind=NotificationKind.WORK_REMINDER,
            key=f"work-reminder:{reminder.pk}",
            subject=reminder.title,
            body=reminder.body,
        )


register(Rule("work_reminders", gettext_lazy("County work reminders"), work_reminders))
