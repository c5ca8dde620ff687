"""Reads of branch life (meetings and activities) shaped for pages, reports and reminders.

The centre is `branch_completeness`: for branches × months, what was held, which required kinds are
missing (cadence from settings.LEAGUE_RULES["activity_cadence"], domain.md §3.1–§3.2), attendance
and the county's themed-day topics, computed in a constant number of queries from the kept
`present_count`/`absent_count` of each activity (never from attendance rows).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.committee_selectors import term_status
from branches.models import (
    BRANCH_KINDS,
    Activity,
    ActivityKind,
    Cadence,
    CommitteeSeat,
    Organization,
    Role,
    ThemedDayTopic,
    User,
    subtree_filter,
)
from branches.scope import user_scope
from members.models import LeaguePost, Member, MemberStatus

# Who sits on a branch committee (支部委员会): its meetings are attended by these, not by everyone.
COMMITTEE_POSTS = frozenset(
    {
        LeaguePost.SECRETARY,
        LeaguePost.DEPUTY_SECRETARY,
        LeaguePost.ORGANIZATION,
        LeaguePost.PUBLICITY,
        LeaguePost.COMMITTEE,
    }
)


# domain.md §2.3: a branch of 7 or more members elects a committee (3 to 5 people); a smaller one has a
# secretary alone, and so holds no committee meetings.
COMMITTEE_FROM_MEMBERS = 7
COMMITTEE_MIN_SEATS = 3


# --- months and quarters ----------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_start(day: date) -> date:
    return date(day.year, 3 * (quarter_of(day) - 1) + 1, 1)


def period_months(year: int, quarter: int | None) -> tuple[date, date]:
    """First and last month of a quarter (1–4) of `year`, or of the whole year."""
    if quarter:
        first = date(year, 3 * (quarter - 1) + 1, 1)
        return first, add_months(first, 2)
    return date(year, 1, 1), date(year, 12, 1)


def cadence_of(kind: str) -> str:
    return settings.LEAGUE_RULES["activity_cadence"].get(kind, Cadence.AS_NEEDED)


def required_kinds(cadence: str) -> list[str]:
    """Kinds required at a cadence, in the order of ActivityKind (so pages list them stably)."""
    return [kind for kind in ActivityKind.values if cadence_of(kind) == cadence]


# --- scope --------------------------------------------------------------------------------------


def get_activity_for_user(user: User, pk: int) -> Activity:
    return get_object_or_404(
        Activity.objects.visible_to(user).select_related(
            "organization", "themed_day_topic", "recorded_by", "voided_by"
        ),
        pk=pk,
    )


def completeness_units(user: User) -> QuerySet[Organization]:
    """Branches whose completeness the user reviews: under the committees they are staff of."""
    if user.is_superuser:
        return Organization.objects.branches()
    return Organization.objects.filter(subtree_filter(user_scope(user).managed_paths)).branches()


def staff_county(user: User) -> Organization | None:
    """The county committee of a county staff member, for the themed-day topic pages."""
    return next(
        (
            a.organization
            for a in user_scope(user).assignments
            if a.role == Role.COUNTY_STAFF and a.organization is not None
        ),
        None,
    )


# --- one unit -----------------------------------------------------------------------------------


def keeps_roster(unit: Organization) -> bool:
    """Attendance is taken from the roster in branches, where members are recorded (domain.md §2.2);
    general branches and committees give how many attended."""
    return unit.kind in BRANCH_KINDS


def roster(unit: Organization, activity: Activity | None = None) -> list[Member]:
    """Who may be on an activity's attendance: the branch's active members, plus anyone already on
    the activity's list, who may have left since. One query."""
    if not keeps_roster(unit):
        return []
    condition = Q(branch=unit, status=MemberStatus.ACTIVE)
    if activity is not None and activity.pk:
        condition |= Q(attendance__activity=activity)
    return list(Member.objects.filter(condition).distinct().order_by("name", "pk"))


def sits_on_committee(member: Member) -> bool:
    """Branch committee meetings (支部委员会) are attended by those holding a committee post."""
    return member.league_post in COMMITTEE_POSTS


def county_of(unit: Organization) -> str:
    """The materialized path of the county the unit belongs to (the root of its tree)."""
    return unit.path[: Organization.steplen]


def topics_for_recording(unit: Organization, day: date) -> QuerySet[ThemedDayTopic]:
    """The county's topics a themed League day may be recorded against: this month's and the two
    before it (a meeting at the end of a month is often recorded in the next)."""
    return ThemedDayTopic.objects.filter(
        county__path=county_of(unit), month__gte=add_months(month_start(day), -2), month__lte=month_start(day)
    ).order_by("-month")


def current_topic(unit: Organization, day: date) -> ThemedDayTopic | None:
    return ThemedDayTopic.objects.filter(county__path=county_of(unit), month=month_start(day)).first()


def last_place(unit: Organization) -> str:
    """Where the unit last met: the usual place is the likeliest next time."""
    return (
        Activity.objects.filter(organization=unit)
        .not_voided()
        .exclude(place="")
        .order_by("-held_on", "-pk")
        # values_list on an empty queryset gives None
        .values_list("place", flat=True)
        .first()
        or ""
    )


# --- completeness -------------------------------------------------------------------------------


class TopicStatus:
    ON_TIME = "on_time"  # recorded against the county's topic by its deadline
    LATE = "late"  # recorded after the deadline
    MISSING = "missing"  # not recorded, and the deadline has passed
    PENDING = "pending"  # not recorded yet, the deadline is still ahead


def late_days() -> int:
    """An activity recorded more than this many days after it was held is "recorded late"."""
    return settings.LEAGUE_RULES["activity_late_days"]


def recorded_late(activity: Activity) -> bool:
    return (timezone.localdate(activity.created_at) - activity.held_on).days > late_days()


def below_quorum(present: int, absent: int) -> bool:
    """§3.1: a general meeting needs more than half of the members present. Unknown (nobody listed)
    is not "below"."""
    return present + absent > 0 and present * 2 <= present + absent


def quorum_warning(activity: Activity) -> str | None:
    """Why a general meeting's record is worth a second look: it is kept and counted (the meeting
    was held), but the table marks it."""
    if activity.kind != ActivityKind.GENERAL_MEETING or not below_quorum(activity.present_count, activity.absent_count):
        return None
    return _(
        "Only %(present)d of %(total)d members were present: a general meeting needs more than half of "
        "its members. The record is kept and marked below quorum."
    ) % {"present": activity.present_count, "total": activity.present_count + activity.absent_count}


@dataclass(frozen=True)
class MonthCell:
    month: date
    applicable: bool  # the unit existed in (part of) the month
    future: bool  # the month has not begun
    closed: bool  # the month is over: what is outstanding is missing, not just still due
    held: dict[str, int]
    present: int
    expected: int
    # Required kinds whose period (month, quarter or year) ends with this month and that the unit has
    # not held in it. Only for periods the unit existed throughout.
    outstanding: tuple[str, ...]
    topic: ThemedDayTopic | None = None
    topic_status: str = ""
    late: int = 0  # of the activities held, how many were recorded more than `late_days()` after
    below_quorum: int = 0  # general meetings with no more than half of the listed members present
    # Required kinds checked in this month (`outstanding` are those of them not held): what reports
    # count as "required", so that held-versus-required is read from the same rule as the gaps.
    required: tuple[str, ...] = ()

    @property
    def met(self) -> int:
        """Requirements checked in this month that the unit has met."""
        return len(self.required) - len(self.outstanding)

    @property
    def missing(self) -> tuple[str, ...]:
        return self.outstanding if self.closed else ()

    @property
    def due(self) -> tuple[str, ...]:
        return () if self.closed else self.outstanding

    @property
    def held_total(self) -> int:
        return sum(self.held.values())

    @property
    def attendance_rate(self) -> float | None:
        return self.present / self.expected if self.expected else None


@dataclass
class BranchRow:
    unit: Organization
    cells: list[MonthCell] = field(default_factory=list)
    has_committee: bool = False  # holds committee meetings (§2.3): see `_has_committee`
    term_status: str = ""  # of its current committee term today (branches.committee_selectors.TermStatus)

    @property
    def held_total(self) -> int:
        return sum(cell.held_total for cell in self.cells)

    @property
    def late_total(self) -> int:
        return sum(cell.late for cell in self.cells)

    @property
    def below_quorum_total(self) -> int:
        return sum(cell.below_quorum for cell in self.cells)

    @property
    def missing_total(self) -> int:
        return sum(len(cell.missing) for cell in self.cells)

    @property
    def attendance_rate(self) -> float | None:
        expected = sum(cell.expected for cell in self.cells)
        return sum(cell.present for cell in self.cells) / expected if expected else None

    @property
    def silent(self) -> bool:
        """Held nothing in the period so far (a hollow branch, or one that stopped meeting)."""
        return self.held_total == 0 and any(cell.applicable and not cell.future for cell in self.cells)


@dataclass(frozen=True)
class Completeness:
    months: list[date]
    rows: list[BranchRow]
    required: dict[str, list[str]]  # cadence → kinds required at it

    @property
    def silent_count(self) -> int:
        return sum(1 for row in self.rows if row.silent)

    @property
    def with_gaps_count(self) -> int:
        return sum(1 for row in self.rows if row.missing_total)


def _existed_throughout(unit: Organization, first: date, last: date) -> bool:
    return (unit.founded_on is None or unit.founded_on <= first) and (
        unit.dissolved_on is None or unit.dissolved_on >= last
    )


def _existed_during(unit: Organization, first: date, last: date) -> bool:
    return (unit.founded_on is None or unit.founded_on <= last) and (
        unit.dissolved_on is None or unit.dissolved_on >= first
    )


def _row_count(rows: QuerySet) -> Subquery:
    """How many rows `rows` (correlated with OuterRef) has, as a scalar subquery: a plain COUNT(*),
    without the GROUP BY an aggregate would add, so it is 0 (not NULL) when there are none and the
    database need not read the counted rows' ids."""
    counted = rows.order_by().annotate(n=Func(template="COUNT(*)", output_field=IntegerField())).values("n")
    return Subquery(counted, output_field=IntegerField())


def with_committee_data(units: QuerySet[Organization]) -> QuerySet[Organization]:
    """Units with what `_has_committee` reads (active members, open seats of the current committee
    term) and the current term's end day. The current term is joined (a unit has one at most: a
    constraint), the counts are subqueries of the units' own query."""
    members = Member.objects.filter(branch=OuterRef("pk"), status=MemberStatus.ACTIVE)
    seats = CommitteeSeat.objects.filter(term=OuterRef("current_term"), until__isnull=True)
    return units.annotate(
        current_term=FilteredRelation("committee_terms", condition=Q(committee_terms__ended_on__isnull=True))
    ).annotate(
        active_members=_row_count(members),
        open_seats=Case(When(current_term__isnull=False, then=_row_count(seats)), default=0),
        term_due_on=F("current_term__due_on"),
    )


def _has_committee(unit: Organization) -> bool:
    """§2.3: a branch of 7 or more members has a committee; a smaller one a secretary alone, unless it
    has elected a committee all the same. Judged on the branch as it stands (membership is not kept
    month by month), for every month of the table."""
    return unit.active_members >= COMMITTEE_FROM_MEMBERS or unit.open_seats >= COMMITTEE_MIN_SEATS


def _checks_in(month: date) -> list[tuple[str, date, tuple[date, ...]]]:
    """The requirement periods checked in `month`: (cadence, first day, its months). The month itself;
    in a quarter's last month the quarter; in December the year."""
    periods = [(Cadence.MONTHLY, month)]
    if month.month % 3 == 0:
        periods.append((Cadence.QUARTERLY, quarter_start(month)))
    if month.month == 12:
        periods.append((Cadence.YEARLY, date(month.year, 1, 1)))
    return [(cadence, start, tuple(months_between(start, month))) for cadence, start in periods]


def branch_completeness(
    units: QuerySet[Organization], first_month: date, last_month: date, *, today: date | None = None
) -> Completeness:
    """Each unit × each month from `first_month` to `last_month` (first days of months): activities
    held by kind (voided records left out), required kinds outstanding, attendance, the themed-day
    topic's status, and how many were recorded late or below quorum.

    Monthly kinds are required every month, quarterly kinds once in each calendar quarter (checked in
    its last month), yearly kinds once a year (checked in December); a requirement applies only to a
    period the unit existed throughout, and committee meetings only to branches with a committee.
    Units founded after the period or dissolved before it are left out. Four queries, whatever the
    number of units and months: the database counts the activities of each unit and month (one row
    per unit and month, a column per kind), Python only reads the counts against the rules.
    """
    today = today or timezone.localdate()
    first_month, last_month = month_start(first_month), month_start(last_month)
    months = months_between(first_month, last_month)
    period_end = month_end(last_month)
    required = {cadence: required_kinds(cadence) for cadence in (Cadence.MONTHLY, Cadence.QUARTERLY, Cadence.YEARLY)}
    # A quarter or year that ends inside the period counts the activities of all its months, also
    # those before the period began.
    counted_from = first_month
    if required[Cadence.QUARTERLY]:
        counted_from = quarter_start(first_month)
    if required[Cadence.YEARLY]:
        counted_from = date(first_month.year, 1, 1)

    units = units.filter(Q(founded_on__isnull=True) | Q(founded_on__lte=period_end)).exclude(
        dissolved_on__lt=first_month
    )
    unit_list = list(with_committee_data(units).order_by("path"))
    # Recorded late: on a day more than `late_days()` after the day held (a backdated record made to
    # fill the table at the quarter's end shows as such).
    late_from = ExpressionWrapper(F("held_on") + timedelta(days=late_days()), output_field=DateField())
    columns = {kind: f"n_{kind}" for kind in ActivityKind.values}
    aggregate = (
        Activity.objects.not_voided()
        .filter(organization__in=units.values("pk"), held_on__gte=counted_from, held_on__lte=period_end)
        .annotate(month=TruncMonth("held_on"))
        .order_by()
        .values("organization_id", "month")
        .annotate(
            **{column: Count("pk", filter=Q(kind=kind)) for kind, column in columns.items()},
            present=Coalesce(Sum("present_count"), 0),
            absent=Coalesce(Sum("absent_count"), 0),
            late=Count("pk", filter=Q(created_at__date__gt=late_from)),
            below_quorum=Count(
                "pk",
                filter=Q(kind=ActivityKind.GENERAL_MEETING, absent_count__gt=0, present_count__lte=F("absent_count")),
            ),
        )
    )
    # (unit id, month) → kind → activities held; attendance (present, expected); (late, below quorum)
    held: dict[tuple[int, date], dict[str, int]] = {}
    attendance: dict[tuple[int, date], tuple[int, int]] = {}
    flagged: dict[tuple[int, date], tuple[int, int]] = {}
    for row in aggregate:
        key = (row["organization_id"], row["month"])
        held[key] = {kind: row[column] for kind, column in columns.items() if row[column]}
        attendance[key] = (row["present"], row["present"] + row["absent"])
        flagged[key] = (row["late"], row["below_quorum"])

    county_paths = {county_of(unit) for unit in unit_list}
    topics = {
        (topic.county.path, topic.month): topic
        for topic in ThemedDayTopic.objects.filter(
            county__path__in=county_paths, month__gte=first_month, month__lte=last_month
        ).select_related("county")
    }
    first_recorded: dict[tuple[int, int], date] = {}
    if topics:
        recorded = (
            Activity.objects.not_voided()
            .filter(organization__in=units.values("pk"), themed_day_topic__in=[t.pk for t in topics.values()])
            .order_by()
            .values("organization_id", "themed_day_topic_id")
            .annotate(first=Min(TruncDate("created_at")))  # the local day, as timezone.localdate
        )
        for row in recorded:
            first_recorded[(row["organization_id"], row["themed_day_topic_id"])] = row["first"]

    # What depends on the month alone, worked out once: its last day, the periods checked in it.
    month_ends = {month: month_end(month) for month in months}
    checks = {month: _checks_in(month) if month <= today else [] for month in months}
    no_activity: dict[str, int] = {}
    rows = []
    for unit in unit_list:
        has_committee = _has_committee(unit)
        kinds_required = {
            cadence: [k for k in kinds if has_committee or k != ActivityKind.COMMITTEE_MEETING]
            for cadence, kinds in required.items()
        }
        county = county_of(unit)
        row = BranchRow(unit, has_committee=has_committee, term_status=term_status(unit.term_due_on, today))
        for month in months:
            end = month_ends[month]
            outstanding: list[str] = []
            checked: list[str] = []
            for cadence, start, period in checks[month]:
                if _existed_throughout(unit, start, end):
                    kinds = kinds_required[cadence]
                    checked += kinds
                    outstanding += [
                        k for k in kinds if not any(held.get((unit.pk, m), no_activity).get(k) for m in period)
                    ]
            applicable = _existed_during(unit, month, end)
            topic = topics.get((county, month)) if applicable else None
            present, expected = attendance.get((unit.pk, month), (0, 0))
            late, quorum = flagged.get((unit.pk, month), (0, 0))
            row.cells.append(
                MonthCell(
                    month=month,
                    applicable=applicable,
                    future=month > today,
                    closed=end < today,
                    held=held.get((unit.pk, month), {}),
                    present=present,
                    expected=expected,
                    outstanding=tuple(outstanding),
                    topic=topic,
                    topic_status=_topic_status(
                        topic, first_recorded.get((unit.pk, topic.pk)) if topic else None, today
                    ),
                    late=late,
                    below_quorum=quorum,
                    required=tuple(checked),
                )
            )
        rows.append(row)
    return Completeness(months=months, rows=rows, required=required)


def _topic_status(topic: ThemedDayTopic | None, recorded_on: date | None, today: date) -> str:
    if topic is None:
        return ""
    if recorded_on is not None:
        return TopicStatus.ON_TIME if recorded_on <= topic.record_by else TopicStatus.LATE
    return TopicStatus.MISSING if today > topic.record_by else TopicStatus.PENDING


# --- the calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    day: date
    in_month: bool
    activities: list[Activity]


def month_calendar(unit: Organization, month: date) -> list[list[CalendarDay]]:
    """Weeks (Monday first) of the month with the unit's activities on their days; one query."""
    by_day: dict[date, list[Activity]] = defaultdict(list)
    for activity in (
        Activity.objects.filter(organization=unit)
        .not_voided()
        .between(month, month_end(month))
        .order_by("held_on", "pk")
    ):
        by_day[activity.held_on].append(activity)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    return [[CalendarDay(day, day.month == month.month, by_day.get(day, [])) for day in week] for week in weeks]


def topic_recording_counts(topics: list[ThemedDayTopic]) -> dict[int, tuple[int, int]]:
    """Topic id → (branches that recorded against it, of which by the deadline); one query."""
    counts: dict[int, list[int]] = {t.pk: [0, 0] for t in topics}
    deadline = {t.pk: t.record_by for t in topics}
    rows = (
        Activity.objects.not_voided()
        .filter(themed_day_topic__in=list(counts))
        .order_by()
        .values("themed_day_topic_id", "organization_id")
        .annotate(first=Min("created_at"))
    )
    for row in rows:
        topic_id = row["themed_day_topic_id"]
        counts[topic_id][0] += 1
        counts[topic_id][1] += timezone.localdate(row["first"]) <= deadline[topic_id]
    return {pk: (n, on_time) for pk, (n, on_time) in counts.items()}
