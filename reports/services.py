"""Writes of the reports app: asking for a report (the archive keeps one row per kind, scope and period,
so asking again regenerates that row), the schedule that asks for the closed period's reports, who is
told when a report is ready, and the Party's intake totals entered by staff.

The generation itself runs in a Celery task (reports/tasks.py) that claims the row; everything here
only queues work, after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.audit import audit_context, audit_event
from branches.models import (
    COMMITTEE_KINDS,
    Notification,
    NotificationKind,
    Organization,
    OrganizationKind,
    PartyOrganization,
    Role,
    RoleAssignment,
    User,
)
from branches.notifications import Reminder, notify, unit_role_holders
from reports.access import may_read_party_organization, may_read_unit
from reports.models import PartyIntake, Report, ReportKind, ReportStatus
from reports.periods import MONTH, QUARTER, Period
from reports.selectors import PERIOD_KIND, Scope, scope_filter

# A row still queued or running this long after it was asked for (or claimed) has lost its task: a
# broker that dropped the message, a worker killed mid-run. The task time limit bounds a live run.
STALE_AFTER = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 5 * 60)

# The units whose quarterly report the schedule generates and sends upward (issue 6).
SCHEDULED_QUARTERLY_KINDS = frozenset({OrganizationKind.COUNTY, *COMMITTEE_KINDS})


def report_period(report: Report) -> Period:
    return Period.containing(PERIOD_KIND[report.kind], report.period_start)


def is_working(report: Report, now=None) -> bool:
    """Queued or running, and not abandoned."""
    now = now or timezone.now()
    if report.status == ReportStatus.QUEUED:
        return report.requested_at > now - STALE_AFTER
    if report.status == ReportStatus.RUNNING:
        return report.started_at is not None and report.started_at > now - STALE_AFTER
    return False


def validate_request(kind: str, scope: Scope, period: Period, *, today: date | None = None) -> None:
    """Raise ValidationError (a message for the reader) when no such report can be made."""
    today = today or timezone.localdate()
    if kind not in ReportKind.values:
        raise ValidationError(_("Unknown kind of report."), code="kind")
    if period.kind != PERIOD_KIND[kind]:
        if kind == ReportKind.QUARTERLY:
            raise ValidationError(_("A quarterly report covers a quarter, such as 2026-Q3."), code="period")
        raise ValidationError(_("A monthly progress report covers a month, such as 2026-09."), code="period")
    if period.start > today:
        raise ValidationError(_("%(period)s has not begun yet.") % {"period": period.label}, code="period")
    if kind == ReportKind.QUARTERLY and not isinstance(scope, Organization):
        raise ValidationError(_("The quarterly report is made for a League unit."), code="scope")


def may_read_scope(user: User, scope: Scope) -> bool:
    if isinstance(scope, PartyOrganization):
        return may_read_party_organization(user, scope)
    return may_read_unit(user, scope)


def report_request(*, kind: str, scope: Scope, period: Period, actor: User | None) -> Report:
    """Ask for the report of `scope` and `period`: the archive's row for it is created, or reset and
    queued again (regenerating replaces its files, never adds a row). A report already waiting or
    being made is returned as it is, so that asking twice starts one generation. `actor` None is
    the schedule."""
    validate_request(kind, scope, period)
    if actor is not None and not may_read_scope(actor, scope):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        # The partial unique constraints make concurrent first requests end with one row: the loser's
        # INSERT waits for the winner's commit, fails, and get_or_create reads (and locks) that row.
        report, created = Report.objects.select_for_update().get_or_create(
            kind=kind,
            period_start=period.start,
            **scope_filter(scope),
            defaults={"period_end": period.end, "requested_by": actor, "requested_at": now},
        )
        if not created and is_working(report, now):
            return report
        if not created:
            report.status = ReportStatus.QUEUED
            report.progress = 0
            report.message = ""
            report.requested_by = actor
            report.requested_at = now
            report.save(update_fields=["status", "progress", "message", "requested_by", "requested_at"])
        _enqueue(report.pk)
    return report


def _enqueue(report_id: int) -> None:
    from reports.tasks import generate_report

    generate_report.delay_on_commit(report_id)


# --- who is told ------------------------------------------------------------------------------


def report_title(report: Report) -> str:
    return _("%(kind)s of %(scope)s, %(period)s") % {
        "kind": KIND_TITLES[report.kind](),
        "scope": report.scope,
        "period": report_period(report).label,
    }


KIND_TITLES = {
    ReportKind.MONTHLY: lambda: _("Monthly progress report"),
    ReportKind.QUARTERLY: lambda: _("Quarterly report"),
}


def requester_reminder(report: Report) -> Reminder | None:
    """The requester hears once per generation that their report is ready."""
    if report.requested_by_id is None or report.generated_at is None:
        return None
    return Reminder(
        recipients=frozenset({report.requested_by_id}),
        kind=NotificationKind.REPORTS,
        key=f"report:{report.pk}:{report.generated_at:%Y%m%d%H%M%S%f}",
        subject=_("Ready: %(title)s") % {"title": report_title(report)},
        body=_("The report you asked for has been generated; open it or download the PDF and the .xlsx."),
        link=reverse("reports:report", kwargs={"pk": report.pk}),
    )


def scheduled_key(report: Report) -> str:
    return f"report:{report.pk}:scheduled"


def recipients_reminders(reports: list[Report], day: date | None = None) -> list[Reminder]:
    """The people a scheduled report goes to, told once per report (its row is one kind, scope and
    period): county staff for the county's quarterly report, the committee's own staff for a township,
    street or grassroots committee's, the Party organizers of a Party organization for its monthly
    report. Two or three queries, whatever the number of reports."""
    unit_reports = [r for r in reports if r.organization_id is not None]
    party_reports = [r for r in reports if r.party_organization_id is not None]
    holders = unit_role_holders(
        {r.organization_id for r in unit_reports}, [Role.COUNTY_STAFF, Role.TOWNSHIP_STAFF], day
    )
    organizers: dict[int, set[int]] = {}
    if party_reports:
        rows = (
            RoleAssignment.objects.active_on(day)
            .filter(
                party_organization_id__in={r.party_organization_id for r in party_reports},
                role=Role.PARTY_ORGANIZER,
                user__is_active=True,
                deputy_for__isnull=True,
            )
            .values_list("party_organization_id", "user_id")
        )
        for party_id, user_id in rows:
            organizers.setdefault(party_id, set()).add(user_id)
    reminders = []
    for report in reports:
        if report.organization_id is not None:
            recipients = holders.get(report.organization_id, set())
        else:
            recipients = organizers.get(report.party_organization_id, set())
        if not recipients:
            continue
        reminders.append(
            Reminder(
                recipients=frozenset(recipients),
                kind=NotificationKind.REPORTS,
                key=scheduled_key(report),
                subject=_("%(title)s is ready") % {"title": report_title(report)},
                body=_("Generated from the records when the period closed; its figures are frozen in the archive."),
                link=reverse("reports:report", kwargs={"pk": report.pk}),
            )
        )
    return reminders


def notify_ready(report: Report) -> int:
    """After a generation: the requester, and the recipients when the schedule asked for it."""
    reminders = [r for r in [requester_reminder(report)] if r is not None]
    if report.requested_by_id is None:
        reminders += recipients_reminders([report])
    return notify(reminders)


# --- the schedule (issue 6, "Quarterly reporting") -----------------------------------------------


@dataclass(frozen=True)
class ScheduleResult:
    quarter: Period
    month: Period
    queued: int  # reports created or queued again by this run
    notified: int  # notifications created by this run


def scheduled_targets(day: date) -> list[tuple[str, Scope, Period]]:
    """What the schedule makes on `day`: for the last closed quarter, the quarterly report of every
    county and committee unit that was active at its end; for the last closed month, the monthly
    progress report of every Party organization with people handed over to it and not yet closed
    before that month. Two queries."""
    from promotion.models import PromotionCase

    quarter = Period.containing(QUARTER, day).previous()
    month = Period.containing(MONTH, day).previous()
    units = Organization.objects.filter(kind__in=SCHEDULED_QUARTERLY_KINDS).filter(
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=quarter.end)
    )
    handed_over = PromotionCase.objects.filter(party_organization__isnull=False, recommended_on__lte=month.end).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=month.start)
    )
    parties = PartyOrganization.objects.filter(pk__in=handed_over.values("party_organization_id"))
    targets: list[tuple[str, Scope, Period]] = [(ReportKind.QUARTERLY, unit, quarter) for unit in units]
    targets += [(ReportKind.MONTHLY, party, month) for party in parties]
    return targets


def schedule_period_reports(day: date | None = None) -> ScheduleResult:
    """Make sure the closed quarter's and month's scheduled reports exist with frozen figures, and tell
    their recipients once each. Idempotent and window-based: a report already frozen, waiting or being
    made is left alone; one missing, failed, or made while its period was still open is (re)queued; a
    day the scheduler missed is caught up by the next run. A bounded number of queries."""
    day = day or timezone.localdate()
    now = timezone.now()
    targets = scheduled_targets(day)
    quarter = Period.containing(QUARTER, day).previous()
    month = Period.containing(MONTH, day).previous()
    queued = 0
    with transaction.atomic():
        existing = {_target_key(r): r for r in _reports_for(targets).select_for_update()}
        missing = [t for t in targets if (t[0], _scope_key(t[1]), t[2].start) not in existing]
        Report.objects.bulk_create(
            [
                Report(
                    kind=kind,
                    period_start=period.start,
                    period_end=period.end,
                    requested_at=now,
                    **scope_filter(scope),
                )
                for kind, scope, period in missing
            ],
            ignore_conflicts=True,  # a request that created one meanwhile wins; the row is the same
        )
        again = [
            r.pk
            for r in existing.values()
            if not is_working(r, now) and not (r.status == ReportStatus.DONE and r.frozen_at is not None)
        ]
        if again:
            Report.objects.filter(pk__in=again).update(
                status=ReportStatus.QUEUED, progress=0, message="", requested_by=None, requested_at=now
            )
        new_ids = list(
            _reports_for(missing).filter(status=ReportStatus.QUEUED, requested_at=now).values_list("pk", flat=True)
        )
        for pk in [*new_ids, *again]:
            _enqueue(pk)
        queued = len(new_ids) + len(again)
    # Reports that were ready before this run (asked for by someone once the period had closed) are
    # the period's reports too: their recipients hear of them here; those queued now, when made.
    done = [r for r in existing.values() if r.status == ReportStatus.DONE and r.frozen_at is not None]
    if done:
        told = set(Notification.objects.filter(key__in=[scheduled_key(r) for r in done]).values_list("key", flat=True))
        done = [r for r in done if scheduled_key(r) not in told]
    notified = notify(recipients_reminders(done, day)) if done else 0
    return ScheduleResult(quarter=quarter, month=month, queued=queued, notified=notified)


def _scope_key(scope: Scope) -> tuple[str, int]:
    return ("party", scope.pk) if isinstance(scope, PartyOrganization) else ("unit", scope.pk)


def _target_key(report: Report) -> tuple[str, tuple[str, int], date]:
    scope = ("unit", report.organization_id) if report.organization_id else ("party", report.party_organization_id)
    return (report.kind, scope, report.period_start)


def _reports_for(targets: list[tuple[str, Scope, Period]]):
    condition = Q(pk__in=[])
    by_group: dict[tuple[str, date, str], list[int]] = {}
    for kind, scope, period in targets:
        field, pk = _scope_key(scope)
        by_group.setdefault((kind, period.start, field), []).append(pk)
    for (kind, start, field), pks in by_group.items():
        column = "party_organization_id__in" if field == "party" else "organization_id__in"
        condition |= Q(kind=kind, period_start=start, **{column: pks})
    return Report.objects.filter(condition)


# --- the Party's intake totals --------------------------------------------------------------------

INTAKE_UNIT_KINDS = SCHEDULED_QUARTERLY_KINDS


def intake_units(user: User):
    """The units whose Party intake totals the user enters: the county and committees they manage
    (county staff: all in their county; township staff: their committee and the committees in it)."""
    return Organization.objects.manageable_by(user).filter(kind__in=INTAKE_UNIT_KINDS)


def party_intake_save(
    *, unit: Organization, period: Period, new_members: int, new_young_members: int, actor: User
) -> PartyIntake:
    """Enter or correct the Party's totals of new members for a unit and quarter (audited).

    The totals are an input of that unit's quarterly report, and the Party publishes them after the
    quarter has closed, when the schedule has already frozen the report; a frozen report of that unit
    and quarter is therefore recomputed (figures frozen again from the records as they are now), so
    that the totals appear in it. The unfreezing is audited on the report."""
    if period.kind != QUARTER:
        raise ValidationError(_("Party totals are entered per quarter."))
    if period.start > timezone.localdate():
        raise ValidationError(_("%(period)s has not begun yet.") % {"period": period.label})
    if new_young_members > new_members:
        raise ValidationError(_("Young new members cannot outnumber all new members."))
    if not intake_units(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied
    with transaction.atomic(), audit_context(actor):
        intake = (
            PartyIntake.objects.select_for_update()
            .filter(organization=unit, year=period.year, quarter=period.number)
            .first()
        )
        if intake is None:
            intake = PartyIntake(organization=unit, year=period.year, quarter=period.number)
        elif (intake.new_members, intake.new_young_members) == (new_members, new_young_members):
            return intake
        intake.new_members = new_members
        intake.new_young_members = new_young_members
        intake.entered_by = actor
        intake.save()
        frozen = (
            Report.objects.select_for_update()
            .filter(kind=ReportKind.QUARTERLY, organization=unit, period_start=period.start, frozen_at__isnull=False)
            .first()
        )
        if frozen is not None:
            audit_event(
                frozen,
                actor=actor,
                changes={"frozen_at": [frozen.frozen_at.isoformat(), None]},
                note=_("Party intake totals entered for this quarter"),
            )
            Report.objects.filter(pk=frozen.pk).update(frozen_at=None)
            if not is_working(frozen):
                report_request(kind=ReportKind.QUARTERLY, scope=unit, period=period, actor=actor)
    return intake
