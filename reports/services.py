"""Writes of the reports app: asking for a report (the archive keeps one row per kind, scope and period,
so asking again regenerates that row), the schedule that asks for the closed period's reports, who is
told when a report is ready, and the Party's intake totals entered by staff.

The generation itself runs in a Celery task (reports/tasks.py) that claims the row; everything here
only queues work, after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
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
from reports.document import ReportDocument
from reports.models import PartyIntake, Report, ReportKind, ReportStatus
from reports.periods import MONTH, QUARTER, Period
from reports.quarterly.context import existed
from reports.selectors import PERIOD_KIND, SCOPE_PARTY, SCOPE_UNIT, Scope, last_frozen_period, scope_filter, scope_kind

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


def recipients(reports: list[Report], day: date | None = None) -> dict[int, set[int]]:
    """Report id → the people a scheduled report goes to: county staff for the county's quarterly
    report, the committee's own staff for a township, street or grassroots committee's, the Party
    organizers of a Party organization for its monthly report. Two or three queries, whatever the
    number of reports."""
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
    return {
        r.pk: set(
            holders.get(r.organization_id, set())
            if r.organization_id
            else organizers.get(r.party_organization_id, set())
        )
        for r in reports
    }


def recipients_reminders(reports: list[Report], day: date | None = None) -> list[Reminder]:
    """The recipients of scheduled reports, told once per report (its row is one kind, scope and period)."""
    to = recipients(reports, day)
    return [
        Reminder(
            recipients=frozenset(to[report.pk]),
            kind=NotificationKind.REPORTS,
            key=scheduled_key(report),
            subject=_("%(title)s is ready") % {"title": report_title(report)},
            body=_("Generated from the records when the period closed; its figures are frozen in the archive."),
            link=reverse("reports:report", kwargs={"pk": report.pk}),
        )
        for report in reports
        if to[report.pk]
    ]


def correction_reminders(reports: list[Report], *, actor: User, moment: datetime) -> list[Reminder]:
    """A corrected version of frozen reports exists (new Party intake totals): their recipients and
    whoever last asked for them are told, once per version (the key holds the correction's moment)."""
    to = recipients(reports)
    reminders = []
    for report in reports:
        people = to[report.pk] | ({report.requested_by_id} if report.requested_by_id else set())
        people.discard(actor.pk)  # who entered the totals knows (and hears when their unit's files are ready)
        if people:
            reminders.append(
                Reminder(
                    recipients=frozenset(people),
                    kind=NotificationKind.REPORTS,
                    key=f"report:{report.pk}:corrected:{moment:%Y%m%d%H%M%S%f}",
                    subject=_("Corrected: %(title)s") % {"title": report_title(report)},
                    body=_(
                        "The Party's totals of new members for the quarter were entered on %(day)s: the report's "
                        "Party intake figures are updated and its files generated again. Its other figures stay "
                        "as they were frozen."
                    )
                    % {"day": timezone.localdate(moment).isoformat()},
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


def check_schedule_day(day: date) -> None:
    """The schedule runs for today or a day before: a later day would ask for periods not yet closed."""
    today = timezone.localdate()
    if day > today:
        raise ValidationError(
            _(
                "%(day)s is after today (%(today)s): the schedule only makes the reports of periods that have "
                "closed. Give today or an earlier day."
            )
            % {"day": day.isoformat(), "today": today.isoformat()},
            code="future",
        )


def scheduled_periods(day: date) -> tuple[Period, Period]:
    """The quarter and the month the schedule makes on `day`: the latest whose grace has passed
    (reports.selectors.freeze_day), so their figures are frozen when made."""
    return last_frozen_period(QUARTER, day), last_frozen_period(MONTH, day)


def scheduled_targets(day: date) -> list[tuple[str, Scope, Period]]:
    """What the schedule makes on `day`: for its quarter, the quarterly report of every county and
    committee unit that existed on the quarter's last day; for its month, the monthly progress report
    of every Party organization with people handed over to it and not yet closed before that month.
    Two queries."""
    from promotion.models import PromotionCase

    quarter, month = scheduled_periods(day)
    units = Organization.objects.filter(kind__in=SCHEDULED_QUARTERLY_KINDS).filter(existed(quarter.end, quarter.end))
    handed_over = PromotionCase.objects.filter(party_organization__isnull=False, recommended_on__lte=month.end).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=month.start)
    )
    parties = PartyOrganization.objects.filter(pk__in=handed_over.values("party_organization_id"))
    targets: list[tuple[str, Scope, Period]] = [(ReportKind.QUARTERLY, unit, quarter) for unit in units]
    targets += [(ReportKind.MONTHLY, party, month) for party in parties]
    return [t for t in targets if _valid(*t)]


def _valid(kind: str, scope: Scope, period: Period) -> bool:
    # The rules a person's request is held to (the schedule's periods meet them by construction).
    try:
        validate_request(kind, scope, period)
    except ValidationError:
        return False
    return period.is_closed(timezone.localdate())


def scheduled_to_make(day: date) -> tuple[list[tuple[str, Scope, Period]], list[Report], list[Report]]:
    """What a run on `day` would do: (targets without a report, reports it would queue again, reports
    ready whose recipients it would tell). Nothing is written. A report already frozen, waiting or
    being made is left alone; one failed, or made before its period's figures froze, is queued again."""
    now = timezone.now()
    targets = scheduled_targets(day)
    existing = {_target_key(r): r for r in _reports_for(targets).select_related("organization", "party_organization")}
    missing = [t for t in targets if (t[0], _scope_key(t[1]), t[2].start) not in existing]
    again = [r for r in existing.values() if not is_working(r, now) and not _frozen_done(r)]
    return missing, again, _untold([r for r in existing.values() if _frozen_done(r)])


def _untold(reports: list[Report]) -> list[Report]:
    """The reports whose recipients the schedule has not told yet (one query)."""
    if not reports:
        return []
    told = set(Notification.objects.filter(key__in=[scheduled_key(r) for r in reports]).values_list("key", flat=True))
    return [r for r in reports if scheduled_key(r) not in told]


def _frozen_done(report: Report) -> bool:
    return report.status == ReportStatus.DONE and report.frozen_at is not None


def schedule_period_reports(day: date | None = None) -> ScheduleResult:
    """Make sure the scheduled reports of the day's quarter and month (scheduled_periods) exist with
    frozen figures, and tell their recipients once each. Idempotent and window-based: a report already
    frozen, waiting or being made is left alone; one missing, failed, or made before its figures froze
    is (re)queued; a day the scheduler missed is caught up by the next run. A bounded number of queries.
    A day after today is refused (ValidationError)."""
    day = day or timezone.localdate()
    check_schedule_day(day)
    now = timezone.now()
    targets = scheduled_targets(day)
    quarter, month = scheduled_periods(day)
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
        again = [r.pk for r in existing.values() if not is_working(r, now) and not _frozen_done(r)]
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
    # Reports that were ready before this run (asked for by someone once their figures froze) are
    # the period's reports too: their recipients hear of them here; those queued now, when made.
    done = _untold([r for r in existing.values() if _frozen_done(r)])
    notified = notify(recipients_reminders(done, day)) if done else 0
    return ScheduleResult(quarter=quarter, month=month, queued=queued, notified=notified)


def _scope_key(scope: Scope) -> tuple[str, int]:
    return (scope_kind(scope), scope.pk)


def _target_key(report: Report) -> tuple[str, tuple[str, int], date]:
    if report.organization_id:
        return (report.kind, (SCOPE_UNIT, report.organization_id), report.period_start)
    return (report.kind, (SCOPE_PARTY, report.party_organization_id), report.period_start)


def _reports_for(targets: list[tuple[str, Scope, Period]]):
    condition = Q(pk__in=[])
    by_group: dict[tuple[str, date, str], list[int]] = {}
    for kind, scope, period in targets:
        field, pk = _scope_key(scope)
        by_group.setdefault((kind, period.start, field), []).append(pk)
    for (kind, start, field), pks in by_group.items():
        column = "party_organization_id__in" if field == SCOPE_PARTY else "organization_id__in"
        condition |= Q(kind=kind, period_start=start, **{column: pks})
    return Report.objects.filter(condition)


# --- the Party's intake totals --------------------------------------------------------------------


def intake_units(user: User):
    """The units whose Party intake totals the user enters: the county and committees they manage
    (county staff: all in their county; township staff: their committee and the committees in it),
    those whose quarterly reports the schedule makes."""
    return Organization.objects.manageable_by(user).filter(kind__in=SCHEDULED_QUARTERLY_KINDS)


def party_intake_save(
    *, unit: Organization, period: Period, new_members: int, new_young_members: int, actor: User
) -> PartyIntake:
    """Enter or correct the Party's totals of new members for a unit and quarter (audited).

    The totals are an input of the quarterly report, and the Party publishes them after the quarter
    has closed, when the report's figures may already be frozen. A frozen report of the unit, or of a
    unit above it (whose totals sum those entered below when it has none of its own), is corrected:
    only its Party-intake figures are computed again (reports.quarterly.funnel.intake_part) — every
    other figure stays as frozen — its files are generated again, and its recipients are told that a
    corrected version exists. A generation under way, which may have read the old totals, starts again."""
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
        _correct_reports(unit, period, actor)
    return intake


def _correct_reports(unit: Organization, period: Period, actor: User) -> list[Report]:
    """Put the new totals into the quarterly reports of `unit` and the units above it for `period`."""
    from reports.quarterly.funnel import replace_intake, unit_intake_part

    units = {u.pk: u for u in [*Organization.objects.get_ancestors(unit), unit]}
    now = timezone.now()
    corrected: list[Report] = []
    requeue: list[Report] = []
    reports = Report.objects.select_for_update().filter(
        kind=ReportKind.QUARTERLY, period_start=period.start, organization_id__in=units
    )
    for report in reports:
        report.organization = units[report.organization_id]
        if report.frozen_at is not None and report.document:
            document = ReportDocument.from_dict(report.document)
            section = next((s for s in document.sections if s.key == "promotion"), None)
            if section is None:
                continue
            before = [f.value for f in section.figures]
            # The document's text is in the site's language, whoever enters the totals.
            with translation.override(settings.LANGUAGE_CODE):
                changed = replace_intake(section, unit_intake_part(report.organization, period))
            if not changed:
                continue
            audit_event(
                report,
                actor=actor,
                changes={"promotion_figures": [before, [f.value for f in section.figures]]},
                note=_("Party intake totals entered for this quarter: the report's intake figures are corrected"),
            )
            report.document = document.to_dict()
            corrected.append(report)
            requeue.append(report)
        elif report.status == ReportStatus.RUNNING and is_working(report, now):
            requeue.append(report)  # being computed live: it may have read the old totals
    for report in requeue:
        fields = {"status": ReportStatus.QUEUED, "progress": 0, "message": "", "requested_at": now}
        if report in corrected:
            # The unit's own report now answers to whoever entered the totals; a report above, which
            # they may not read, to the schedule.
            fields["requested_by"] = actor if report.organization_id == unit.pk else None
            fields["document"] = report.document
        Report.objects.filter(pk=report.pk).update(**fields)
        _enqueue(report.pk)
    if corrected:
        with translation.override(settings.LANGUAGE_CODE):  # for others: in the site's language
            reminders = correction_reminders(corrected, actor=actor, moment=now)
        transaction.on_commit(lambda: notify(reminders))
    return corrected
