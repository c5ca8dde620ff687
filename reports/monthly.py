"""The monthly progress report (月度进展报告, issue 7): what the League tells the Party organization each
month about the people it recommended (推荐后继续培养考察, domain.md §0 stage 3) — each person's stage,
the monthly follow-up report on their thinking, work and study, the talks held with them (谈心谈话),
the Party's decisions, what is overdue, and how the numbers moved since last month.

Scope: a Party organization reads the cases handed over to it (`PromotionCase.party_organization`); a
League unit reads the recommended cases of its subtree. Either way only cases with a recommendation
date: what the League has not handed over is its own working record.

Which month's facts:
- A case's stage at a moment is read from its transitions (`CaseTransition`, the pipeline's history):
  the stage the first later transition left, or the current stage when none came later. So a past
  month shows the stages of that month, not today's.
- The month's people are those whose hand-over was recorded by the month's end and whose case was
  open when the month began or moved during it: open during it, closed (decided) in it, or back from
  a lapse (the Party decided within the validity and the League recorded it after the daily sweep).
- Decisions are listed in the month they were recorded (their transition), with the date the Party
  took them (kept on the case). Follow-up reports and talks count by their own dates; the member's
  name and branch are today's. Closed months are frozen in the archive when first generated after
  they close (reports/selectors.py), so later corrections do not change a report already sent.
- "This month's follow-up report" is the one that falls due in the month: the report on the month
  before, due by PROMOTION_RULES["follow_up_due_day"]. At the month's end it is filed or missing,
  which is what the Party wants to read; the report on the month itself is not due yet.
- Which reports are due and overdue is promotion.selectors.due_reports's rule, applied to each case as
  it stood at the month's end; the validity is promotion.party_views.validity's. A month still under
  way is read as of today.

Five queries whatever the number of cases, branches or months: the cases (with their stage at the
month's end), their transitions over the two months compared, the follow-up reports, the talks, and
due_reports's own read of the reports.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from branches.models import Organization, PartyOrganization, subtree_filter
from members.models import add_years
from promotion.models import (
    FOLLOW_UP_STAGES,
    TERMINAL_STAGES,
    CaseTransition,
    FollowUpReport,
    PromotionCase,
    Stage,
    Talk,
)
from promotion.party_views import HANDED_OVER_STAGES, validity
from promotion.selectors import DueReport, due_reports, follow_up_due_on
from promotion.services import ACTION_LABELS
from reports.document import Chart, Figure, ReportDocument, Section, Series, Table
from reports.models import ReportKind
from reports.periods import MONTH, Period
from reports.selectors import Progress

# Two months ahead: time for the League to ask the Party organization for its decision before the
# recommendation lapses and the person has to be recommended again.
VALIDITY_WARNING_DAYS = 60
# The stages a handed-over case can be in, in the pipeline's order (the totals' rows, the chart's bars).
STAGE_ORDER = [stage for stage in Stage.values if stage in HANDED_OVER_STAGES]
# The steps the report lists as the Party's decisions (with the lapses and withdrawals that end a case).
DECISION_STAGES = [
    Stage.ACTIVIST,
    Stage.DEVELOPMENT,
    Stage.PROBATIONARY,
    Stage.FULL_MEMBER,
    Stage.NOT_ADOPTED,
    Stage.LAPSED,
    Stage.WITHDRAWN,
]
# Where each decision's own date is kept on the case (the transition holds when it was recorded).
DECIDED_ON_FIELD = {
    Stage.ACTIVIST: "activist_since",
    Stage.DEVELOPMENT: "development_on",
    Stage.PROBATIONARY: "probationary_on",
    Stage.FULL_MEMBER: "full_member_on",
    Stage.NOT_ADOPTED: "closed_on",
    Stage.LAPSED: "closed_on",
    Stage.WITHDRAWN: "closed_on",
}
FILED, FILED_LATE, MISSING, PENDING, NOT_DUE = "filed", "filed_late", "missing", "pending", "not_due"
STEPS = 7  # the progress reported: loading, then one step per section


def _midnight(day: date) -> datetime:
    """The first moment of `day` in the county's time zone: months begin and end at local midnight."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class _Step:
    case_id: int
    action: str
    from_stage: str
    to_stage: str
    at: datetime

    @property
    def is_decision(self) -> bool:
        # A step that keeps the stage (a move with the member) decides nothing.
        return self.to_stage in DECISION_STAGES and self.from_stage != self.to_stage


@dataclass
class _Month:
    """One month's view of the cases: who is in it, each one's stage at its end, and what happened."""

    period: Period
    as_of: date  # the month's last day, or today while it is under way
    cases: list[PromotionCase]
    stage: dict[int, str]  # case id → stage at the end
    decisions: list[_Step]
    talks: dict[int, list[tuple[date, str]]]  # case id → (held on, held by), oldest first
    filed: dict[int, datetime]  # case id → when the report due in the month was filed

    @property
    def report_month(self) -> date:
        """The month whose report falls due in this month."""
        return self.period.previous().start

    def stage_counts(self) -> dict[str, int]:
        counts = Counter(self.stage[case.pk] for case in self.cases)
        return {stage: counts[stage] for stage in STAGE_ORDER}

    def talk_count(self) -> int:
        return sum(len(self.talks.get(case.pk, [])) for case in self.cases)


@dataclass
class _Row:
    case: PromotionCase
    stage: str
    report_status: str
    report_due_on: date
    filed_at: datetime | None
    talks: list[tuple[date, str]]
    decisions: list[_Step]
    overdue_reports: list[DueReport] = field(default_factory=list)
    validity_days: int | None = None  # days left while the recommendation waits for the Party's decision
    time_rules: list[str] = field(default_factory=list)

    @property
    def validity_flag(self) -> bool:
        return self.validity_days is not None and self.validity_days <= VALIDITY_WARNING_DAYS

    @property
    def flagged(self) -> bool:
        return bool(self.overdue_reports or self.validity_flag or self.time_rules)


def build_monthly(
    scope: Organization | PartyOrganization, period: Period, *, progress: Progress | None = None
) -> ReportDocument:
    """The monthly progress report of `scope` for the calendar month `period`."""
    if period.kind != MONTH:
        raise ValueError(f"the monthly report covers a month, not {period.key}")
    report = (lambda done: progress(done, STEPS)) if progress else (lambda done: None)
    today = timezone.localdate()
    previous = period.previous()
    month, last_month = _months(scope, period, previous, today)
    report(1)
    rows = _rows(month)
    sections = []
    for done, build in enumerate(
        (_people_section, _follow_up_section, _talks_section, _decisions_section, _overdue_section), start=2
    ):
        sections.append(build(month, rows))
        report(done)
    sections.append(_totals_section(month, last_month))
    report(STEPS)
    return ReportDocument(
        kind=ReportKind.MONTHLY,
        title=_("Monthly progress report"),
        scope_label=str(scope),
        period_key=period.key,
        period_label=period.label,
        generated_at=timezone.now().isoformat(),
        sections=sections,
    )


# --- reading the month ---------------------------------------------------------------------------


def _scope_cases(scope: Organization | PartyOrganization) -> QuerySet[PromotionCase]:
    cases = PromotionCase.objects.filter(recommended_on__isnull=False)
    if isinstance(scope, PartyOrganization):
        return cases.filter(party_organization=scope)
    return cases.filter(subtree_filter([scope.path], "branch__path"))


def _months(
    scope: Organization | PartyOrganization, period: Period, previous: Period, today: date
) -> tuple[_Month, _Month]:
    """This month and the one before, from four queries over the cases of the scope."""
    as_of = min(period.end, today)
    end = _midnight(as_of + timedelta(days=1))
    if period.start > today:  # a month to come: nothing has happened in it yet
        empty = _Month(period, as_of, [], {}, [], {}, {})
        return empty, _Month(previous, previous.end, [], {}, [], {}, {})
    start, previous_start = _midnight(period.start), _midnight(previous.start)
    # Cases closed before the two months and not moved since (a lapsed recommendation comes back when
    # the Party tells the League of a decision taken within its validity) are in neither.
    before = CaseTransition.objects.filter(case=OuterRef("pk"), at__lt=previous_start).order_by("-at", "-pk")
    moved_since = CaseTransition.objects.filter(case=OuterRef("pk"), at__gte=previous_start)
    left_after_end = CaseTransition.objects.filter(case=OuterRef("pk"), at__gte=end).order_by("at", "pk")
    cases = list(
        _scope_cases(scope)
        # A hand-over is dated on or before the day it is recorded: none recorded by the end is lost.
        .filter(recommended_on__lte=as_of)
        .alias(stage_before=Subquery(before.values("to_stage")[:1]))
        .exclude(Q(stage_before__in=TERMINAL_STAGES) & ~Exists(moved_since))
        .annotate(stage_after=Subquery(left_after_end.values("from_stage")[:1]))
        .select_related("member", "branch")
        # The agreed hand-over fields only: never the ID number (issue 5).
        .only(
            "pk",
            "track",
            "stage",
            "created_at",
            "recommended_on",
            "valid_until",
            "activist_since",
            "development_on",
            "probationary_on",
            "full_member_on",
            "closed_on",
            "member__name",
            "member__status",
            "branch__name",
            "branch__path",
        )
    )
    ids = [case.pk for case in cases]
    history: dict[int, list[_Step]] = defaultdict(list)
    for step in (
        CaseTransition.objects.filter(case_id__in=ids, at__gte=previous_start, at__lt=end)
        .order_by("at", "pk")
        .values_list("case_id", "action", "from_stage", "to_stage", "at")
    ):
        history[step[0]].append(_Step(*step))
    report_months = [previous.start, previous.previous().start]  # the reports due in each month
    filed = {
        (case_id, report_month): filed_at
        for case_id, report_month, filed_at in FollowUpReport.objects.filter(
            case_id__in=ids, month__in=report_months
        ).values_list("case_id", "month", "filed_at")
    }
    talks: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for case_id, held_on, held_by in (
        Talk.objects.filter(case_id__in=ids, held_on__gte=previous.start, held_on__lte=as_of)
        .order_by("held_on", "pk")
        .values_list("case_id", "held_on", "held_by")
    ):
        talks[case_id].append((held_on, held_by))

    def stage_at(case: PromotionCase, moment: datetime) -> str:
        later = next((step for step in history[case.pk] if step.at >= moment), None)
        if later is not None:
            return later.from_stage
        return case.stage_after or case.stage

    def month_of(p: Period, p_start: datetime, p_end: datetime, p_as_of: date, report_month: date) -> _Month:
        # Handed over by the end (the hand-over is the only way into these stages), and open when the
        # month began or moved during it (decided, or back from a lapse).
        members = [
            case
            for case in cases
            if stage_at(case, p_end) in HANDED_OVER_STAGES
            and (
                stage_at(case, p_start) not in TERMINAL_STAGES
                or any(p_start <= step.at < p_end and step.from_stage != step.to_stage for step in history[case.pk])
            )
        ]
        members.sort(key=lambda case: (case.branch.path, case.member.name, case.pk))
        in_month = {case.pk: case for case in members}
        return _Month(
            period=p,
            as_of=p_as_of,
            cases=members,
            stage={case.pk: stage_at(case, p_end) for case in members},
            decisions=[
                step
                for case_id in in_month
                for step in history[case_id]
                if step.is_decision and p_start <= step.at < p_end
            ],
            talks={
                case.pk: [
                    (held_on, held_by)
                    for held_on, held_by in talks[case.pk]
                    # From the hand-over on: the talks before it are the League's own working record.
                    if p.start <= held_on <= p.end and held_on >= case.recommended_on
                ]
                for case in members
            },
            filed={case.pk: filed[(case.pk, report_month)] for case in members if (case.pk, report_month) in filed},
        )

    this_month = month_of(period, start, end, as_of, report_months[0])
    this_month.decisions.sort(key=lambda step: (step.at, step.case_id))
    return this_month, month_of(previous, previous_start, start, previous.end, report_months[1])


def _as_it_stood(case: PromotionCase, stage: str) -> PromotionCase:
    """An unsaved copy of the case at a past stage, so that the pipeline's own rules (reports due,
    validity) judge it as it stood at the month's end. The stage refuses assignment on a loaded case;
    a new instance takes it."""
    return PromotionCase(
        pk=case.pk,
        stage=stage,
        track=case.track,
        created_at=case.created_at,
        recommended_on=case.recommended_on,
        valid_until=case.valid_until,
        member=case.member,
        branch=case.branch,
    )


def _rows(month: _Month) -> list[_Row]:
    """Each person of the month with their report, talks, decisions and flags as of the month's end."""
    snapshots = [_as_it_stood(case, month.stage[case.pk]) for case in month.cases]
    due = due_reports([s for s in snapshots if s.stage in FOLLOW_UP_STAGES], month.as_of)
    decisions: dict[int, list[_Step]] = defaultdict(list)
    for step in month.decisions:
        decisions[step.case_id].append(step)
    due_on = follow_up_due_on(month.report_month)
    rows = []
    for case, snapshot in zip(month.cases, snapshots, strict=True):
        missing = due.get(case.pk, [])
        this_report = next((r for r in missing if r.period == month.report_month), None)
        filed_at = month.filed.get(case.pk)
        if filed_at is not None:
            status = FILED_LATE if _local_day(filed_at) > due_on else FILED
        elif this_report is not None:
            status = MISSING if this_report.overdue else PENDING
        else:
            status = NOT_DUE
        left = validity(snapshot, month.as_of)
        rows.append(
            _Row(
                case=case,
                stage=snapshot.stage,
                report_status=status,
                report_due_on=due_on,
                filed_at=filed_at,
                talks=month.talks[case.pk],
                decisions=decisions[case.pk],
                overdue_reports=[r for r in missing if r.overdue],
                validity_days=left.days_left if left else None,
                time_rules=_time_rules(case, snapshot.stage),
            )
        )
    return rows


def _time_rules(case: PromotionCase, stage: str) -> list[str]:
    """The Party's own time rules that the recorded decisions break (the same tests as the warnings of
    promotion.services.case_record_party_decision): a year as activist before becoming a development
    candidate, a year of probation before full membership. Only decisions taken by the month's end."""
    rules = settings.PROMOTION_RULES
    broken = []
    if stage in (Stage.DEVELOPMENT, Stage.PROBATIONARY, Stage.FULL_MEMBER) and case.development_on:
        if case.activist_since is None:
            broken.append(_("No date is recorded for becoming a Party activist."))
        elif case.development_on < add_years(case.activist_since, rules["activist_years"]):
            broken.append(
                ngettext(
                    "Activist for less than %(years)d year before becoming a development candidate.",
                    "Activist for less than %(years)d years before becoming a development candidate.",
                    rules["activist_years"],
                )
                % {"years": rules["activist_years"]}
            )
    if (
        stage == Stage.FULL_MEMBER
        and case.probationary_on
        and case.full_member_on
        and case.full_member_on < add_years(case.probationary_on, rules["probation_years"])
    ):
        broken.append(
            ngettext(
                "Probation shorter than %(years)d year.",
                "Probation shorter than %(years)d years.",
                rules["probation_years"],
            )
            % {"years": rules["probation_years"]}
        )
    return broken


# --- labels --------------------------------------------------------------------------------------


def _stage_label(stage: str) -> str:
    return str(Stage(stage).label)


def _decision_label(step: _Step) -> str:
    return str(ACTION_LABELS.get(step.action, _stage_label(step.to_stage)))


def _decided_on(case: PromotionCase, step: _Step) -> date:
    return getattr(case, DECIDED_ON_FIELD[step.to_stage]) or _local_day(step.at)


def _report_status(row: _Row) -> str:
    if row.report_status == FILED:
        return _("Filed on time")
    if row.report_status == FILED_LATE:
        return _("Filed late (%(day)s)") % {"day": _local_day(row.filed_at).isoformat()}
    if row.report_status == MISSING:
        return _("Report missing")
    if row.report_status == PENDING:
        return _("Due by %(day)s") % {"day": row.report_due_on.isoformat()}
    return _("Not due")


def _flags(row: _Row) -> str | None:
    flags = []
    if row.overdue_reports:
        n = len(row.overdue_reports)
        flags.append(ngettext("%(n)d follow-up report overdue", "%(n)d follow-up reports overdue", n) % {"n": n})
    if row.validity_flag:
        if row.validity_days < 0:
            flags.append(_("Validity ended on %(day)s") % {"day": row.case.valid_until.isoformat()})
        else:
            n = row.validity_days
            flags.append(ngettext("Validity ends in %(n)d day", "Validity ends in %(n)d days", n) % {"n": n})
    flags.extend(row.time_rules)
    return "；".join(flags) or None


def _month_of(day: date) -> str:
    return f"{day:%Y-%m}"


# --- the sections --------------------------------------------------------------------------------


def _people_section(month: _Month, rows: list[_Row]) -> Section:
    columns = [
        _("Full name"),
        _("Branch"),
        _("Track"),
        _("Stage at the end of the month"),
        _("Recommended on"),
        _("Valid until"),
        _("Follow-up report due this month"),
        _("Talks this month"),
        _("Last talk"),
        _("Party decision this month"),
        _("Flags"),
    ]
    table_rows = [
        [
            row.case.member.name,
            row.case.branch.name,
            row.case.get_track_display(),
            _stage_label(row.stage),
            _day(row.case.recommended_on),
            _day(row.case.valid_until),
            _report_status(row),
            len(row.talks),
            _day(row.talks[-1][0]) if row.talks else None,
            "、".join(_decision_label(step) for step in row.decisions) or None,
            _flags(row),
        ]
        for row in rows
    ]
    still_open = sum(1 for row in rows if row.stage not in TERMINAL_STAGES)
    notes = [
        _(
            "The people handed over by the end of the month whose case was open at some time in it; "
            "stages as they were at the end of the month."
        )
    ]
    if month.as_of < month.period.end:
        notes.append(_("The month is not over: figures as of %(day)s.") % {"day": month.as_of.isoformat()})
    return Section(
        key="people",
        title=_("Recommended people"),
        figures=[
            Figure(_("People in the report"), len(rows)),
            Figure(_("Still in the pipeline at the end of the month"), still_open),
            Figure(_("Closed during the month"), len(rows) - still_open),
        ],
        tables=[Table(_("Recommended people"), columns, table_rows)],
        notes=notes,
    )


def _follow_up_section(month: _Month, rows: list[_Row]) -> Section:
    counts = Counter(row.report_status for row in rows)
    filed = counts[FILED] + counts[FILED_LATE]
    due = filed + counts[MISSING] + counts[PENDING]
    outstanding = [row for row in rows if row.report_status in (MISSING, PENDING)]
    due_on = follow_up_due_on(month.report_month)
    return Section(
        key="follow_up",
        title=_("Monthly follow-up reports (推荐后继续培养考察)"),
        figures=[
            Figure(_("Reports due this month"), due),
            Figure(_("Reports filed"), filed),
            Figure(_("Of which filed late"), counts[FILED_LATE]),
            Figure(_("Reports missing"), counts[MISSING]),
            Figure(_("Reports not yet due"), counts[PENDING]),
            Figure(_("Reports filed (%)"), round(100 * filed / due, 1) if due else None),
        ],
        tables=[
            Table(
                _("Reports not filed"),
                [_("Full name"), _("Branch"), _("Report on"), _("Due on"), _("Status")],
                [
                    [
                        row.case.member.name,
                        row.case.branch.name,
                        _month_of(month.report_month),
                        row.report_due_on.isoformat(),
                        _report_status(row),
                    ]
                    for row in outstanding
                ],
            )
        ],
        notes=[
            _(
                "The report due this month is the one on %(month)s (thinking, work and study), due by %(day)s. "
                "It is not due on people recommended this month, on those past development candidate, "
                "or on those who have left the League."
            )
            % {"month": _month_of(month.report_month), "day": due_on.isoformat()}
        ],
    )


def _talks_section(month: _Month, rows: list[_Row]) -> Section:
    talks = sorted(
        (
            (held_on, row.case.branch.path, row.case.member.name, row, held_by)
            for row in rows
            for held_on, held_by in row.talks
        ),
        key=lambda talk: talk[:3],
    )
    # Talks are part of the follow-up (推荐后继续培养考察): the people still followed up at the month's end.
    without = sum(1 for row in rows if row.stage in FOLLOW_UP_STAGES and not row.talks)
    return Section(
        key="talks",
        title=_("Talks (谈心谈话)"),
        figures=[
            Figure(_("Talks this month"), len(talks)),
            Figure(_("People talked with"), sum(1 for row in rows if row.talks)),
            Figure(_("People followed up without a talk this month"), without),
        ],
        tables=[
            Table(
                _("Talks this month"),
                [_("Date"), _("Full name"), _("Branch"), _("Talked with by")],
                [
                    [held_on.isoformat(), row.case.member.name, row.case.branch.name, held_by]
                    for held_on, _p, _n, row, held_by in talks
                ],
            )
        ],
    )


def _decisions_section(month: _Month, rows: list[_Row]) -> Section:
    by_case = {row.case.pk: row.case for row in rows}
    counts = Counter(step.to_stage for step in month.decisions)
    return Section(
        key="decisions",
        title=_("The Party's decisions"),
        figures=[Figure(_stage_label(stage), counts[stage]) for stage in DECISION_STAGES],
        tables=[
            Table(
                _("Decisions recorded this month"),
                [_("Full name"), _("Branch"), _("Decision"), _("Decided on"), _("Recorded on")],
                [
                    [
                        by_case[step.case_id].member.name,
                        by_case[step.case_id].branch.name,
                        _decision_label(step),
                        _decided_on(by_case[step.case_id], step).isoformat(),
                        _local_day(step.at).isoformat(),
                    ]
                    for step in month.decisions
                ],
            )
        ],
        notes=[_("Lapsed recommendations and withdrawn cases are listed with the Party's decisions.")],
    )


def _overdue_section(month: _Month, rows: list[_Row]) -> Section:
    flagged = [row for row in rows if row.flagged]
    return Section(
        key="overdue",
        title=_("Overdue at the end of the month"),
        figures=[
            Figure(_("People with something overdue"), len(flagged)),
            Figure(_("Follow-up reports overdue"), sum(len(row.overdue_reports) for row in rows)),
            Figure(
                _("Validity ending within %(n)d days") % {"n": VALIDITY_WARNING_DAYS},
                sum(1 for row in rows if row.validity_flag and row.validity_days >= 0),
            ),
            Figure(_("Validity ended"), sum(1 for row in rows if row.validity_flag and row.validity_days < 0)),
            Figure(_("Party time rules broken"), sum(1 for row in rows if row.time_rules)),
        ],
        tables=[
            Table(
                _("Overdue at the end of the month"),
                [
                    _("Full name"),
                    _("Branch"),
                    _("Stage at the end of the month"),
                    _("Follow-up reports overdue"),
                    _("Oldest missing report"),
                    _("Days overdue"),
                    _("Valid until"),
                    _("Days of validity left"),
                    _("Party time rules"),
                ],
                [
                    [
                        row.case.member.name,
                        row.case.branch.name,
                        _stage_label(row.stage),
                        len(row.overdue_reports),
                        _month_of(row.overdue_reports[0].period) if row.overdue_reports else None,
                        row.overdue_reports[0].overdue_days if row.overdue_reports else None,
                        _day(row.case.valid_until),
                        row.validity_days if row.validity_flag else None,
                        "；".join(row.time_rules) or None,
                    ]
                    for row in flagged
                ],
            )
        ],
    )


def _totals_section(month: _Month, last_month: _Month) -> Section:
    now, before = month.stage_counts(), last_month.stage_counts()
    this_label, last_label = month.period.label, last_month.period.label
    activity = [
        (_("People in the report"), len(last_month.cases), len(month.cases)),
        (_("Follow-up reports filed (due in the month)"), len(last_month.filed), len(month.filed)),
        (_("Talks"), last_month.talk_count(), month.talk_count()),
        (_("Party decisions"), len(last_month.decisions), len(month.decisions)),
    ]
    return Section(
        key="totals",
        title=_("Totals and movement since last month"),
        figures=[
            Figure(label, current, _("%(month)s: %(n)d") % {"month": last_label, "n": earlier})
            for label, earlier, current in activity
        ],
        tables=[
            Table(
                _("People by stage at the end of the month"),
                [_("Stage"), last_label, this_label, _("Movement")],
                [[_stage_label(stage), before[stage], now[stage], now[stage] - before[stage]] for stage in STAGE_ORDER],
                footer=[_("Total"), len(last_month.cases), len(month.cases), len(month.cases) - len(last_month.cases)],
            ),
            Table(
                _("This month against last month"),
                [_("Item"), last_label, this_label, _("Movement")],
                [[label, earlier, current, current - earlier] for label, earlier, current in activity],
            ),
        ],
        charts=[
            Chart(
                kind="bar",
                title=_("People by stage at the end of the month"),
                labels=[_stage_label(stage) for stage in STAGE_ORDER],
                series=[
                    Series(last_label, [before[stage] for stage in STAGE_ORDER]),
                    Series(this_label, [now[stage] for stage in STAGE_ORDER]),
                ],
            )
        ],
        notes=[
            _(
                "Stages that close a case (full member, not adopted, lapsed, withdrawn…) count the cases closed in "
                "that month; the others count every case in them at the month's end."
            )
        ],
    )
