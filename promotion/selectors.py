"""Reads of the 推优 pipeline for its pages and reminders: the branch's board, the review queue, the
county's overview, a case's timeline, the preliminary list's candidates. The reports due are
promotion/due.py's (one rule for the pages and the reminders); DueReport and the due days are
imported here too, where reports/ reads them.

Each runs a fixed number of queries whatever the number of cases (the tests count them at two sizes):
rows are fetched once and grouped in Python, never one query per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Substr, TruncDate
from django.db.models.lookups import In
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import COMMITTEE_KINDS, Organization, User
from members.models import Member
from promotion import due, eligibility, workdays
from promotion.due import DueReport, due_reports
from promotion.due import cultivation_due_on as cultivation_due_on
from promotion.due import follow_up_due_on as follow_up_due_on
from promotion.eligibility import Eligibility
from promotion.models import (
    OPEN_STAGES,
    CaseTransition,
    CultivationReport,
    Nomination,
    Objection,
    Opinion,
    PlanTarget,
    PromotionCase,
    Stage,
    Talk,
    Track,
)
from promotion.services import ACTION_LABELS, reviewable_by

# The open stages in the order a case goes through them (the board's columns, the overview's rows).
OPEN_STAGE_ORDER = [stage for stage in Stage.values if stage in OPEN_STAGES]


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


# --- the branch's board --------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardCase:
    case: PromotionCase
    next_step: str
    due: list[DueReport]

    @property
    def overdue(self) -> bool:
        return any(report.overdue for report in self.due)


@dataclass(frozen=True)
class BoardColumn:
    stage: str
    label: str
    cases: list[BoardCase]


def branch_board(branch: Organization, day: date) -> list[BoardColumn]:
    """The branch's open cases by stage, in the pipeline's order (empty stages included), each with what
    to do next and the reports missing. Four queries."""
    in_branch = PromotionCase.objects.open().filter(branch=branch)
    cases = list(
        in_branch.select_related("member")
        .prefetch_related(
            Prefetch(
                "nominations",
                queryset=Nomination.objects.listed().select_related("round").order_by("-pk"),
                to_attr="listed_nominations",
            )
        )
        .order_by("stage_since", "pk")
    )
    due = due_reports(in_branch, day, loaded=cases)
    columns = {stage: BoardColumn(stage, Stage(stage).label, []) for stage in OPEN_STAGE_ORDER}
    for case in cases:
        columns[case.stage].cases.append(BoardCase(case, next_step(case, day), due.get(case.pk, [])))
    return list(columns.values())


def next_step(case: PromotionCase, day: date) -> str:
    """What the branch (or the committee above) does next on a case, in a few words."""
    nomination = case.listed_nominations[0] if getattr(case, "listed_nominations", None) else None
    round = nomination.round if nomination is not None else None
    rules = settings.PROMOTION_RULES
    stage = case.stage
    if stage == Stage.CULTIVATION:
        return _("Cultivate and report every quarter; list in a round when eligible.")
    if stage == Stage.NOMINATED and round is not None:
        return _("On the list of “%(round)s”: opinions, then the branch general meeting.") % {"round": round.title}
    if stage == Stage.VOTED and round is not None:
        return _("Passed the vote in “%(round)s”: start the publicity.") % {"round": round.title}
    if stage == Stage.PUBLICITY and round is not None and round.publicity_ends_on:
        return _("In publicity until %(day)s; then submit for review.") % {"day": round.publicity_ends_on.isoformat()}
    if stage == Stage.IN_REVIEW:
        return _("Waiting for the committee above for %(days)d days.") % {
            "days": (day - _local_day(case.stage_since)).days
        }
    if stage == Stage.RETURNED:
        return _("Returned: address the comment and resubmit.")
    if stage == Stage.APPROVED:
        return _("Approved: hand the form over to the Party organization.")
    if stage in (Stage.RECOMMENDED, Stage.ACTIVIST, Stage.DEVELOPMENT):
        if stage == Stage.RECOMMENDED and case.valid_until:
            return _("Report every month; record the Party's decision when it comes (valid until %(day)s).") % {
                "day": case.valid_until.isoformat()
            }
        return _("Report every month; record the Party's decision when it comes.")
    if stage == Stage.PROBATIONARY and case.probationary_on:
        ends = workdays.add_months(case.probationary_on, 12 * rules["probation_years"])
        return _("Probation until %(day)s: record the confirmation as full member.") % {"day": ends.isoformat()}
    return ""


# --- the review queue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewItem:
    case: PromotionCase
    days_waiting: int
    committee: Organization | None  # the committee above the branch, which reviews it


REVIEW_ORDERS = {
    "waiting": ("stage_since", "pk"),  # longest waiting first
    "recent": ("-stage_since", "-pk"),
    "branch": ("branch__path", "member__name", "pk"),
}


def review_cases(
    user: User, *, township: Organization | None = None, sector: str | None = None, order: str = "waiting"
) -> QuerySet[PromotionCase]:
    """The cases waiting for review that the user may review (township staff: their subtree; county
    staff: the county), in the order asked; a page of them is read with review_items."""
    cases = reviewable_by(user, PromotionCase.objects.filter(stage=Stage.IN_REVIEW))
    if township is not None:
        cases = cases.filter(branch__path__startswith=township.path)
    if sector:
        cases = cases.filter(branch__sector=sector)
    return cases.select_related("member", "branch").order_by(*REVIEW_ORDERS.get(order, REVIEW_ORDERS["waiting"]))


def review_items(cases: Iterable[PromotionCase], day: date | None = None) -> list[ReviewItem]:
    """The cases (of review_cases) with how long each has waited and the committee above it. Reads
    the cases, then one query."""
    day = day or timezone.localdate()
    rows = list(cases)
    committees = committees_above(case.branch for case in rows)
    return [
        ReviewItem(case, (day - _local_day(case.stage_since)).days, committees.get(case.branch.path)) for case in rows
    ]


def committees_above(units: Iterable[Organization]) -> dict[str, Organization]:
    """Unit path → the nearest committee above it (township, street or grassroots), in one query. Units
    directly under the county have none: the county committee reviews them."""
    units = list(units)
    step = Organization.steplen
    ancestors = {unit.path[:end] for unit in units for end in range(step, len(unit.path), step)}
    committees = {o.path: o for o in Organization.objects.filter(path__in=ancestors, kind__in=COMMITTEE_KINDS)}
    found = {}
    for unit in units:
        above = [committees[p] for p in committees if unit.path.startswith(p) and p != unit.path]
        if above:
            found[unit.path] = max(above, key=lambda o: len(o.path))
    return found


@dataclass(frozen=True)
class ReviewSummary:
    """What a reviewer reads before deciding: how the branch came to submit the case."""

    nomination: Nomination | None  # the latest listing, with its eligibility, reasons and votes
    opinions: list[Opinion]
    objections: list[Objection]
    cultivation_reports: list[CultivationReport]
    talks: list[Talk]
    earlier_returns: list[CaseTransition]  # earlier returns to the branch, with their comments


def review_summary(case: PromotionCase) -> ReviewSummary:
    """Six queries."""
    nomination = (
        Nomination.objects.listed().filter(case=case).select_related("round", "exception_by").order_by("-pk").first()
    )
    opinions = list(Opinion.objects.filter(nomination=nomination).order_by("source", "pk")) if nomination else []
    objections = (
        list(Objection.objects.filter(nomination=nomination).order_by("received_on", "pk")) if nomination else []
    )
    return ReviewSummary(
        nomination=nomination,
        opinions=opinions,
        objections=objections,
        cultivation_reports=list(case.cultivation_reports.order_by("year", "quarter")),
        talks=list(case.talks.order_by("held_on", "pk")),
        earlier_returns=list(
            case.transitions.filter(action="return_to_branch").select_related("actor").order_by("at", "pk")
        ),
    )


# --- the county's overview -----------------------------------------------------------------------


@dataclass(frozen=True)
class OverviewRow:
    unit: Organization
    counts: dict[str, int]  # open stage → cases
    total: int
    overdue_reports: int


@dataclass(frozen=True)
class StageTime:
    stage: str
    label: str
    cases: int
    median_days: float | None
    average_days: float | None


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    count: int
    target: int | None = None


@dataclass(frozen=True)
class PlanProgress:
    committee: Organization
    organization: Organization
    track: str
    target: int
    actual: int  # recommended on the track in the plan's year, in the unit's subtree


@dataclass
class CountyOverview:
    year: int
    stages: list[tuple[str, str]]
    rows: list[OverviewRow]
    totals: dict[str, int]
    time_in_stage: list[StageTime]
    funnel: list[FunnelStep]
    plan: list[PlanProgress] = field(default_factory=list)


FUNNEL = [
    # key, label, the case's date that counts it in the year, the track it counts on (None: both)
    ("applications", gettext_lazy("Party applications"), "party_applied_on", None),
    ("recommended", gettext_lazy("Recommended to the Party"), "recommended_on", None),
    ("activists", gettext_lazy("Named Party activists"), "activist_since", Track.ACTIVIST),
    ("development", gettext_lazy("Development candidates"), "development_on", None),
    ("probationary", gettext_lazy("Probationary Party members"), "probationary_on", None),
    ("full", gettext_lazy("Full Party members"), "full_member_on", None),
]


def county_overview(units: Iterable[Organization], *, year: int, day: date) -> CountyOverview:
    """The pipeline across `units` (one row each: the county's township-level committees, say): open
    cases by stage, cases with overdue reports, time in the current stage, the year's funnel by the dates
    recorded on the cases (distinct members at each step), and the yearly plans' targets against what
    was recommended. Counted in the database, whatever the number of cases: five queries."""
    units = list(units)
    in_units = PromotionCase.objects.filter(_under(units, "branch__path"))
    open_cases = in_units.open()
    counts: dict[int, dict[str, int]] = {unit.pk: defaultdict(int) for unit in units}
    overdue_by_unit: dict[int, int] = defaultdict(int)
    # Grouped by the branch's path cut at each unit path's length; each group then goes to the deepest
    # unit among its prefixes (a prefix that is no unit's path is the subtree of none).
    unit_at = {unit.path: unit.pk for unit in units}
    cuts = {f"cut{length}": Substr("branch__path", 1, length) for length in sorted(_path_lengths(units), reverse=True)}
    by_unit_and_stage = (
        open_cases.alias(overdue=due.overdue_reports(day))
        .values("stage", **cuts)
        .annotate(cases=Count("pk"), with_overdue=Count("pk", filter=Q(overdue__gt=0)))
    )
    for group in by_unit_and_stage:
        unit = next(unit_at[group[cut]] for cut in cuts if group[cut] in unit_at)
        counts[unit][group["stage"]] += group["cases"]
        overdue_by_unit[unit] += group["with_overdue"]
    rows = [
        OverviewRow(
            unit,
            {stage: counts[unit.pk][stage] for stage in OPEN_STAGE_ORDER},
            sum(counts[unit.pk].values()),
            overdue_by_unit[unit.pk],
        )
        for unit in units
    ]
    totals = {stage: sum(row.counts[stage] for row in rows) for stage in OPEN_STAGE_ORDER}
    plan = plan_progress(units, year)
    # People, not cases: a member whose activist-track case continued on the development track has two
    # cases (both recommended, say) and counts once at each step.
    funnel_counts = in_units.aggregate(
        **{
            key: Count(
                "member",
                distinct=True,
                filter=Q(**{f"{date_field}__year": year}, **({"track": track} if track else {})),
            )
            for key, _label, date_field, track in FUNNEL
        }
    )
    targets = sum(p.target for p in plan) if plan else None
    funnel = [
        FunnelStep(key, str(label), funnel_counts[key], targets if key == "recommended" else None)
        for key, label, _date_field, _track in FUNNEL
    ]
    return CountyOverview(
        year=year,
        stages=[(stage, Stage(stage).label) for stage in OPEN_STAGE_ORDER],
        rows=rows,
        totals=totals,
        time_in_stage=_time_in_stage(open_cases, day),
        funnel=funnel,
        plan=plan,
    )


def _path_lengths(units: Iterable[Organization]) -> dict[int, list[str]]:
    """The units' paths by length."""
    lengths: dict[int, list[str]] = defaultdict(list)
    for unit in units:
        lengths[len(unit.path)].append(unit.path)
    return lengths


def _under(units: Iterable[Organization], field: str) -> Q:
    """Rows whose `field` (a path) lies in the subtree of one of `units`: its first characters are one
    of their paths. subtree_filter's LIKE per unit is the same condition, but a county's hundred and
    more township-level units then took longer to compile into SQL than the query took to run."""
    return reduce(
        or_,
        (Q(In(Substr(field, 1, length), paths)) for length, paths in _path_lengths(units).items()),
        Q(pk__in=[]),
    )


def _time_in_stage(open_cases: QuerySet[PromotionCase], day: date) -> list[StageTime]:
    """Days in the current stage, by stage: the cases counted by the (local) day they entered it."""
    entered: dict[str, list[tuple[int, int]]] = defaultdict(list)  # stage → (days in it, cases)
    for group in open_cases.values("stage", since=TruncDate("stage_since")).annotate(cases=Count("pk")):
        entered[group["stage"]].append(((day - group["since"]).days, group["cases"]))
    times = []
    for stage in OPEN_STAGE_ORDER:
        cases = sum(n for _days, n in entered[stage])
        times.append(
            StageTime(
                stage,
                Stage(stage).label,
                cases,
                _median(entered[stage]) if cases else None,
                round(sum(days * n for days, n in entered[stage]) / cases, 1) if cases else None,
            )
        )
    return times


def _median(counted: list[tuple[int, int]]) -> float:
    """The median of values given with how many times each occurs (at least one)."""
    total = sum(n for _value, n in counted)
    middle = [(total - 1) // 2, total // 2]  # the positions of the middle one or two, from 0
    found, seen = [], 0
    for value, n in sorted(counted):
        seen += n
        while middle and middle[0] < seen:
            found.append(value)
            middle.pop(0)
    return sum(found) / 2


def plan_progress(units: Iterable[Organization], year: int) -> list[PlanProgress]:
    """Each target of the year's plans of the committees in `units` (and under them), against the
    members recommended on its track in the year under its unit. Two queries."""
    units = list(units)
    targets = list(
        PlanTarget.objects.filter(plan__year=year)
        .filter(_under(units, "plan__committee__path"))
        .select_related("plan__committee", "organization")
        .order_by("plan__committee__path", "organization__path", "track")
    )
    if not targets:
        return []
    recommended = (
        PromotionCase.objects.filter(_under(units, "branch__path"), recommended_on__year=year)
        .values_list("branch__path", "track", "member_id")
        .distinct()
    )
    # Members, not cases (a member recommended twice on a track in a year counts once), under each unit
    # above their branch.
    step = Organization.steplen
    members_under: dict[tuple[str, str], set[int]] = defaultdict(set)
    for path, track, member in recommended:
        for end in range(step, len(path) + 1, step):
            members_under[(path[:end], track)].add(member)
    return [
        PlanProgress(
            committee=t.plan.committee,
            organization=t.organization,
            track=t.track,
            target=t.target,
            actual=len(members_under[(t.organization.path, t.track)]),
        )
        for t in targets
    ]


# --- a case's timeline ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    title: str
    detail: str = ""
    actor: str = ""


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


def _who(user: User | None, on_behalf_of: User | None = None) -> str:
    if user is None:
        return _("the system")
    if on_behalf_of is not None:
        return _("%(deputy)s for %(principal)s") % {
            "deputy": user.display_name,
            "principal": on_behalf_of.display_name,
        }
    return user.display_name


def case_timeline(case: PromotionCase) -> list[TimelineItem]:
    """Everything that happened on the case, oldest first: its steps (votes and review comments are on
    the steps they caused), the reports, talks, opinions and objections. Six queries. Records kept by
    date only (talks, objections) sort at the end of their day, after that day's steps."""
    items = []
    for step in case.transitions.select_related("actor", "on_behalf_of", "round").order_by("at", "pk"):
        detail = "\n".join(filter(None, [step.round.title if step.round else "", step.comment]))
        items.append(
            TimelineItem(
                step.at, str(ACTION_LABELS.get(step.action, step.action)), detail, _who(step.actor, step.on_behalf_of)
            )
        )
    for report in case.cultivation_reports.select_related("filed_by"):
        title = _("Cultivation report, %(year)d Q%(quarter)d") % {"year": report.year, "quarter": report.quarter}
        items.append(TimelineItem(report.filed_at, title, report.content, _who(report.filed_by)))
    for report in case.follow_up_reports.select_related("filed_by"):
        detail = "\n".join(
            [
                _("Thinking: %(text)s") % {"text": report.thinking},
                _("Work: %(text)s") % {"text": report.work},
                _("Study: %(text)s") % {"text": report.study},
            ]
        )
        title = _("Follow-up report, %(month)s") % {"month": f"{report.month:%Y-%m}"}
        items.append(TimelineItem(report.filed_at, title, detail, _who(report.filed_by)))
    for opinion in Opinion.objects.filter(nomination__case=case).select_related("recorded_by"):
        title = (
            _("Opinion of %(source)s, in favour") if opinion.favourable else _("Opinion of %(source)s, not in favour")
        ) % {"source": opinion.get_source_display()}
        items.append(TimelineItem(opinion.recorded_at, title, opinion.content, _who(opinion.recorded_by)))
    for objection in Objection.objects.filter(nomination__case=case).select_related("recorded_by", "resolved_by"):
        items.append(
            TimelineItem(
                _end_of(objection.received_on),
                _("Objection received"),
                objection.content,
                _who(objection.recorded_by),
            )
        )
        if objection.resolved_on:
            title = _("Objection upheld") if objection.upheld else _("Objection dismissed")
            items.append(
                TimelineItem(_end_of(objection.resolved_on), title, objection.resolution, _who(objection.resolved_by))
            )
    for talk in case.talks.select_related("recorded_by"):
        title = _("Talk held by %(who)s") % {"who": talk.held_by}
        items.append(TimelineItem(_end_of(talk.held_on), title, talk.summary, _who(talk.recorded_by)))
    return sorted(items, key=lambda item: item.at)


# --- the preliminary list's candidates -----------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    member: Member
    case: PromotionCase | None  # the member's open case on the track, if any
    eligibility: Eligibility

    @property
    def may_be_listed(self) -> bool:
        """In cultivation on the track: may go on a list (failing rules then need a reason or an
        exception, which the round's service asks for)."""
        return self.case is not None and self.case.stage == Stage.CULTIVATION


def eligible_members(branch: Organization, track: str, day: date) -> list[Candidate]:
    """Every active member of the branch with their checks on the track, for drawing up the preliminary
    list: those who may be listed first (meeting every rule, then priority candidates first), then the
    rest, by name. A member without an open case fails the application rule (open one first). Three
    queries."""
    members = eligibility.with_facts(Member.objects.active().filter(branch=branch).order_by("name", "pk"), day)
    cases = {
        case.member_id: case for case in PromotionCase.objects.open().filter(branch=branch, track=track).order_by("pk")
    }
    candidates = []
    for member in members:
        case = cases.get(member.pk)
        result = eligibility.check_member(
            member,
            track=track,
            party_applied_on=case.party_applied_on if case else None,
            month_only=case.party_applied_month_only if case else False,
            activist_since=case.activist_since if case else None,
            day=day,
        )
        candidates.append(Candidate(member, case, result))
    return sorted(candidates, key=lambda c: (not c.may_be_listed, not c.eligibility.ok, not c.eligibility.is_priority))
