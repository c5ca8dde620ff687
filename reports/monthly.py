"""The monthly progress report (月度进展报告, issue 7): what the League tells the Party organization each
month about the people it recommended (推荐后继续培养考察, domain.md §0 stage 3) — each person's stage,
the monthly follow-up report on their thinking, work and study, the talks held with them (谈心谈话),
the Party's decisions, what is overdue, and how the numbers moved since last month.

Scope: a Party organization reads the cases handed over to it (`PromotionCase.party_organization`); a
League unit reads the recommended cases of its subtree. Either way only cases with a recommendation
date: what the League has not handed over is its own working record.

Which month's facts — everything is read as it stood at the month's end (today while the month is
under way), from dated records, so that regenerating a closed month gives what it gave then:
- A case's stage at a moment is reports/quarterly/history.py's `case_stage_at` (the pipeline's
  transitions; a case opened after the moment was not there yet).
- The month's people are those handed over by the month's end whose case was open when the month
  began or changed stage during it: open during it, closed in it (decided, lapsed, withdrawn,
  continued on the development track), or back from a lapse (the Party decided within the validity
  and the League recorded it after the daily sweep).
- Follow-up reports count as filed from the moment they were filed: a report filed after the month's
  end is missing in that month (it shows as filed in the month it was filed). The months a case owes
  a report on are promotion/due.py's (`follow_up_months`), due by `follow_up_due_on`, while the case
  is followed up (FOLLOW_UP_STAGES) and its member is in the League — judged by the member's leaving
  date, not today's status, as the quarterly report does.
- "This month's follow-up report" is the one that falls due in the month: the report on the month
  before. It is due on a case followed up when it fell due or at the month's end; only then is it
  filed (on time or late) or missing. The overdue list is every report owed at the month's end and
  not filed by then.
- Decisions are listed in the month they were recorded (their transition), with the date the Party
  took them (kept on the case). Talks count by their own dates; the member's name and branch are
  today's. Closed months are frozen in the archive when first generated after they close
  (reports/selectors.py).

Four queries whatever the number of cases, branches or months: the cases (with their stage when the
two months began, taken in SQL as history.case_stage_at does), their transitions over the two months
(from which the stage at each moment compared is placed), the follow-up reports filed, and the talks;
the last three read the cases through a subquery.
All are read as values, not model instances: building instances was most of the report's time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import NamedTuple

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from branches.models import Organization, PartyOrganization, subtree_filter
from members.models import add_years
from promotion.due import FOLLOW_UP, follow_up_months
from promotion.models import (
    FOLLOW_UP_STAGES,
    TERMINAL_STAGES,
    CaseTransition,
    FollowUpReport,
    PromotionCase,
    Stage,
    Talk,
    Track,
)
from promotion.party_views import HANDED_OVER_STAGES, Validity, validity
from promotion.selectors import DueReport, follow_up_due_on
from promotion.services import ACTION_LABELS
from promotion.workdays import month_start
from reports.document import Chart, Figure, ReportDocument, Section, Series, Table
from reports.models import ReportKind
from reports.periods import MONTH, Period
from reports.quarterly.history import case_stage_by_transitions, end_of, start_of
from reports.selectors import Progress

# The Party organizer's page calls a recommendation "expiring" within 90 days of its end (a literal in
# promotion.party_views.validity). The report flags by that function's own verdict; this constant only
# names the threshold in the report's text, and must match the page (tests/reports/test_monthly_rules.py).
VALIDITY_WARNING_DAYS = 90
# The stages a handed-over case can be in, in the pipeline's order (the totals' rows, the chart's bars).
STAGE_ORDER = [stage for stage in Stage.values if stage in HANDED_OVER_STAGES]
# The steps the report lists as the Party's decisions, with the lapses, withdrawals and continuations
# on the development track that end a case.
DECISION_STAGES = [
    Stage.ACTIVIST,
    Stage.DEVELOPMENT,
    Stage.PROBATIONARY,
    Stage.FULL_MEMBER,
    Stage.NOT_ADOPTED,
    Stage.LAPSED,
    Stage.WITHDRAWN,
    Stage.CONTINUED,
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
    Stage.CONTINUED: "closed_on",
}
# The stages whose decisions the Party's time rules test (_time_rules; a set: read for every row).
_TIMED_DECISION_STAGES = frozenset({Stage.DEVELOPMENT, Stage.PROBATIONARY, Stage.FULL_MEMBER})
# The follow-up report falling due in the month: not due, or due and then filed, late, missing, or
# still to come (its due day not reached while the month is under way).
NOT_DUE, FILED, FILED_LATE, MISSING, PENDING = "not_due", "filed", "filed_late", "missing", "pending"
STEPS = 7  # the progress reported: loading, then one step per section


def _utc(moment: datetime) -> datetime:
    """A window's bound in UTC, the zone the database's moments are read in: comparing aware datetimes
    of two zones (and hashing one in a named zone) asks each for its offset, which made comparisons
    ten times slower, and the report compares thousands."""
    return moment.astimezone(UTC)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _year_month(day: date) -> str:
    return f"{day:%Y-%m}"


class _Step(NamedTuple):
    """A transition of the two months (a tuple: read for every case, hundreds per report)."""

    case_id: int
    action: str
    from_stage: str
    to_stage: str
    at: datetime

    @property
    def is_decision(self) -> bool:
        # A step that keeps the stage (a move with the member) decides nothing.
        return self.to_stage in DECISION_STAGES and self.from_stage != self.to_stage


class _Case(NamedTuple):
    """What the report reads of a handed-over case: the agreed hand-over fields only, never the ID
    number (issue 5), read as a tuple of values (model instances cost most of the report's time)."""

    pk: int
    track: str
    recommended_on: date
    valid_until: date | None
    activist_since: date | None
    development_on: date | None
    probationary_on: date | None
    full_member_on: date | None
    closed_on: date | None
    name: str  # the member's
    left_on: date | None  # the member's leaving date
    branch_name: str
    branch_path: str
    stages: dict[datetime, str | None]  # the case's stage at each moment compared (None: not opened yet)


class _AsItStood(NamedTuple):
    """A case at a past stage, as much of it as the Party page's validity rule reads."""

    stage: str
    valid_until: date | None


@dataclass(frozen=True)
class _Window:
    """A month as the report reads it: from its first moment to the end of `as_of`."""

    period: Period
    as_of: date  # the month's last day, or today while it is under way
    start: datetime
    end: datetime
    # reports_owed's, by the month of the hand-over: the cases handed over in one month owe the same.
    _owed: dict[date, dict[date, date]] = field(default_factory=dict, compare=False, repr=False)
    # follow_up_due_on's, by the month reported on: the hand-over months' lists overlap.
    _due_on: dict[date, date] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, period: Period, as_of: date) -> _Window:
        return cls(period, as_of, _utc(start_of(period.start)), _utc(end_of(as_of)))

    # Cached: read for every row of the month.
    @cached_property
    def reported_month(self) -> date:
        """The month whose follow-up report falls due in this one: the month before."""
        return self.period.previous().start

    @cached_property
    def report_due_on(self) -> date:
        return follow_up_due_on(self.reported_month)

    @cached_property
    def report_late_from(self) -> datetime:
        """The end of the report's due day: a report filed from then on is late."""
        return _utc(end_of(self.report_due_on))

    @cached_property
    def report_falls_due_at(self) -> datetime:
        """The end of the report's due day, or the window's end while that day is to come."""
        return min(self.report_late_from, self.end)

    def reports_owed(self, recommended_on: date) -> dict[date, date]:
        """The follow-up reports owed by `as_of` on a case handed over on `recommended_on`
        (promotion/due.py's months), oldest first: the month reported on, and its due day."""
        first = month_start(recommended_on)
        owed = self._owed.get(first)
        if owed is None:
            owed = self._owed[first] = {}
            for month in follow_up_months(first, self.as_of):
                if month not in self._due_on:
                    self._due_on[month] = follow_up_due_on(month)
                owed[month] = self._due_on[month]
        return owed


@dataclass
class _Row:
    """One person of the month, as the month's end saw them. What only the month's own sections read
    (the overdue reports, the validity, the time rules) is worked out when first read: the month
    before is read for its totals only."""

    window: _Window
    case: _Case
    stage: str  # at the month's end
    report_status: str  # of the follow-up report falling due in the month
    filed_at: datetime | None  # when that report was filed, if it was due and filed
    talks: list[tuple[date, str]]  # (held on, held by), oldest first
    decisions: list[_Step]
    followed_at_end: bool  # followed up at the month's end, and in the League
    filed: dict[date, datetime]  # the case's follow-up reports filed by the month's end, by month

    @cached_property
    def overdue_reports(self) -> list[DueReport]:
        """Owed at the month's end and not filed by then, oldest first."""
        if not self.followed_at_end:
            return []
        as_of, filed = self.window.as_of, self.filed
        return [
            DueReport(FOLLOW_UP, month, due_on, (as_of - due_on).days)
            for month, due_on in self.window.reports_owed(self.case.recommended_on).items()
            if month not in filed and due_on < as_of
        ]

    @cached_property
    def validity(self) -> Validity | None:
        """While the recommendation waits for the Party's decision."""
        return validity(_AsItStood(self.stage, self.case.valid_until), self.window.as_of)

    @cached_property
    def time_rules(self) -> list[str]:
        return _time_rules(self.case, self.stage)

    @property
    def validity_flag(self) -> bool:
        # The Party organizer's page's own verdict: "expiring" or "expired".
        return self.validity is not None and self.validity.label != "valid"

    @property
    def flagged(self) -> bool:
        return bool(self.overdue_reports or self.validity_flag or self.time_rules)


@dataclass
class _MonthView:
    """One month of the scope: its people, sorted by branch and name, and the decisions recorded in it."""

    window: _Window
    rows: list[_Row]
    decisions: list[_Step]  # in the order recorded

    def stage_counts(self) -> dict[str, int]:
        counts = Counter(row.stage for row in self.rows)
        return {stage: counts[stage] for stage in STAGE_ORDER}

    def reports_filed(self) -> int:
        return sum(1 for row in self.rows if row.report_status in (FILED, FILED_LATE))

    def talk_count(self) -> int:
        return sum(len(row.talks) for row in self.rows)


def build_monthly(
    scope: Organization | PartyOrganization, period: Period, *, progress: Progress | None = None
) -> ReportDocument:
    """The monthly progress report of `scope` for the calendar month `period`."""
    if period.kind != MONTH:
        raise ValueError(f"the monthly report covers a month, not {period.key}")

    def step_done(done: int) -> None:
        if progress:
            progress(done, STEPS)

    this_month, last_month = _read_months(scope, period, timezone.localdate())
    step_done(1)
    sections = []
    for done, build in enumerate(
        (_people_section, _follow_up_section, _talks_section, _decisions_section, _overdue_section), start=2
    ):
        sections.append(build(this_month))
        step_done(done)
    sections.append(_totals_section(this_month, last_month))
    step_done(STEPS)
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


# What the report reads of a case, in _Case's order up to its stages (the member's and the branch's
# fields through their relations).
_CASE_FIELDS = [
    "pk",
    "track",
    "recommended_on",
    "valid_until",
    "activist_since",
    "development_on",
    "probationary_on",
    "full_member_on",
    "closed_on",
    "member__name",
    "member__left_on",
    "branch__name",
    "branch__path",
]


def _scope_cases(scope: Organization | PartyOrganization) -> QuerySet[PromotionCase]:
    cases = PromotionCase.objects.filter(recommended_on__isnull=False)
    if isinstance(scope, PartyOrganization):
        return cases.filter(party_organization=scope)
    return cases.filter(subtree_filter([scope.path], "branch__path"))


def _read_months(scope: Organization | PartyOrganization, period: Period, today: date) -> tuple[_MonthView, _MonthView]:
    """The month `period` and the one before, from four queries over the cases of the scope."""
    this = _Window.of(period, min(period.end, today))
    last = _Window.of(period.previous(), period.previous().end)
    if period.start > today:  # a month to come: nothing has happened in it yet
        return _MonthView(this, [], []), _MonthView(last, [], [])
    # A hand-over is dated on or before the day it is recorded: none recorded by the end is lost.
    handed_over = _scope_cases(scope).filter(recommended_on__lte=this.as_of)
    # The stage the case's transitions give at the two months' start, whenever the case was opened
    # (history.case_stage_by_transitions): from it and the two months' transitions,
    # the stage at each moment compared is placed in Python, one pair of subqueries per case and not one
    # per moment (compiling them was most of the report's time).
    # Every case handed over, the cases closed before the two months too: _month_view leaves out those
    # not moved in them, and filtering them in SQL cost more to compile than reading them does.
    # Sorted by branch and name per month, in Python.
    case_values = list(
        handed_over.order_by().values_list(*_CASE_FIELDS, "created_at", case_stage_by_transitions(last.start))
    )
    # The other three queries read the cases through the cases handed over as well: only the report's
    # people's rows are used from their results.
    handed_over_ids = handed_over.values("pk")
    # Every transition of the two months of every case handed over.
    history: dict[int, list[_Step]] = defaultdict(list)
    for step in (
        CaseTransition.objects.filter(case__in=handed_over_ids, at__gte=last.start, at__lt=this.end)
        .order_by("at", "pk")
        .values_list("case_id", "action", "from_stage", "to_stage", "at")
    ):
        history[step[0]].append(_Step._make(step))
    # All within the two months, as _stages_at needs (a report falls due in the month after its own).
    moments = [last.start, this.start, this.end, last.report_falls_due_at, this.report_falls_due_at]
    cases = []
    for *values, created_at, stage in case_values:
        cases.append(_Case(*values, _stages_at(moments, created_at, stage, history[values[0]])))
    filed: dict[int, dict[date, datetime]] = defaultdict(dict)
    filed_this_month: set[int] = set()  # the cases with a report filed after last month's end
    for case_id, month, filed_at in (
        # A case closed before the months adds the reports it filed while followed up.
        FollowUpReport.objects.filter(case__in=handed_over_ids, filed_at__lt=this.end)
        .order_by()
        .values_list("case_id", "month", "filed_at")
    ):
        filed[case_id][month] = filed_at
        if filed_at >= last.end:
            filed_this_month.add(case_id)
    # Last month's reports filed by its end: a report filed later leaves the month as it was.
    filed_last_month = defaultdict(dict, filed)
    for case_id in filed_this_month:
        filed_last_month[case_id] = {month: at for month, at in filed[case_id].items() if at < last.end}
    talks: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for case_id, held_on, held_by in (
        # A case closed before the months has hardly any.
        Talk.objects.filter(case__in=handed_over_ids, held_on__gte=last.period.start, held_on__lte=this.as_of)
        .order_by("held_on", "pk")
        .values_list("case_id", "held_on", "held_by")
    ):
        talks[case_id].append((held_on, held_by))
    return (
        _month_view(this, cases, history, filed, talks),
        _month_view(last, cases, history, filed_last_month, talks),
    )


def _stages_at(
    moments: list[datetime], created_at: datetime, stage_then: str, steps: list[_Step]
) -> dict[datetime, str | None]:
    """The case's stage at each moment within the two months (as history.case_stage_at gives it): None
    if it was opened later, else the stage its last step before the moment reached, else its stage then."""
    if not steps:  # most cases: not moved in the two months
        return {moment: None if created_at >= moment else stage_then for moment in moments}
    stages: dict[datetime, str | None] = {}
    for moment in moments:
        stage = None if created_at >= moment else stage_then
        if stage is not None:
            for step in steps:  # in the order taken
                if step.at >= moment:
                    break
                stage = step.to_stage
        stages[moment] = stage
    return stages


def _month_view(
    window: _Window,
    cases: list[_Case],
    history: dict[int, list[_Step]],
    filed: dict[int, dict[date, datetime]],
    talks: dict[int, list[tuple[date, str]]],
) -> _MonthView:
    def changed_stage(case: _Case) -> bool:
        return any(window.start <= s.at < window.end and s.from_stage != s.to_stage for s in history[case.pk])

    # Handed over by the end (the hand-over is the only way into these stages), and open when the month
    # began or changed stage during it (decided, or back from a lapse).
    people = [
        case
        for case in cases
        if case.stages[window.end] in HANDED_OVER_STAGES
        and (case.stages[window.start] not in TERMINAL_STAGES or changed_stage(case))
    ]
    people.sort(key=lambda case: (case.branch_path, case.name, case.pk))
    decisions = sorted(
        (
            step
            for case in people
            for step in history[case.pk]
            if step.is_decision and window.start <= step.at < window.end
        ),
        key=lambda step: (step.at, step.case_id),
    )
    decisions_of: dict[int, list[_Step]] = defaultdict(list)
    for step in decisions:
        decisions_of[step.case_id].append(step)
    first_day, falls_due_at = window.period.start, window.report_falls_due_at  # read once: per row below
    rows = [
        _row(
            window,
            case,
            case.stages[window.end],
            case.stages[falls_due_at],
            filed[case.pk],
            [
                (held_on, held_by)
                for held_on, held_by in talks[case.pk]
                # From the hand-over on: the talks before it are the League's own working record.
                if first_day <= held_on <= window.as_of and held_on >= case.recommended_on
            ],
            decisions_of[case.pk],
        )
        for case in people
    ]
    return _MonthView(window, rows, decisions)


def _in_league(case: _Case, day: date) -> bool:
    """Still a member at the end of `day`, by the leaving date (as history.member_on), not today's status:
    after leaving, the case goes on with the Party but the League no longer reports on the person."""
    return case.left_on is None or case.left_on > day


def _row(
    window: _Window,
    case: _Case,
    stage: str,
    stage_when_due: str | None,
    filed: dict[date, datetime],  # by the month's end
    talks: list[tuple[date, str]],
    decisions: list[_Step],
) -> _Row:
    """A person's report, talks, decisions and flags as of the month's end."""
    owed = window.reports_owed(case.recommended_on)
    followed_at_end = stage in FOLLOW_UP_STAGES and _in_league(case, window.as_of)
    due_on = window.report_due_on
    # Due first, then filed or missing: on a case followed up when the report fell due (a case decided
    # after its due day still owed it) or at the month's end.
    due = window.reported_month in owed and (
        followed_at_end or (stage_when_due in FOLLOW_UP_STAGES and _in_league(case, min(due_on, window.as_of)))
    )
    filed_at = filed.get(window.reported_month) if due else None
    if not due:
        status = NOT_DUE
    elif filed_at is not None:
        status = FILED_LATE if filed_at >= window.report_late_from else FILED
    else:
        status = MISSING if window.as_of > due_on else PENDING
    return _Row(window, case, stage, status, filed_at, talks, decisions, followed_at_end, filed)


def _time_rules(case: _Case, stage: str) -> list[str]:
    """The Party's own time rules that the recorded decisions break (the same tests as the warnings of
    promotion.services.case_record_party_decision): a year as activist before becoming a development
    candidate, a year of probation before full membership. Only decisions taken by the month's end."""
    if stage not in _TIMED_DECISION_STAGES:
        return []  # most rows: nothing decided to test
    rules = settings.PROMOTION_RULES
    broken = []
    if case.development_on:
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


def _stage_labels() -> dict[str, str]:
    """Every stage's label, translated once for a table's rows."""
    return {value: str(label) for value, label in Stage.choices}


def _decision_label(step: _Step) -> str:
    return str(ACTION_LABELS.get(step.action, _stage_label(step.to_stage)))


def _decided_on(case: _Case, step: _Step) -> date:
    return getattr(case, DECIDED_ON_FIELD[step.to_stage]) or timezone.localdate(step.at)


def _report_statuses(due_on: date) -> dict[str, str]:
    """The labels of the report statuses that read the same on every row, translated once for a table."""
    return {
        FILED: _("Filed on time"),
        MISSING: _("Report missing"),
        PENDING: _("Due by %(day)s") % {"day": due_on.isoformat()},
        NOT_DUE: _("Not due"),
    }


def _report_status(row: _Row, statuses: dict[str, str]) -> str:
    if row.report_status == FILED_LATE:
        return _("Filed late (%(day)s)") % {"day": timezone.localdate(row.filed_at).isoformat()}
    return statuses[row.report_status]


def _flags(row: _Row) -> str | None:
    flags = []
    if row.overdue_reports:
        n = len(row.overdue_reports)
        flags.append(ngettext("%(n)d follow-up report overdue", "%(n)d follow-up reports overdue", n) % {"n": n})
    if row.validity_flag:
        if row.validity.days_left < 0:
            flags.append(_("Validity ended on %(day)s") % {"day": row.case.valid_until.isoformat()})
        else:
            n = row.validity.days_left
            flags.append(ngettext("Validity ends in %(n)d day", "Validity ends in %(n)d days", n) % {"n": n})
    flags.extend(row.time_rules)
    return "；".join(flags) or None


# --- the sections --------------------------------------------------------------------------------


def _people_section(month: _MonthView) -> Section:
    due_on = month.window.report_due_on
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
    track_labels = {value: str(label) for value, label in Track.choices}
    stage_labels, statuses = _stage_labels(), _report_statuses(due_on)
    table_rows = [
        [
            row.case.name,
            row.case.branch_name,
            track_labels.get(row.case.track, row.case.track),
            stage_labels[row.stage],
            _day(row.case.recommended_on),
            _day(row.case.valid_until),
            _report_status(row, statuses),
            len(row.talks),
            _day(row.talks[-1][0]) if row.talks else None,
            "、".join(_decision_label(step) for step in row.decisions) or None,
            _flags(row),
        ]
        for row in month.rows
    ]
    still_open = sum(1 for row in month.rows if row.stage not in TERMINAL_STAGES)
    notes = [
        _(
            "The people handed over by the end of the month whose case was open at some time in it; "
            "stages as they were at the end of the month."
        )
    ]
    if month.window.as_of < month.window.period.end:
        notes.append(_("The month is not over: figures as of %(day)s.") % {"day": month.window.as_of.isoformat()})
    return Section(
        key="people",
        title=_("Recommended people"),
        figures=[
            Figure(_("People in the report"), len(month.rows)),
            Figure(_("Still in the pipeline at the end of the month"), still_open),
            Figure(_("Closed during the month"), len(month.rows) - still_open),
        ],
        tables=[Table(_("Recommended people"), columns, table_rows)],
        notes=notes,
    )


def _follow_up_section(month: _MonthView) -> Section:
    counts = Counter(row.report_status for row in month.rows)
    filed = counts[FILED] + counts[FILED_LATE]
    due = filed + counts[MISSING] + counts[PENDING]
    outstanding = [row for row in month.rows if row.report_status in (MISSING, PENDING)]
    reported_month, due_on = _year_month(month.window.reported_month), month.window.report_due_on
    statuses = _report_statuses(due_on)
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
                        row.case.name,
                        row.case.branch_name,
                        reported_month,
                        due_on.isoformat(),
                        _report_status(row, statuses),
                    ]
                    for row in outstanding
                ],
            )
        ],
        notes=[
            _(
                "The report due this month is the one on %(month)s (thinking, work and study), due by %(day)s, "
                "from the people recommended before this month who were still followed up (recommended, "
                "activists, development candidates) and in the League when it fell due or at the end of the "
                "month. A report filed after the end of the month counts in the month it was filed."
            )
            % {"month": reported_month, "day": due_on.isoformat()}
        ],
    )


def _talks_section(month: _MonthView) -> Section:
    talks = sorted(
        (
            (held_on, row.case.branch_path, row.case.name, row, held_by)
            for row in month.rows
            for held_on, held_by in row.talks
        ),
        key=lambda talk: talk[:3],
    )
    # Talks are part of the follow-up (推荐后继续培养考察): the people still followed up at the month's end.
    without = sum(1 for row in month.rows if row.stage in FOLLOW_UP_STAGES and not row.talks)
    return Section(
        key="talks",
        title=_("Talks (谈心谈话)"),
        figures=[
            Figure(_("Talks this month"), len(talks)),
            Figure(_("People talked with"), sum(1 for row in month.rows if row.talks)),
            Figure(_("People followed up without a talk this month"), without),
        ],
        tables=[
            Table(
                _("Talks this month"),
                [_("Date"), _("Full name"), _("Branch"), _("Talked with by")],
                [
                    [held_on.isoformat(), row.case.name, row.case.branch_name, held_by]
                    for held_on, _path, _name, row, held_by in talks
                ],
            )
        ],
    )


def _decisions_section(month: _MonthView) -> Section:
    case_of = {row.case.pk: row.case for row in month.rows}
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
                        case_of[step.case_id].name,
                        case_of[step.case_id].branch_name,
                        _decision_label(step),
                        _decided_on(case_of[step.case_id], step).isoformat(),
                        timezone.localdate(step.at).isoformat(),
                    ]
                    for step in month.decisions
                ],
            )
        ],
        notes=[
            _(
                "Lapsed recommendations, withdrawn cases and cases continued on the development track are listed "
                "with the Party's decisions."
            )
        ],
    )


def _overdue_section(month: _MonthView) -> Section:
    flagged = [row for row in month.rows if row.flagged]
    stage_labels = _stage_labels()
    return Section(
        key="overdue",
        title=_("Overdue at the end of the month"),
        figures=[
            Figure(_("People with something overdue"), len(flagged)),
            Figure(_("Follow-up reports overdue"), sum(len(row.overdue_reports) for row in month.rows)),
            Figure(
                _("Validity ending within %(n)d days") % {"n": VALIDITY_WARNING_DAYS},
                sum(1 for row in month.rows if row.validity_flag and row.validity.days_left >= 0),
            ),
            Figure(
                _("Validity ended"),
                sum(1 for row in month.rows if row.validity_flag and row.validity.days_left < 0),
            ),
            Figure(_("Party time rules broken"), sum(1 for row in month.rows if row.time_rules)),
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
                        row.case.name,
                        row.case.branch_name,
                        stage_labels[row.stage],
                        len(row.overdue_reports),
                        _year_month(row.overdue_reports[0].period) if row.overdue_reports else None,
                        row.overdue_reports[0].overdue_days if row.overdue_reports else None,
                        _day(row.case.valid_until),
                        row.validity.days_left if row.validity_flag else None,
                        "；".join(row.time_rules) or None,
                    ]
                    for row in flagged
                ],
            )
        ],
    )


def _totals_section(month: _MonthView, last_month: _MonthView) -> Section:
    now, before = month.stage_counts(), last_month.stage_counts()
    this_label, last_label = month.window.period.label, last_month.window.period.label
    people_now, people_before = len(month.rows), len(last_month.rows)
    activity = [
        (_("People in the report"), people_before, people_now),
        (_("Follow-up reports filed (due in the month)"), last_month.reports_filed(), month.reports_filed()),
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
                footer=[_("Total"), people_before, people_now, people_now - people_before],
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
