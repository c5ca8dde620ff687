"""The reports due agree everywhere: the branch's board, the case page, the report form, the county's
overview and the reminders read one rule (promotion/due.py). A case opened long after its member's
Party application owes the cultivation reports (推荐前培养) from the quarter after the application,
not from its opening."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.notifications import preview_rule
from members.models import MemberStatus
from promotion import due, selectors
from promotion.models import CultivationReport, PromotionCase, Stage
from tests.promotion.helpers import at_stage, eligible_member, make_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 7, 5)  # Q2 2026 has ended; its report is due by 15 July
# Applied in Q4 2024: reports owed from Q1 2025. Q3 2025's was filed.
OWED = [date(2025, 1, 1), date(2025, 4, 1), date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1)]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 7, 5, 9, tzinfo=SHANGHAI), tick=False):
        yield


@pytest.fixture
def late_case(tree, people):
    """Opened on 20 May 2026 on a Party application of 20 November 2024."""
    member = eligible_member(tree["branch_a1"], "早申请", recorder=people["county_staff"], day=DAY)
    case = make_case(member, recorder=people["secretary_a1"], party_applied_on=date(2024, 11, 20))
    PromotionCase.objects.filter(pk=case.pk).update(created_at=datetime(2026, 5, 20, 9, tzinfo=SHANGHAI))
    CultivationReport.objects.create(case=case, year=2025, quarter=3, content="好", filed_by=people["secretary_a1"])
    return case


def _reminded(kind: str) -> list[tuple[int, date]]:
    return [
        (case.pk, report.period)
        for case, reports in due.owed_reports(PromotionCase.objects.all(), DAY, kind=kind)
        for report in reports
    ]


def test_the_board_lists_the_quarters_since_the_application(login, tree, people, late_case):
    board = login(people["secretary_a1"]).get(reverse("promotion:board", args=[tree["branch_a1"].pk]))
    (item,) = [item for column in board.context["board"] for item in column.cases]
    assert [report.period for report in item.due] == OWED
    assert [report.overdue for report in item.due] == [True] * 4 + [False]
    assert _reminded(due.CULTIVATION) == [(late_case.pk, period) for period in OWED]


def test_the_case_page_and_the_report_form_start_from_the_first_quarter_missing(login, people, late_case):
    client = login(people["secretary_a1"])
    page = client.get(reverse("promotion:case", args=[late_case.pk]))
    assert page.context["due"] == [
        "培养考察报告：2025年第1季度",
        "培养考察报告：2025年第2季度",
        "培养考察报告：2025年第4季度",
        "培养考察报告：2026年第1季度",
        "培养考察报告：2026年第2季度",
    ]
    form = client.get(reverse("promotion:case-action", args=[late_case.pk, "cultivation-report"])).context["form"]
    assert (form.initial["year"], form.initial["quarter"]) == (2025, 1)


def test_the_county_overview_counts_the_case_as_overdue(login, people, late_case):
    rows = login(people["county_staff"]).get(reverse("promotion:overview")).context["overview"].rows
    assert {row.unit.name: row.overdue_reports for row in rows} == {"共青团甲镇委员会": 1, "共青团乙镇委员会": 0}


def test_the_reminder_of_the_day_names_the_quarter_the_pages_show_as_due(tree, people, late_case):
    (reminder,) = preview_rule("promotion_cultivation", DAY)
    assert reminder.key == f"promotion-cultivation:branch:{tree['branch_a1'].pk}:2026-04"
    assert reminder.body == "请于2026-07-15前报送：早申请。"
    (pending,) = [r for r in selectors.due_reports(PromotionCase.objects.all(), DAY)[late_case.pk] if not r.overdue]
    assert (pending.period, pending.due_on) == (date(2026, 4, 1), date(2026, 7, 15))


def test_the_pages_and_the_reminders_agree_on_every_stage(tree, people, late_case):
    """Cases at each stage, one of them for a member who has left the League: the pages' rule (on cases
    already read) and the reminders' (as a query) owe the same reports."""
    recorder = people["county_staff"]
    for i, stage in enumerate([Stage.IN_REVIEW, Stage.RECOMMENDED, Stage.ACTIVIST, Stage.PROBATIONARY]):
        member = eligible_member(tree["branch_b1"], f"阶段{i}", recorder=recorder, day=DAY)
        at_stage(make_case(member, recorder=recorder), stage, recommended_on=date(2026, 3, 2))
    gone = eligible_member(tree["branch_b1"], "离团", recorder=recorder, day=DAY)
    at_stage(make_case(gone, recorder=recorder), Stage.RECOMMENDED, recommended_on=date(2026, 3, 2))
    gone.status = MemberStatus.LEFT_OVER_AGE
    gone.save(update_fields=["status"])
    pages = selectors.due_reports(PromotionCase.objects.all(), DAY)
    reminded = _reminded(due.CULTIVATION) + _reminded(due.FOLLOW_UP)
    assert sorted((pk, report.period) for pk, reports in pages.items() for report in reports) == sorted(reminded)
    assert len(pages) == 4  # the late case, in review, recommended, activist; not the probationary nor the left


@pytest.mark.parametrize("stage", [Stage.CULTIVATION, Stage.RECOMMENDED])
def test_the_pages_read_the_reports_filed_through_the_cases_query(tree, people, late_case, stage):
    """Not with a list of ids: the cases' own query is the reports' subquery."""
    at_stage(late_case, stage, recommended_on=date(2026, 3, 2))
    with CaptureQueriesContext(connection) as captured:
        selectors.branch_board(tree["branch_a1"], DAY)
    table = "promotion_cultivationreport" if stage == Stage.CULTIVATION else "promotion_followupreport"
    (filed,) = [q["sql"] for q in captured if f'FROM "{table}"' in q["sql"]]
    assert filed.count("SELECT") == 2
