"""The reports a 推优 case owes on a day (domain.md §0): one rule for the reminders, the branch's board,
the case page, the report forms and the county's overview.

- The quarterly cultivation report (推荐前培养) is owed every quarter from the Party application: on
  each quarter from the one after the application's quarter to the last one ended, while the case is
  in a cultivation stage. (Not from the case's opening: a case opened today on an application of two
  years ago owes reports on the quarters since, and one opened on an application of last month owes
  nothing until the quarter after.)
- The monthly follow-up report (推荐后继续培养考察) is owed every month from the month of the
  recommendation to the last one ended, while the case is in a follow-up stage and the member is still
  in the League (after leaving, the case goes on with the Party but the League no longer reports).

A report on a period is due once the period has ended, by the configured day (cultivation_due_on,
follow_up_due_on). The cases come as a queryset: the reports filed are read with it as a subquery,
never with a list of ids. The rule is said twice, side by side: in Python on cases read (the reports
missing, by period: owed_reports, due_reports), and as a query expression (how many are overdue:
overdue_reports) for counting over all the cases of a county in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

from django.conf import settings
from django.db.models import Case, Count, Expression, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, ExtractMonth, ExtractQuarter, ExtractYear, Greatest
from django.utils.translation import gettext as _

from members.models import Member, MemberStatus
from promotion import workdays
from promotion.models import CULTIVATION_STAGES, FOLLOW_UP_STAGES, CultivationReport, FollowUpReport, PromotionCase

CULTIVATION, FOLLOW_UP = "cultivation", "follow_up"
KINDS = (CULTIVATION, FOLLOW_UP)


@dataclass(frozen=True)
class DueReport:
    """A report whose period has ended and which has not been filed."""

    kind: Literal["cultivation", "follow_up"]
    period: date  # the first day of the quarter or month reported on
    due_on: date
    overdue_days: int  # 0 until the due date has passed

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0

    @property
    def label(self) -> str:
        if self.kind == CULTIVATION:
            year, quarter = workdays.quarter_of(self.period)
            return _("Cultivation report, %(year)d Q%(quarter)d") % {"year": year, "quarter": quarter}
        return _("Follow-up report, %(month)s") % {"month": f"{self.period:%Y-%m}"}


def cultivation_due_on(year: int, quarter: int) -> date:
    """The report on a quarter is due by the configured day of the month after it."""
    next_year, next_quarter = workdays.next_quarter(year, quarter)
    return workdays.quarter_start(next_year, next_quarter).replace(day=settings.PROMOTION_RULES["cultivation_due_day"])


def follow_up_due_on(month: date) -> date:
    """The report on month M is due by the configured day of month M+1."""
    return workdays.next_month_start(month).replace(day=settings.PROMOTION_RULES["follow_up_due_day"])


def cultivation_quarters(party_applied_on: date, day: date) -> Iterator[tuple[int, int]]:
    """The quarters reported on: from the one after the application's quarter to the last one ended
    before `day`."""
    year, quarter = workdays.next_quarter(*workdays.quarter_of(party_applied_on))
    while workdays.quarter_start(*workdays.next_quarter(year, quarter)) <= day:
        yield year, quarter
        year, quarter = workdays.next_quarter(year, quarter)


def follow_up_months(recommended_on: date, day: date) -> Iterator[date]:
    """The months reported on: from the recommendation's month to the last one ended before `day`."""
    month = workdays.month_start(recommended_on)
    while (following := workdays.next_month_start(month)) <= day:
        yield month
        month = following


# Which cases owe reports of a kind at all, said twice side by side: as a query condition (cases read
# for the reminders, the overdue count) and on cases already read (the pages', read with what else
# they show).
def _owing_condition(kind: str) -> Q:
    if kind == CULTIVATION:
        return Q(stage__in=CULTIVATION_STAGES)
    if kind == FOLLOW_UP:
        return Q(stage__in=FOLLOW_UP_STAGES, recommended_on__isnull=False, member__status=MemberStatus.ACTIVE)
    raise ValueError(f"unknown report kind {kind!r}")


def _owing(cases: QuerySet[PromotionCase], kind: str) -> QuerySet[PromotionCase]:
    return cases.filter(_owing_condition(kind))


def _owes(case: PromotionCase, kind: str, left: set[int]) -> bool:
    """`left`: the members who have left the League (_left)."""
    if kind == CULTIVATION:
        return case.stage in CULTIVATION_STAGES
    return case.stage in FOLLOW_UP_STAGES and case.recommended_on is not None and case.member_id not in left


def _left(cases: list[PromotionCase]) -> set[int]:
    """The members of the cases after the hand-over who have left the League (over age, mostly): read
    from the members loaded with the cases; one query for cases loaded without them."""
    following = [c for c in cases if c.stage in FOLLOW_UP_STAGES]
    left = {c.member_id for c in following if PromotionCase.member.is_cached(c) and not c.member.is_active}
    unloaded = {c.member_id for c in following if not PromotionCase.member.is_cached(c)}
    if unloaded:
        left |= set(
            Member.objects.filter(pk__in=unloaded).exclude(status=MemberStatus.ACTIVE).values_list("pk", flat=True)
        )
    return left


def _filed(owing: QuerySet[PromotionCase], kind: str, due_from: date | None) -> set[tuple]:
    """(case id, period) of the reports filed on the cases of `owing`, read with them as a subquery;
    with `due_from`, only the periods whose report may fall due on that day or later."""
    if kind == CULTIVATION:
        filed = CultivationReport.objects.filter(case__in=owing.values("pk"))
        if due_from is not None:  # a quarter's report falls due in the month after it
            filed = filed.filter(year__gte=due_from.year - 1)
        return {
            (case_id, (year, quarter)) for case_id, year, quarter in filed.values_list("case_id", "year", "quarter")
        }
    filed = FollowUpReport.objects.filter(case__in=owing.values("pk"))
    if due_from is not None:  # a month's report falls due in the month after it
        filed = filed.filter(month__gte=workdays.add_months(workdays.month_start(due_from), -2))
    return set(filed.values_list("case_id", "month"))


def _missing(case: PromotionCase, kind: str, filed: set[tuple], day: date, due_from: date | None) -> list[DueReport]:
    """The reports of `kind` the case owes on `day` and has not filed, oldest first (from `due_from`)."""
    if kind == CULTIVATION:
        periods = [
            (workdays.quarter_start(year, quarter), cultivation_due_on(year, quarter))
            for year, quarter in cultivation_quarters(case.party_applied_on, day)
            if (case.pk, (year, quarter)) not in filed
        ]
    else:
        periods = [
            (month, follow_up_due_on(month))
            for month in follow_up_months(case.recommended_on, day)
            if (case.pk, month) not in filed
        ]
    return [
        DueReport(kind, period, due_on, max((day - due_on).days, 0))
        for period, due_on in periods
        if due_from is None or due_on >= due_from
    ]


def owed_reports(
    cases: QuerySet[PromotionCase], day: date, *, kind: str, due_from: date | None = None
) -> list[tuple[PromotionCase, list[DueReport]]]:
    """The cases of `cases` that owe reports of `kind` (CULTIVATION or FOLLOW_UP) on `day`, each with
    the reports missing, oldest first; with `due_from`, only the reports due on that day or later (a
    reminder rule's window). Two queries: the cases (as `cases` loads them), and the reports filed on
    them, read through `cases` as a subquery."""
    owing = _owing(cases, kind)
    filed = _filed(owing, kind, due_from)
    owed = []
    for case in owing:
        if reports := _missing(case, kind, filed, day, due_from):
            owed.append((case, reports))
    return owed


def due_reports(
    cases: QuerySet[PromotionCase], day: date, *, loaded: Iterable[PromotionCase] | None = None
) -> dict[int, list[DueReport]]:
    """Case id → the reports missing on `day`, oldest first, for the cases of `cases` that owe any (the
    rule of owed_reports, both kinds). `loaded`: the cases of `cases` already read by the caller (a page,
    with what else it shows), not read again. At most three queries: the cases unless loaded, then the
    reports filed on each kind, through `cases` as a subquery (none for a kind no case owes). Members
    who left the League are read from the cases' members: load them with the cases."""
    rows = list(cases.select_related("member") if loaded is None else loaded)
    left = _left(rows)
    missing: dict[int, list[DueReport]] = {}
    for kind in KINDS:
        owing = [case for case in rows if _owes(case, kind, left)]
        if not owing:
            continue
        filed = _filed(_owing(cases, kind), kind, None)
        for case in owing:
            if reports := _missing(case, kind, filed, day, None):
                missing.setdefault(case.pk, []).extend(reports)
    return missing


# --- the rule as a query expression ----------------------------------------------------------------
# Periods are numbered (a quarter: year × 4 + quarter − 1; a month: year × 12 + month − 1), so that the
# periods a case owes are a range: from the first (as in cultivation_quarters, follow_up_months) to the
# last whose due day has passed on `day`. The reports missing are the range's length less the reports
# filed in it (one a period at most: the models' unique constraints).


def _quarter_number(year, quarter):  # ints or expressions
    return year * 4 + quarter - 1


def _month_number(year, month):
    return year * 12 + month - 1


def _first_quarter(party_applied_on: Expression) -> Expression:
    """The quarter after the application's (cultivation_quarters)."""
    return _quarter_number(ExtractYear(party_applied_on), ExtractQuarter(party_applied_on)) + 1


def _first_month(recommended_on: Expression) -> Expression:
    """The recommendation's month (follow_up_months)."""
    return _month_number(ExtractYear(recommended_on), ExtractMonth(recommended_on))


def _last_overdue_quarter(day: date) -> int:
    """The last quarter whose report is overdue on `day` (due before it)."""
    number = _quarter_number(*workdays.quarter_of(day))
    while cultivation_due_on(number // 4, number % 4 + 1) >= day:
        number -= 1
    return number


def _last_overdue_month(day: date) -> int:
    number = _month_number(day.year, day.month)
    while follow_up_due_on(date(number // 12, number % 12 + 1, 1)) >= day:
        number -= 1
    return number


def _overdue(kind: str, day: date) -> Expression:
    """How many reports of `kind` a case owes on `day` past their due day (0 if it owes none of that kind)."""
    if kind == CULTIVATION:
        first, last, case_date = _first_quarter, _last_overdue_quarter(day), "party_applied_on"
        filed = CultivationReport.objects.alias(number=_quarter_number(F("year"), F("quarter")))
    else:
        first, last, case_date = _first_month, _last_overdue_month(day), "recommended_on"
        filed = FollowUpReport.objects.alias(number=_month_number(ExtractYear("month"), ExtractMonth("month")))
    in_range = filed.filter(case=OuterRef("pk"), number__gte=first(OuterRef(case_date)), number__lte=last)
    filed_count = Subquery(in_range.order_by().values("case").annotate(n=Count("pk")).values("n"))
    owed = Greatest(Value(last) - first(F(case_date)) + 1, Value(0))
    return Case(When(_owing_condition(kind), then=owed - Coalesce(filed_count, 0)), default=Value(0))


def overdue_reports(day: date) -> Expression:
    """How many reports a case owes on `day` past their due day, both kinds: the overdue reports of
    due_reports, as an expression to annotate or filter cases with (`Q(overdue__gt=0)`), so that a
    county's cases are counted in the database."""
    return _overdue(CULTIVATION, day) + _overdue(FOLLOW_UP, day)
