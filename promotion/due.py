"""The reports a 推优 case owes on a day (domain.md §0), read for the reminder rules.

- The quarterly cultivation report (推荐前培养) is owed every quarter from the Party application: on
  each quarter from the one after the application's quarter to the last one ended, while the case is
  in a cultivation stage. (Not from the case's opening: a case opened today on an application of two
  years ago owes reports on the quarters since, and one opened on an application of last month owes
  nothing until the quarter after.)
- The monthly follow-up report (推荐后继续培养考察) is owed every month from the month of the
  recommendation to the last one ended, while the case is in a follow-up stage and the member is still
  in the League (after leaving, the case goes on with the Party but the League no longer reports).

A report on a period is due once the period has ended, by the configured day (selectors.cultivation_
due_on, follow_up_due_on). The cases come as a queryset: the reports filed are read with it as a
subquery, never with a list of ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.db.models import QuerySet

from members.models import MemberStatus
from promotion import workdays
from promotion.models import CULTIVATION_STAGES, FOLLOW_UP_STAGES, CultivationReport, FollowUpReport, PromotionCase
from promotion.selectors import DueReport, cultivation_due_on, follow_up_due_on

CULTIVATION, FOLLOW_UP = "cultivation", "follow_up"


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


def _report(kind: str, period: date, due_on: date, day: date) -> DueReport:
    return DueReport(kind, period, due_on, max((day - due_on).days, 0))


def owed_reports(
    cases: QuerySet[PromotionCase], day: date, *, kind: str, due_from: date | None = None
) -> list[tuple[PromotionCase, list[DueReport]]]:
    """The cases of `cases` that owe reports of `kind` (CULTIVATION or FOLLOW_UP) on `day`, each with
    the reports missing, oldest first; with `due_from`, only the reports due on that day or later (a
    reminder rule's window). Two queries: the cases (as `cases` loads them), and the reports filed on
    them, read through `cases` as a subquery."""
    if kind == CULTIVATION:
        owing = cases.filter(stage__in=CULTIVATION_STAGES)
        filed_on = CultivationReport.objects.filter(case__in=owing.values("pk"))
        if due_from is not None:  # a quarter's report falls due in the month after it
            filed_on = filed_on.filter(year__gte=due_from.year - 1)
        filed = set(filed_on.values_list("case_id", "year", "quarter"))
        periods = (
            (case, [(workdays.quarter_start(y, q), cultivation_due_on(y, q)) for y, q in _unfiled(case, filed, day)])
            for case in owing
        )
    elif kind == FOLLOW_UP:
        owing = cases.filter(
            stage__in=FOLLOW_UP_STAGES, recommended_on__isnull=False, member__status=MemberStatus.ACTIVE
        )
        filed_on = FollowUpReport.objects.filter(case__in=owing.values("pk"))
        if due_from is not None:  # a month's report falls due in the month after it
            filed_on = filed_on.filter(month__gte=workdays.add_months(workdays.month_start(due_from), -2))
        filed = set(filed_on.values_list("case_id", "month"))
        periods = (
            (
                case,
                [
                    (month, follow_up_due_on(month))
                    for month in follow_up_months(case.recommended_on, day)
                    if (case.pk, month) not in filed
                ],
            )
            for case in owing
        )
    else:
        raise ValueError(f"unknown report kind {kind!r}")
    owed = []
    for case, missing in periods:
        reports = [
            _report(kind, period, due_on, day) for period, due_on in missing if due_from is None or due_on >= due_from
        ]
        if reports:
            owed.append((case, reports))
    return owed


def _unfiled(case: PromotionCase, filed: set[tuple[int, int, int]], day: date) -> list[tuple[int, int]]:
    return [
        (year, quarter)
        for year, quarter in cultivation_quarters(case.party_applied_on, day)
        if (case.pk, year, quarter) not in filed
    ]
