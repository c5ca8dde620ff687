"""The monthly progress report's dating rules, each on the fixture of tests/reports/monthly_data.py with
one change: a report filed after the month, a member leaving the League, a case with no history or
opened after the month, a report filed on a case that did not owe it, a case closed after its report
fell due, a recommendation expiring within the Party page's warning, a case continued on the
development track, a step at the month's last moment or the next month's first, two steps on one day,
a case closed after the month; and how the builder reads the records (subqueries, never lists of ids)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from members.models import Member, MemberStatus
from promotion.models import PromotionCase, Stage, Track
from promotion.party_views import validity
from reports.document import ReportDocument
from reports.monthly import VALIDITY_WARNING_DAYS, build_monthly
from reports.periods import Period
from tests.promotion.staff_helpers import handed_over_case
from tests.reports.monthly_data import NOW, TODAY, county_cases, every_month, handed, moment, reports, step

A1, AG1 = "甲一村团支部", "甲镇中学九年级团支部"
TO_ACTIVIST = "Applicant → activist (推荐为入党积极分子人选)"
RECOMMENDED, ACTIVIST = "Recommended to the Party", "Party activist (入党积极分子)"
DEVELOPMENT = "Development candidate (发展对象)"
NAMED_ACTIVIST, MADE_DEVELOPMENT = "Named Party activist", "Made development candidate"
CONTINUED = "Continued on the development track"
MAY, JUNE = Period.parse("2026-05"), Period.parse("2026-06")
# The follow-up section's figures, in its order.
FOLLOW_UP_LABELS = [
    "Reports due this month",
    "Reports filed",
    "Of which filed late",
    "Reports missing",
    "Reports not yet due",
    "Reports filed (%)",
]
# May as the fixture has it (tests/reports/test_monthly.py): the reports on April.
MAY_FOLLOW_UP = [4, 3, 1, 1, 0, 75.0]
LI_ER_MAY_OVERDUE = ["李二", A1, ACTIVIST, 1, "2026-04", 21, "2027-11-30", None, None]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cases(tree, people, clock):
    return county_cases(tree, people["secretary_a1"])


def build(scope, period: Period = MAY) -> ReportDocument:
    with translation.override("en"):
        return build_monthly(scope, period)


def people_rows(document: ReportDocument) -> dict[str, list]:
    return {row[0]: row for row in document.section("people").tables[0].rows}


def follow_up(document: ReportDocument) -> list:
    figures = {figure.label: figure.value for figure in document.section("follow_up").figures}
    return [figures[label] for label in FOLLOW_UP_LABELS]


def figure(document: ReportDocument, key: str, label: str):
    return next(f.value for f in document.section(key).figures if f.label == label)


def test_a_report_filed_after_the_month_leaves_the_month_as_it_was(tree, people, cases):
    """李二's April report, missing at the end of May, filed on 7 June: May still shows it missing and
    overdue (what the Party was told); June no longer counts it overdue."""
    reports(cases["李二"], (date(2026, 4, 1), date(2026, 6, 7)), recorder=people["secretary_a1"])
    may = build(tree["party_a"])
    assert people_rows(may)["李二"][6:] == [
        "Report missing",
        0,
        None,
        None,
        "1 follow-up report overdue",
    ]
    assert follow_up(may) == MAY_FOLLOW_UP
    assert may.section("follow_up").tables[0].rows == [["李二", A1, "2026-04", "2026-05-10", "Report missing"]]
    assert may.section("overdue").tables[0].rows[0] == LI_ER_MAY_OVERDUE
    june = build(tree["party_a"], JUNE)
    assert people_rows(june)["李二"][10] == "Activist for less than 1 year before becoming a development candidate."
    assert figure(june, "overdue", "Follow-up reports overdue") == 0


def test_leaving_the_league_is_read_from_the_leaving_date(tree, cases):
    """李二 leaves on 7 June, 赵四 on 20 May (after April's report fell due on the 10th and was filed on
    the 5th). May: 李二 still owed his report; 赵四's counts as filed. June: neither owes May's report
    (赵四's, filed on 5 June, is not counted), and 李二's April report is no longer chased."""
    Member.objects.filter(pk=cases["李二"].member_id).update(
        status=MemberStatus.LEFT_OVER_AGE, left_on=date(2026, 6, 7)
    )
    Member.objects.filter(pk=cases["赵四"].member_id).update(
        status=MemberStatus.LEFT_OVER_AGE, left_on=date(2026, 5, 20)
    )
    may = build(tree["party_a"])
    assert follow_up(may) == MAY_FOLLOW_UP
    assert people_rows(may)["李二"][6] == "Report missing"
    assert people_rows(may)["赵四"][6] == "Filed on time"
    assert may.section("overdue").tables[0].rows[0] == LI_ER_MAY_OVERDUE
    june = build(tree["party_a"], JUNE)
    assert {name: row[6] for name, row in people_rows(june).items()} == {
        "孙六": "Due by 2026-06-10",
        "李二": "Not due",
        "王一": "Filed on time",
        "赵四": "Not due",
        "张三": "Due by 2026-06-10",
    }
    assert follow_up(june) == [3, 1, 0, 0, 2, 33.3]
    assert figure(june, "overdue", "Follow-up reports overdue") == 0


def test_a_case_handed_over_without_history_is_in_the_report(tree, people, cases):
    """Opened on 1 February and handed over on 2 March, written without transitions (an import): its
    stage is its stage now, and it owes the reports on March and April."""
    handed_over_case(
        tree["branch_a1"],
        "无史",
        recorder=people["secretary_a1"],
        party=tree["party_a"],
        recommended_on=date(2026, 3, 2),
        created_at=moment(date(2026, 2, 1)),
    )
    row = people_rows(build(tree["party_a"]))["无史"]
    assert row == [
        "无史",
        A1,
        TO_ACTIVIST,
        RECOMMENDED,
        "2026-03-02",
        "2028-03-01",
        "Report missing",
        0,
        None,
        None,
        "2 follow-up reports overdue",
    ]


def test_a_case_opened_after_the_month_is_not_in_it(tree, people, cases):
    """Entered on 8 June with its hand-over of 2 March backdated: May's report, closed, does not change
    (a case's stage at a moment is history.case_stage_at's, and the case did not exist then); June's
    lists it."""
    handed(
        tree["branch_a1"],
        "补录",
        date(2026, 3, 2),
        Stage.RECOMMENDED,
        party=tree["party_a"],
        recorder=people["secretary_a1"],
        created_at=NOW,
    )
    assert "补录" not in people_rows(build(tree["party_a"]))
    assert people_rows(build(tree["party_a"], JUNE))["补录"][3:7] == [
        RECOMMENDED,
        "2026-03-02",
        "2028-03-01",
        "Due by 2026-06-10",
    ]


def test_a_report_counts_only_where_it_was_due(tree, people, cases):
    """郑九, withdrawn on 6 May, has an April report filed on 8 May: not due, not counted. 曹十三, a
    development candidate when April's report fell due (10 May) and admitted as probationary member on
    18 May (recorded the 20th), owed it and did not file it: missing, though no longer followed up."""
    recorder = people["secretary_a1"]
    reports(cases["郑九"], (date(2026, 4, 1), date(2026, 5, 8)), recorder=recorder)
    handed(
        tree["branch_ag1"],
        "曹十三",
        date(2025, 10, 8),
        Stage.PROBATIONARY,
        step("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, date(2025, 11, 3)),
        step("party_names_development_candidate", Stage.ACTIVIST, Stage.DEVELOPMENT, date(2026, 1, 12)),
        step("party_admits_probationary", Stage.DEVELOPMENT, Stage.PROBATIONARY, date(2026, 5, 20)),
        party=tree["party_a"],
        recorder=recorder,
        activist_since=date(2024, 11, 1),
        development_on=date(2026, 1, 12),
        probationary_on=date(2026, 5, 18),
        filed=every_month(date(2025, 10, 1), date(2026, 3, 1)),
    )
    document = build(tree["party_a"])
    rows = people_rows(document)
    assert rows["郑九"][6] == "Not due"
    assert rows["曹十三"][3:] == [
        "Probationary Party member (预备党员)",
        "2025-10-08",
        "2027-10-07",
        "Report missing",
        0,
        None,
        "Admitted as probationary Party member",
        None,
    ]
    assert follow_up(document) == [5, 3, 1, 2, 0, 60.0]
    assert document.section("follow_up").tables[0].rows == [
        ["李二", A1, "2026-04", "2026-05-10", "Report missing"],
        ["曹十三", AG1, "2026-04", "2026-05-10", "Report missing"],
    ]
    assert [row[0] for row in document.section("overdue").tables[0].rows] == ["李二", "赵四"]


def test_validity_is_flagged_as_on_the_party_organization_s_page(tree, people, cases):
    """A recommendation of 21 August 2024 ends on 20 August 2026: 81 days after May's end, within the
    Party organizer's page's 'expiring' (promotion.party_views.validity), so flagged here too."""
    handed(
        tree["branch_a1"],
        "卫十五",
        date(2024, 8, 21),
        Stage.RECOMMENDED,
        party=tree["party_a"],
        recorder=people["secretary_a1"],
        filed=every_month(date(2024, 8, 1), date(2026, 4, 1)),
    )
    document = build(tree["party_a"])
    assert people_rows(document)["卫十五"][10] == "Validity ends in 81 days"
    assert figure(document, "overdue", "Validity ending within 90 days") == 2  # 赵四 and 卫十五
    assert [row[0] for row in document.section("overdue").tables[0].rows] == ["卫十五", "李二", "赵四"]


def test_the_warning_matches_the_party_organization_s_page(tree, people, clock):
    """VALIDITY_WARNING_DAYS names the Party page's threshold: its last day is 'expiring' there, the day
    after 'valid'."""
    case = PromotionCase(stage=Stage.RECOMMENDED, valid_until=TODAY + timedelta(days=VALIDITY_WARNING_DAYS))
    assert validity(case, TODAY).label == "expiring"
    assert validity(case, TODAY - timedelta(days=1)).label == "valid"


def test_a_case_continued_on_the_development_track(tree, people, cases):
    """褚十四, an activist since October, goes on on the development track on 12 May (the activist-track
    case closes as continued): May lists the continuation with the decisions; June no longer has him."""
    handed(
        tree["branch_a1"],
        "褚十四",
        date(2025, 9, 1),
        Stage.CONTINUED,
        step("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, date(2025, 10, 10)),
        step("continue_on_development_track", Stage.ACTIVIST, Stage.CONTINUED, date(2026, 5, 12)),
        party=tree["party_a"],
        recorder=people["secretary_a1"],
        track=Track.ACTIVIST,
        activist_since=date(2025, 10, 10),
        closed_on=date(2026, 5, 12),
        filed=every_month(date(2025, 9, 1), date(2026, 4, 1)),
    )
    document = build(tree["party_a"])
    assert people_rows(document)["褚十四"][3:] == [
        CONTINUED,
        "2025-09-01",
        "2027-08-31",
        "Filed on time",  # April's report fell due on 10 May, while he was an activist
        0,
        None,
        CONTINUED,
        None,
    ]
    assert document.section("decisions").tables[0].rows == [
        ["郑九", A1, "Case withdrawn", "2026-05-06", "2026-05-06"],
        ["褚十四", A1, CONTINUED, "2026-05-12", "2026-05-12"],
        ["张三", AG1, "Made development candidate", "2026-05-15", "2026-05-18"],
    ]
    assert figure(document, "decisions", CONTINUED) == 1
    (by_stage, _activity) = document.section("totals").tables
    assert next(row for row in by_stage.rows if row[0] == CONTINUED) == [CONTINUED, 0, 1, 1]
    assert "褚十四" not in people_rows(build(tree["party_a"], JUNE))


def people_figures(document: ReportDocument) -> list:
    """People in the report, still in the pipeline at the month's end, closed during the month."""
    return [figure.value for figure in document.section("people").figures]


def test_a_step_at_the_month_s_last_moment_belongs_to_it(tree, people, cases):
    """甲十六 is named activist at 23:00 on 31 May, 乙十七 at midnight starting 1 June: May ends with the
    first an activist, her decision listed, and the second still recommended; June lists his only."""
    for name, day, hour in (("甲十六", date(2026, 5, 31), 23), ("乙十七", date(2026, 6, 1), 0)):
        handed(
            tree["branch_a1"],
            name,
            date(2026, 3, 2),
            Stage.ACTIVIST,
            step("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, day, hour=hour),
            party=tree["party_a"],
            recorder=people["secretary_a1"],
            activist_since=day,
        )
    may, june = build(tree["party_a"]), build(tree["party_a"], JUNE)
    assert [(name, row[3], row[9]) for name, row in people_rows(may).items() if name in ("甲十六", "乙十七")] == [
        ("乙十七", RECOMMENDED, None),
        ("甲十六", ACTIVIST, NAMED_ACTIVIST),
    ]
    assert ["甲十六", A1, NAMED_ACTIVIST, "2026-05-31", "2026-05-31"] in may.section("decisions").tables[0].rows
    assert [(name, row[3], row[9]) for name, row in people_rows(june).items() if name in ("甲十六", "乙十七")] == [
        ("乙十七", ACTIVIST, NAMED_ACTIVIST),
        ("甲十六", ACTIVIST, None),
    ]


def test_two_steps_on_one_day_are_read_in_the_order_recorded(tree, people, cases):
    """On 20 May 丙十八 is named activist at 09:00 and development candidate at 15:00; 丁十九's two steps
    carry the same moment (10:00) and count in the order written. Both end May as development
    candidates with both decisions, listed by when they were recorded."""
    for name, first_hour, second_hour in (("丙十八", 9, 15), ("丁十九", 10, 10)):
        handed(
            tree["branch_a1"],
            name,
            date(2026, 3, 2),
            Stage.DEVELOPMENT,
            step("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, date(2026, 5, 20), hour=first_hour),
            step(
                "party_names_development_candidate",
                Stage.ACTIVIST,
                Stage.DEVELOPMENT,
                date(2026, 5, 20),
                hour=second_hour,
            ),
            party=tree["party_a"],
            recorder=people["secretary_a1"],
            activist_since=date(2026, 5, 20),
            development_on=date(2026, 5, 20),
        )
    document = build(tree["party_a"])
    rows = people_rows(document)
    both = f"{NAMED_ACTIVIST}、{MADE_DEVELOPMENT}"
    assert [(rows[name][3], rows[name][9]) for name in ("丙十八", "丁十九")] == [(DEVELOPMENT, both)] * 2
    assert [row[:3] for row in document.section("decisions").tables[0].rows if row[0] in ("丙十八", "丁十九")] == [
        ["丙十八", A1, NAMED_ACTIVIST],
        ["丁十九", A1, NAMED_ACTIVIST],
        ["丁十九", A1, MADE_DEVELOPMENT],
        ["丙十八", A1, MADE_DEVELOPMENT],
    ]


def test_a_case_closed_after_the_month_is_open_in_it(tree, people, cases):
    """戊二十, recommended in March, withdraws on 3 June: May shows her recommended and still in the
    pipeline; June shows the withdrawal, a case closed in the month."""
    may_before, june_before = people_figures(build(tree["party_a"])), people_figures(build(tree["party_a"], JUNE))
    handed(
        tree["branch_a1"],
        "戊二十",
        date(2026, 3, 2),
        Stage.WITHDRAWN,
        step("withdraw", Stage.RECOMMENDED, Stage.WITHDRAWN, date(2026, 6, 3)),
        party=tree["party_a"],
        recorder=people["secretary_a1"],
        closed_on=date(2026, 6, 3),
    )
    may, june = build(tree["party_a"]), build(tree["party_a"], JUNE)
    assert people_rows(may)["戊二十"][3] == RECOMMENDED and people_rows(may)["戊二十"][9] is None
    assert people_figures(may) == [may_before[0] + 1, may_before[1] + 1, may_before[2]]
    assert people_rows(june)["戊二十"][3] == "Withdrawn" and people_rows(june)["戊二十"][9] == "Case withdrawn"
    assert people_figures(june) == [june_before[0] + 1, june_before[1], june_before[2] + 1]


def test_the_records_are_read_through_the_cases_query_never_a_list_of_ids(tree, cases):
    with CaptureQueriesContext(connection) as queries:
        build(tree["county"])
    assert len(queries) == 4
    listed = [q["sql"] for q in queries if re.search(r"IN \(\d+(, ?\d+)*\)", q["sql"])]
    assert listed == []
    assert all(" IN (SELECT " in q["sql"] for q in queries.captured_queries[1:])
