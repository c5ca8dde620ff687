"""The monthly progress report, section by section, against figures worked out by hand from the
fixture in tests/reports/monthly_data.py (read its table first)."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import translation

from promotion.models import Stage
from reports.document import ReportDocument
from reports.monthly import STAGE_ORDER, build_monthly
from reports.periods import Period
from tests.reports.monthly_data import NOW, county_cases

A1, AG1 = "甲一村团支部", "甲镇中学九年级团支部"
TO_ACTIVIST = "Applicant → activist (推荐为入党积极分子人选)"
TO_DEVELOPMENT = "Activist → development candidate (推荐为发展对象人选)"
RECOMMENDED, ACTIVIST, DEVELOPMENT = (
    "Recommended to the Party",
    "Party activist (入党积极分子)",
    "Development candidate (发展对象)",
)
WITHDRAWN = "Withdrawn"
FULL, LAPSED = "Full Party member (正式党员)", "Recommendation lapsed"


def stage_labels() -> list[str]:
    with translation.override("en"):
        return [str(Stage(stage).label) for stage in STAGE_ORDER]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cases(tree, people, clock):
    return county_cases(tree, people["secretary_a1"])


def build(scope, key: str) -> ReportDocument:
    with translation.override("en"):
        return build_monthly(scope, Period.parse(key))


def figures(document: ReportDocument, key: str) -> dict:
    return {figure.label: figure.value for figure in document.section(key).figures}


def test_people_of_a_past_month_show_their_stages_then(tree, cases):
    """May, read in June: 李二 became a development candidate in June and shows as activist; 王一 was
    named activist in June and shows as recommended; 钱五 and 冯十, closed in April, are not there; 孙六,
    handed over on 20 May, is, with only the talk after the hand-over."""
    document = build(tree["party_a"], "2026-05")
    people = document.section("people")
    assert people.tables[0].rows == [
        ["孙六", A1, TO_ACTIVIST, RECOMMENDED, "2026-05-20", "2028-05-19", "Not due", 1, "2026-05-25", None, None],
        [
            "李二",
            A1,
            TO_ACTIVIST,
            ACTIVIST,
            "2025-12-01",
            "2027-11-30",
            "Report missing",
            0,
            None,
            None,
            "1 follow-up report overdue",
        ],
        [
            "王一",
            A1,
            TO_ACTIVIST,
            RECOMMENDED,
            "2026-03-02",
            "2028-03-01",
            "Filed on time",
            2,
            "2026-05-20",
            None,
            None,
        ],
        [
            "赵四",
            A1,
            TO_ACTIVIST,
            RECOMMENDED,
            "2024-07-16",
            "2026-07-15",
            "Filed on time",
            0,
            None,
            None,
            "Validity ends in 45 days",
        ],
        ["郑九", A1, TO_ACTIVIST, WITHDRAWN, "2026-01-05", "2028-01-04", "Not due", 0, None, "Case withdrawn", None],
        [
            "张三",
            AG1,
            TO_DEVELOPMENT,
            DEVELOPMENT,
            "2026-02-02",
            "2028-02-01",
            "Filed late (2026-05-14)",
            0,
            None,
            "Made development candidate",
            None,
        ],
    ]
    assert figures(document, "people") == {
        "People in the report": 6,
        "Still in the pipeline at the end of the month": 5,
        "Closed during the month": 1,
    }
    assert len(people.notes) == 1  # a closed month: no "as of" note


def test_follow_up_reports_due_in_the_month(tree, cases):
    """Due in May: the reports on April. 王一 and 赵四 filed, 张三 late (14 May, due 10 May), 李二 missing;
    孙六 (recommended in May) and 郑九 (withdrawn) owe none."""
    document = build(tree["party_a"], "2026-05")
    assert figures(document, "follow_up") == {
        "Reports due this month": 4,
        "Reports filed": 3,
        "Of which filed late": 1,
        "Reports missing": 1,
        "Reports not yet due": 0,
        "Reports filed (%)": 75.0,
    }
    assert document.section("follow_up").tables[0].rows == [["李二", A1, "2026-04", "2026-05-10", "Report missing"]]


def test_talks_of_the_month_from_the_hand_over_on(tree, cases):
    document = build(tree["party_a"], "2026-05")
    assert document.section("talks").tables[0].rows == [
        ["2026-05-12", "王一", A1, "李书记"],
        ["2026-05-20", "王一", A1, "团支部书记"],
        ["2026-05-25", "孙六", A1, "李书记"],
    ]
    assert figures(document, "talks") == {
        "Talks this month": 3,
        "People talked with": 2,
        "People followed up without a talk this month": 3,  # 李二, 赵四, 张三
    }


def test_decisions_recorded_in_the_month(tree, cases):
    """The 'move' step of 王一 in May keeps the stage: no decision."""
    document = build(tree["party_a"], "2026-05")
    assert document.section("decisions").tables[0].rows == [
        ["郑九", A1, "Case withdrawn", "2026-05-06", "2026-05-06"],
        ["张三", AG1, "Made development candidate", "2026-05-15", "2026-05-18"],
    ]
    assert figures(document, "decisions") == {
        ACTIVIST: 0,
        DEVELOPMENT: 1,
        "Probationary Party member (预备党员)": 0,
        "Full Party member (正式党员)": 0,
        "Not adopted by the Party": 0,
        "Recommendation lapsed": 0,
        WITHDRAWN: 1,
        "Continued on the development track": 0,
    }


def test_overdue_at_the_end_of_the_month(tree, cases):
    document = build(tree["party_a"], "2026-05")
    assert document.section("overdue").tables[0].rows == [
        ["李二", A1, ACTIVIST, 1, "2026-04", 21, "2027-11-30", None, None],
        ["赵四", A1, RECOMMENDED, 0, None, None, "2026-07-15", 45, None],
    ]
    assert figures(document, "overdue") == {
        "People with something overdue": 2,
        "Follow-up reports overdue": 1,
        "Validity ending within 90 days": 1,
        "Validity ended": 0,
        "Party time rules broken": 0,
    }


def test_april_shows_the_closed_cases_and_the_broken_probation_rule(tree, cases):
    """April: 冯十 lapsed on the 1st (after midnight: open when April began), 钱五 confirmed full member
    on 12 April after a probation from 20 April 2025 (under a year)."""
    document = build(tree["party_a"], "2026-04")
    rows = {row[0]: row for row in document.section("people").tables[0].rows}
    assert sorted(rows) == sorted(["李二", "王一", "赵四", "郑九", "冯十", "张三", "钱五"])
    assert rows["钱五"][3:] == [
        "Full Party member (正式党员)",
        "2023-09-04",
        "2025-09-03",
        "Not due",
        0,
        None,
        "Confirmed as full Party member",
        "Probation shorter than 1 year.",
    ]
    assert rows["冯十"][3] == "Recommendation lapsed"
    assert rows["冯十"][9] == "Recommendation lapsed"
    assert [row[:3] for row in document.section("decisions").tables[0].rows] == [
        ["冯十", A1, "Recommendation lapsed"],
        ["钱五", AG1, "Confirmed as full Party member"],
    ]
    assert document.section("decisions").tables[0].rows[1][3:] == ["2026-04-10", "2026-04-12"]
    assert figures(document, "overdue")["Party time rules broken"] == 1


def test_totals_and_movement_since_last_month(tree, cases):
    document = build(tree["party_a"], "2026-05")
    totals = document.section("totals")
    by_stage, activity = totals.tables
    assert by_stage.columns == ["Stage", "4/2026", "5/2026", "Movement"]
    # The stages' rows in the pipeline's order; those not named here are empty in both months.
    movement = {
        RECOMMENDED: [4, 3, -1],
        ACTIVIST: [1, 1, 0],
        DEVELOPMENT: [0, 1, 1],
        FULL: [1, 0, -1],
        LAPSED: [1, 0, -1],
        WITHDRAWN: [0, 1, 1],
    }
    labels = stage_labels()
    assert labels[:3] == [RECOMMENDED, ACTIVIST, DEVELOPMENT] and set(movement) <= set(labels)
    assert by_stage.rows == [[label, *movement.get(label, [0, 0, 0])] for label in labels]
    assert by_stage.footer == ["Total", 7, 6, -1]
    assert activity.rows == [
        ["People in the report", 7, 6, -1],
        ["Follow-up reports filed (due in the month)", 5, 3, -2],
        ["Talks", 1, 3, 2],
        ["Party decisions", 2, 2, 0],
    ]
    (chart,) = totals.charts
    assert chart.kind == "bar"
    assert chart.labels == labels
    assert [(series.name, series.values) for series in chart.series] == [
        ("4/2026", [movement.get(label, [0, 0])[0] for label in labels]),
        ("5/2026", [movement.get(label, [0, 0])[1] for label in labels]),
    ]


def test_the_month_under_way_is_read_as_of_today(tree, cases):
    """June, on 8 June: the reports on May are due by 10 June, so those not filed are still to come;
    李二's April report is overdue, and his development on 5 June came under a year after he became an
    activist on 8 January; 郑九, withdrawn in May, is gone."""
    document = build(tree["party_a"], "2026-06")
    rows = document.section("people").tables[0].rows
    assert [(row[0], row[3], row[6], row[9], row[10]) for row in rows] == [
        ("孙六", RECOMMENDED, "Due by 2026-06-10", None, None),
        (
            "李二",
            DEVELOPMENT,
            "Due by 2026-06-10",
            "Made development candidate",
            "1 follow-up report overdue；Activist for less than 1 year before becoming a development candidate.",
        ),
        ("王一", ACTIVIST, "Filed on time", "Named Party activist", None),
        ("赵四", RECOMMENDED, "Filed on time", None, "Validity ends in 37 days"),
        ("张三", DEVELOPMENT, "Due by 2026-06-10", None, None),
    ]
    assert figures(document, "follow_up") == {
        "Reports due this month": 5,
        "Reports filed": 2,
        "Of which filed late": 0,
        "Reports missing": 0,
        "Reports not yet due": 3,
        "Reports filed (%)": 40.0,
    }
    assert document.section("follow_up").tables[0].rows[0] == [
        "孙六",
        A1,
        "2026-05",
        "2026-06-10",
        "Due by 2026-06-10",
    ]
    assert document.section("overdue").tables[0].rows[0][3:6] == [1, "2026-04", 29]
    assert document.section("people").notes[-1] == "The month is not over: figures as of 2026-06-08."


def test_a_month_to_come_is_empty(tree, cases):
    document = build(tree["party_a"], "2026-08")
    assert document.section("people").tables[0].rows == []
    assert figures(document, "follow_up")["Reports filed (%)"] is None


def test_only_months(tree, cases):
    with pytest.raises(ValueError):
        build_monthly(tree["party_a"], Period.parse("2026-Q2"))


def test_titles_in_chinese(tree, cases):
    with translation.override("zh-hans"):
        document = build_monthly(tree["party_a"], Period.parse("2026-05"))
    assert document.title == "月度进展报告"
    assert [section.title for section in document.sections] == [
        "已推荐人员",
        "月度跟踪报告（推荐后继续培养考察）",
        "谈心谈话",
        "党组织的决定",
        "月末逾期事项",
        "合计及较上月变化",
    ]
    assert document.section("people").tables[0].rows[1][6] == "缺报"
