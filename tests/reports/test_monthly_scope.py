"""The monthly progress report's scope, query bound, agreement with direct counts and with the
pipeline's own rules, on the fixture of tests/reports/monthly_data.py."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from branches.models import Organization
from members.models import Member
from promotion.models import (
    FOLLOW_UP_STAGES,
    TERMINAL_STAGES,
    CaseTransition,
    FollowUpReport,
    PromotionCase,
    Stage,
    Talk,
)
from reports.charts import render_svg
from reports.document import ReportDocument
from reports.models import ReportKind
from reports.monthly import DECISION_STAGES, build_monthly
from reports.periods import Period
from reports.quarterly.history import case_stage_at, end_of
from reports.selectors import build_document
from tests.reports.monthly_data import NOW, county_cases, handed, moment, more_cases, step

MAY = Period.parse("2026-05")
A_NAMES = ["孙六", "李二", "王一", "赵四", "郑九"]  # branch A1, by name


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


def names(document: ReportDocument) -> list[str]:
    return [row[0] for row in document.section("people").tables[0].rows]


def figure(document: ReportDocument, key: str, label: str):
    return next(f.value for f in document.section(key).figures if f.label == label)


def test_party_organization_reads_only_the_cases_handed_to_it(tree, cases):
    """Party organization B: 陈十一 of township A's school (handed to B by exception) and 吴八 of
    township B; never 周七, approved but not handed over."""
    assert names(build(tree["party_b"])) == ["陈十一", "吴八"]
    assert "周七" not in names(build(tree["party_a"]))
    before_any = build(tree["party_b"], Period.parse("2026-02"))
    assert names(before_any) == []
    assert before_any.section("totals").tables[0].footer == ["Total", 0, 0, 0]


def test_a_unit_reads_the_recommended_cases_of_its_subtree(tree, cases):
    assert names(build(tree["branch_a1"])) == A_NAMES
    assert names(build(tree["township_a"])) == [*A_NAMES, "张三", "陈十一"]
    assert names(build(tree["township_b"])) == ["吴八"]
    assert names(build(tree["county"])) == [*A_NAMES, "张三", "陈十一", "吴八"]


def test_queries_do_not_grow_with_the_cases_or_branches(tree, people, cases):
    with CaptureQueriesContext(connection) as small:
        build(tree["party_a"])
    branches_before = Organization.objects.count()
    more_cases(tree, people["secretary_a1"], 8)
    assert Organization.objects.count() == branches_before + 4
    with CaptureQueriesContext(connection) as large:
        document = build(tree["party_a"])
    assert len(names(document)) == 6 + 8
    assert len(small) == len(large) == 4


def test_figures_agree_with_direct_counts(tree, cases):
    party = tree["party_a"]
    document = build(party)
    start, end = moment(MAY.start, 0), moment(MAY.end + timedelta(days=1), 0)
    ours = PromotionCase.objects.filter(party_organization=party)
    closed_before = CaseTransition.objects.filter(case=OuterRef("pk"), to_stage__in=TERMINAL_STAGES, at__lt=start)
    handed_by_end = CaseTransition.objects.filter(case=OuterRef("pk"), action="hand_over", at__lt=end)
    assert figure(document, "people", "People in the report") == (
        ours.filter(Exists(handed_by_end)).exclude(Exists(closed_before)).count()
    )
    assert figure(document, "talks", "Talks this month") == (
        Talk.objects.filter(
            case__party_organization=party,
            held_on__range=(MAY.start, MAY.end),
            held_on__gte=F("case__recommended_on"),
        ).count()
    )
    assert figure(document, "decisions", "Withdrawn") + figure(
        document, "decisions", "Development candidate (发展对象)"
    ) == (
        CaseTransition.objects.filter(
            case__party_organization=party, at__gte=start, at__lt=end, to_stage__in=DECISION_STAGES
        )
        .exclude(from_stage=F("to_stage"))
        .count()
    )
    # The reports on April filed by May's end, of the people in the report followed up on 10 May.
    followed_when_due = (
        PromotionCase.objects.filter(party_organization=party, member__name__in=names(document))
        .annotate(stage_then=case_stage_at(end_of(date(2026, 5, 10))))
        .filter(stage_then__in=FOLLOW_UP_STAGES)
    )
    assert figure(document, "follow_up", "Reports filed") == (
        FollowUpReport.objects.filter(
            case__in=followed_when_due.values("pk"), month=date(2026, 4, 1), filed_at__lt=end
        ).count()
    )


def test_the_month_under_way_agrees_with_the_cases_now(tree, cases):
    """June, read today: the stages at the month's end are the cases' stages now."""
    party = tree["party_a"]
    document = build(party, Period.parse("2026-06"))
    open_cases = PromotionCase.objects.filter(party_organization=party, recommended_on__isnull=False).open()
    by_stage = dict(open_cases.values_list("stage").annotate(n=Count("pk")))
    with translation.override("en"):
        labels = {str(Stage(stage).label): stage for stage in Stage.values}
    (table, _activity) = document.section("totals").tables
    assert {labels[row[0]]: row[2] for row in table.rows if row[2]} == by_stage
    assert by_stage == {Stage.RECOMMENDED: 2, Stage.ACTIVIST: 1, Stage.DEVELOPMENT: 2}
    # 李二's report on April (due 10 May) is the only one overdue on 8 June.
    assert [row[:6] for row in document.section("overdue").tables[0].rows if row[3]] == [
        ["李二", "甲一村团支部", "Development candidate (发展对象)", 1, "2026-04", 29]
    ]


def test_a_lapsed_recommendation_the_party_acted_on_comes_back(tree, people, clock):
    """Lapsed by the sweep on 20 April; on 4 May the branch records that the Party named the person an
    activist on 18 April, within the validity: April shows the lapse, May the decision, June an activist."""
    case = handed(
        tree["branch_a1"],
        "何十二",
        date(2024, 4, 20),
        Stage.ACTIVIST,
        step("lapse", Stage.RECOMMENDED, Stage.LAPSED, date(2026, 4, 20), hour=1),
        step("party_names_activist", Stage.LAPSED, Stage.ACTIVIST, date(2026, 5, 4)),
        party=tree["party_a"],
        recorder=people["secretary_a1"],
        activist_since=date(2026, 4, 18),
        closed_on=date(2026, 4, 20),
    )
    assert case.valid_until == date(2026, 4, 19)
    rows = {key: build(tree["party_a"], Period.parse(key)).section("people").tables[0].rows for key in MONTHS}
    assert [(key, row[3], row[9]) for key in MONTHS for row in rows[key]] == [
        ("2026-04", "Recommendation lapsed", "Recommendation lapsed"),
        ("2026-05", "Party activist (入党积极分子)", "Named Party activist"),
        ("2026-06", "Party activist (入党积极分子)", None),
    ]


MONTHS = ["2026-04", "2026-05", "2026-06"]


def test_no_id_number_is_read_or_written(tree, cases):
    with CaptureQueriesContext(connection) as queries:
        document = build(tree["county"])
    assert not [q["sql"] for q in queries if "id_number" in q["sql"]]
    text = json.dumps(document.to_dict(), ensure_ascii=False)
    numbers = [m.id_number for m in Member.objects.filter(name__in=["王一", "李二", "吴八"])]
    assert len(numbers) == 3 and all(number and number not in text for number in numbers)


def test_progress_is_reported_to_the_end(tree, cases):
    calls = []
    build_monthly(tree["party_a"], MAY, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(done, 7) for done in range(1, 8)]


def test_the_document_is_the_archive_and_page_one(tree, cases):
    """Dispatched by reports.selectors, stored as JSON and read back unchanged, its chart drawn."""
    with translation.override("en"):
        document = build_document(ReportKind.MONTHLY, tree["party_a"], MAY)
    assert document.kind == ReportKind.MONTHLY and document.period_key == "2026-05"
    assert document.scope_label == "中共甲镇委员会"
    assert [s.key for s in document.sections] == ["people", "follow_up", "talks", "decisions", "overdue", "totals"]
    assert ReportDocument.from_dict(json.loads(json.dumps(document.to_dict()))) == document
    assert render_svg(document.section("totals").charts[0]).startswith("<svg")
