"""The pipeline's reads: what they return, and that they take a fixed number of queries whatever the
number of cases (measured at two sizes)."""

from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promotion import selectors, services
from promotion.models import (
    CultivationReport,
    FollowUpReport,
    PromotionCase,
    PromotionPlan,
    Stage,
    Talk,
)
from tests.promotion.helpers import NOW, TODAY, at_stage, eligible_member, make_case

pytestmark = pytest.mark.usefixtures("clock")

STAGES = [Stage.CULTIVATION, Stage.IN_REVIEW, Stage.RECOMMENDED, Stage.ACTIVIST, Stage.RETURNED]


@pytest.fixture
def populate(tree, people):
    """`n` cases in each of branch A1, general branch AG's branch AG1 and branch B1, at various stages,
    with some reports filed, talks held and opinions asked: rows that would each cost a query if read
    one by one."""
    counter = iter(range(10_000))

    def _populate(n: int) -> list[PromotionCase]:
        cases = []
        for branch in (tree["branch_a1"], tree["branch_ag1"], tree["branch_b1"]):
            for i in range(n):
                member = eligible_member(branch, f"人{next(counter)}", recorder=people["county_staff"])
                stage = STAGES[i % len(STAGES)]
                case = at_stage(
                    make_case(member, recorder=people["county_staff"]),
                    stage,
                    recommended_on=date(2026, 3, 2) if stage in (Stage.RECOMMENDED, Stage.ACTIVIST) else None,
                    activist_since=date(2026, 4, 1) if stage == Stage.ACTIVIST else None,
                    party_organization=tree["party_a"] if stage in (Stage.RECOMMENDED, Stage.ACTIVIST) else None,
                )
                CultivationReport.objects.create(
                    case=case, year=2026, quarter=1, content="好", filed_by=people["county_staff"]
                )
                Talk.objects.create(
                    case=case, held_on=TODAY, held_by="书记", summary="谈心", recorded_by=people["county_staff"]
                )
                cases.append(case)
        return cases

    return _populate


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def _constant(populate, call, limit: int) -> None:
    """`call` takes the same number of queries, at most `limit`, with few cases and with four times as many."""
    populate(5)  # every stage present, so that no query is skipped for lack of rows
    call()  # the user's scope is read once per request and kept
    small = _queries(call)
    populate(15)
    large = _queries(call)
    assert small == large <= limit, (small, large)


# --- reports due -----------------------------------------------------------------------------------


def _due(case: PromotionCase, day: date) -> dict:
    return selectors.due_reports(PromotionCase.objects.filter(pk=case.pk), day)


def test_cultivation_reports_are_due_every_quarter_from_the_one_after_the_application(tree, people):
    """Applied in December 2025: reports owed from Q1 2026, however late the case was opened (May)."""
    member = eligible_member(tree["branch_a1"], "培养", recorder=people["county_staff"])
    case = make_case(member, recorder=people["secretary_a1"], party_applied_on=date(2025, 12, 10))
    PromotionCase.objects.filter(pk=case.pk).update(
        created_at=datetime(2026, 5, 10, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    q1, q2 = _due(case, date(2026, 7, 20))[case.pk]
    assert (q1.period, q1.due_on, q1.overdue_days, q1.label) == (
        date(2026, 1, 1),
        date(2026, 4, 15),
        96,
        "培养考察报告：2026年第1季度",
    )
    assert (q2.period, q2.due_on, q2.overdue_days) == (date(2026, 4, 1), date(2026, 7, 15), 5)
    CultivationReport.objects.create(case=case, year=2026, quarter=1, content="好", filed_by=people["secretary_a1"])
    (only,) = _due(case, date(2026, 7, 1))[case.pk]
    assert (only.period, only.overdue) == (date(2026, 4, 1), False)  # due on 15 July


def test_follow_up_reports_are_due_every_month_from_the_recommendation(tree, people):
    member = eligible_member(tree["branch_a1"], "考察", recorder=people["county_staff"])
    case = at_stage(
        make_case(member, recorder=people["secretary_a1"]), Stage.RECOMMENDED, recommended_on=date(2026, 4, 20)
    )
    april, may = _due(case, TODAY)[case.pk]
    assert (april.period, april.due_on, april.overdue_days, april.label) == (
        date(2026, 4, 1),
        date(2026, 5, 10),
        31,
        "继续培养考察报告：2026-04",
    )
    assert (may.period, may.due_on, may.overdue) == (date(2026, 5, 1), date(2026, 6, 10), False)
    FollowUpReport.objects.create(
        case=case, month=date(2026, 4, 1), thinking="好", work="好", study="好", filed_by=people["secretary_a1"]
    )
    assert [r.period for r in _due(case, TODAY)[case.pk]] == [date(2026, 5, 1)]
    assert _due(case, date(2026, 5, 1)) == {}  # April filed, May not over


def test_closed_cases_owe_nothing(tree, people):
    member = eligible_member(tree["branch_a1"], "结束", recorder=people["county_staff"])
    case = at_stage(
        make_case(member, recorder=people["secretary_a1"]), Stage.WITHDRAWN, recommended_on=date(2026, 1, 5)
    )
    assert _due(case, TODAY) == {}


def test_due_reports_take_a_fixed_number_of_queries(populate):
    _constant(populate, lambda: selectors.due_reports(PromotionCase.objects.all(), TODAY), 3)


# --- the board -------------------------------------------------------------------------------------


def test_the_board_groups_the_branch_s_open_cases_by_stage(tree, populate):
    populate(5)
    board = selectors.branch_board(tree["branch_a1"], TODAY)
    assert [column.stage for column in board] == selectors.OPEN_STAGE_ORDER
    by_stage = {column.stage: column for column in board}
    assert len(by_stage[Stage.CULTIVATION].cases) == 1
    assert by_stage[Stage.NOMINATED].cases == []
    (waiting,) = by_stage[Stage.IN_REVIEW].cases
    assert waiting.next_step == "已等待上级团委审核0天。"
    (recommended,) = by_stage[Stage.RECOMMENDED].cases
    assert [report.period for report in recommended.due] == [date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)]
    assert recommended.overdue
    assert all(case.case.branch_id == tree["branch_a1"].pk for column in board for case in column.cases)


def test_the_board_names_the_round_a_nominee_is_on(tree, people):
    member = eligible_member(tree["branch_a1"], "提名", recorder=people["county_staff"])
    case = make_case(member, recorder=people["secretary_a1"])
    round_ = services.round_create(
        branch=tree["branch_a1"], track="activist", title="第一批", actor=people["county_staff"]
    )
    services.round_nominate(round=round_, case=case, actor=people["county_staff"], exception_reason="人少")
    column = {c.stage: c for c in selectors.branch_board(tree["branch_a1"], TODAY)}[Stage.NOMINATED]
    assert column.cases[0].next_step == "已列入“第一批”名单：征求意见后提交团员大会表决。"


def test_the_board_takes_a_fixed_number_of_queries(tree, populate):
    _constant(populate, lambda: selectors.branch_board(tree["branch_a1"], TODAY), 4)


# --- the review queue --------------------------------------------------------------------------------


def _queue(user, **filters) -> list[selectors.ReviewItem]:
    return selectors.review_items(selectors.review_cases(user, **filters))


def test_the_review_queue_is_the_reviewer_s_scope(tree, people, populate, clock):
    populate(5)
    clock.move_to(NOW + timedelta(days=3))
    township = [item.case.branch.name for item in _queue(people["township_a_staff"])]
    assert sorted(township) == ["甲一村团支部", "甲镇中学九年级团支部"]
    county = _queue(people["county_staff"])
    assert len(county) == 3
    assert {item.days_waiting for item in county} == {3}
    assert {item.committee.name for item in county} == {"共青团甲镇委员会", "共青团乙镇委员会"}
    only_b = _queue(people["county_staff"], township=tree["township_b"])
    assert [item.case.branch for item in only_b] == [tree["branch_b1"]]
    schools = _queue(people["county_staff"], sector="school")
    assert [item.case.branch for item in schools] == [tree["branch_ag1"]]
    assert _queue(people["secretary_a1"]) == []


def test_the_queue_orders_by_waiting_time(tree, people, populate, clock):
    first = at_stage(populate(1)[0], Stage.IN_REVIEW)
    clock.move_to(NOW + timedelta(days=1))
    member = eligible_member(tree["branch_a1"], "后来", recorder=people["county_staff"])
    later = make_case(member, recorder=people["county_staff"])
    services._step(at_stage(later, Stage.RETURNED), "submit_for_review", actor=people["secretary_a1"])
    oldest_first = [item.case.pk for item in _queue(people["county_staff"])]
    assert oldest_first[0] == first.pk and oldest_first[-1] == later.pk
    newest_first = [item.case.pk for item in _queue(people["county_staff"], order="recent")]
    assert newest_first[0] == later.pk


def test_the_review_queue_takes_a_fixed_number_of_queries(people, populate):
    _constant(populate, lambda: _queue(people["county_staff"]), 2)


def test_the_review_summary_shows_how_the_case_came(tree, people):
    member = eligible_member(tree["branch_a1"], "审核", recorder=people["county_staff"])
    case = make_case(member, recorder=people["secretary_a1"])
    round_ = services.round_create(
        branch=tree["branch_a1"], track="activist", title="第一批", actor=people["county_staff"]
    )
    nomination = services.round_nominate(round=round_, case=case, actor=people["county_staff"], exception_reason="人少")
    services.round_open_opinions(round=round_, actor=people["secretary_a1"])
    services.opinion_record(
        nomination=nomination, source="party_members", content="同意", favourable=True, actor=people["secretary_a1"]
    )
    summary = selectors.review_summary(case)
    assert summary.nomination == nomination and summary.nomination.exception_reason == "人少"
    assert [o.content for o in summary.opinions] == ["同意"]
    assert summary.objections == [] and summary.earlier_returns == []


# --- the county's overview -----------------------------------------------------------------------------


def test_the_overview_counts_stages_by_township_and_the_year_s_funnel(tree, people, populate):
    cases = populate(5)
    services.plan_save(
        committee=tree["township_a"],
        year=2026,
        targets={(tree["branch_a1"].pk, "activist"): 3},
        note="",
        actor=people["township_a_staff"],
    )
    overview = selectors.county_overview([tree["township_a"], tree["township_b"]], year=2026, day=TODAY)
    a, b = overview.rows
    assert (a.unit, a.total, a.counts[Stage.IN_REVIEW], a.counts[Stage.RECOMMENDED]) == (tree["township_a"], 10, 2, 2)
    assert (b.total, b.counts[Stage.CULTIVATION]) == (5, 1)
    assert overview.totals[Stage.ACTIVIST] == 3
    # Every case: before the hand-over, Q4 2025 (applied in September 2025, Q1 2026 filed); after it,
    # the recommended and the activists March to May.
    assert a.overdue_reports == 10
    funnel = {step.key: step for step in overview.funnel}
    assert funnel["applications"].count == 0  # applied in 2025
    assert (funnel["recommended"].count, funnel["recommended"].target) == (6, 3)
    assert funnel["activists"].count == 3
    (progress,) = overview.plan
    assert (progress.organization, progress.track, progress.target, progress.actual) == (
        tree["branch_a1"],
        "activist",
        3,
        2,
    )
    in_review = {t.stage: t for t in overview.time_in_stage}[Stage.IN_REVIEW]
    assert (in_review.cases, in_review.median_days, in_review.average_days) == (3, 0, 0.0)
    assert len(cases) == 15


def test_a_case_counts_in_the_deepest_unit_holding_it(tree, people, populate):
    """Units given at different depths, one inside another: each case counts once, in the innermost."""
    populate(5)
    overview = selectors.county_overview([tree["township_a"], tree["branch_a1"]], year=2026, day=TODAY)
    assert [(row.unit, row.total) for row in overview.rows] == [(tree["township_a"], 5), (tree["branch_a1"], 5)]


def test_the_overview_takes_a_fixed_number_of_queries(tree, people, populate):
    PromotionPlan.objects.create(
        committee=tree["township_a"], year=2026, created_by=people["county_staff"]
    ).targets.create(organization=tree["branch_a1"], track="activist", target=2)
    units = [tree["township_a"], tree["township_b"]]
    _constant(populate, lambda: selectors.county_overview(units, year=2026, day=TODAY), 5)


def test_the_overview_counts_in_the_database_without_reading_the_cases(tree, people, populate):
    """Counted in groups, not case by case in Python: a county's thousands of cases are never loaded."""
    populate(5)
    units = [tree["township_a"], tree["township_b"]]
    with mock.patch.object(PromotionCase, "from_db", side_effect=AssertionError("a case was read")):
        overview = selectors.county_overview(units, year=2026, day=TODAY)
    assert sum(row.total for row in overview.rows) == 15


def test_the_time_in_stage_is_the_median_and_the_average_of_the_days(tree, people):
    recorder = people["county_staff"]
    for i, days in enumerate([4, 6, 10, 10, 1]):
        member = eligible_member(tree["branch_a1"], f"审{i}", recorder=recorder)
        case = at_stage(make_case(member, recorder=recorder), Stage.IN_REVIEW if days > 1 else Stage.RETURNED)
        PromotionCase.objects.filter(pk=case.pk).update(stage_since=NOW - timedelta(days=days))
    times = {t.stage: t for t in selectors.county_overview([tree["township_a"]], year=2026, day=TODAY).time_in_stage}
    assert (times[Stage.IN_REVIEW].cases, times[Stage.IN_REVIEW].median_days) == (4, 8)
    assert times[Stage.IN_REVIEW].average_days == 7.5
    assert (times[Stage.RETURNED].median_days, times[Stage.RETURNED].average_days) == (1, 1)
    assert (times[Stage.CULTIVATION].cases, times[Stage.CULTIVATION].median_days) == (0, None)


# --- a case's timeline -----------------------------------------------------------------------------------


def test_the_timeline_merges_steps_reports_talks_opinions_and_objections(tree, people, clock):
    secretary = people["secretary_a1"]
    members = [eligible_member(tree["branch_a1"], f"时间线{i}", recorder=people["county_staff"]) for i in range(5)]

    def later(call):
        clock.shift(timedelta(minutes=1))
        return call()

    case = services.case_open(
        member=members[0], track="activist", party_applied_on=date(2025, 9, 1), actor=people["deputy_a1"]
    )
    later(
        lambda: services.cultivation_report_file(case=case, year=2026, quarter=2, content="表现突出", actor=secretary)
    )
    round_ = services.round_create(branch=tree["branch_a1"], track="activist", title="第一批", actor=secretary)
    nomination = later(lambda: services.round_nominate(round=round_, case=case, actor=secretary))
    services.round_open_opinions(round=round_, actor=secretary)
    later(
        lambda: services.opinion_record(
            nomination=nomination, source="league_members", content="群众基础好", favourable=True, actor=secretary
        )
    )
    later(
        lambda: services.round_record_vote(
            round=round_,
            meeting_on=TODAY,
            voting_members=5,
            present_members=5,
            votes={nomination.pk: (5, 0, 0)},
            actor=secretary,
        )
    )
    clock.move_to(NOW + timedelta(days=1))
    tomorrow = TODAY + timedelta(days=1)
    services.round_start_publicity(round=round_, starts_on=tomorrow, actor=secretary)
    objection = services.objection_record(
        nomination=nomination, received_on=tomorrow, content="匿名来信", actor=secretary
    )
    services.objection_resolve(objection=objection, upheld=False, resolution="经查不实", actor=secretary)
    services.talk_record(case=case, held_on=tomorrow, held_by="支部书记", summary="谈心", actor=secretary)
    with CaptureQueriesContext(connection) as captured:
        timeline = selectors.case_timeline(case)
    assert len(captured) == 6
    assert [item.title for item in timeline] == [
        "建立推优档案",
        "培养考察报告：2026年第2季度",
        "列入初步名单",
        "团员意见（同意）",
        "团员大会已通过",
        "开始公示",
        "收到异议",
        "异议不成立",
        "支部书记谈心谈话",
    ]
    assert timeline[0].actor == "Deputy_A1（代Secretary_A1）"
    assert timeline[4].detail == "第一批\n2026-06-10团员大会：应到5人，实到5人；赞成5票，反对0票，弃权0票。"
    assert timeline[7].detail == "经查不实"


# --- the preliminary list's candidates -----------------------------------------------------------------


def test_every_active_member_is_a_candidate_with_the_checks(tree, people):
    secretary = people["secretary_a1"]
    ready = eligible_member(tree["branch_a1"], "乙就绪", recorder=people["county_staff"])
    make_case(ready, recorder=secretary)
    no_case = eligible_member(tree["branch_a1"], "甲无申请", recorder=people["county_staff"])
    left = eligible_member(tree["branch_a1"], "丙离团", recorder=people["county_staff"], status="withdrawn")
    candidates = selectors.eligible_members(tree["branch_a1"], "activist", TODAY)
    assert [c.member for c in candidates] == [ready, no_case]
    assert candidates[0].may_be_listed and candidates[0].eligibility.ok
    assert not candidates[1].may_be_listed
    assert candidates[1].eligibility.failing[0].detail == "未登记入党申请：请先建立推优档案。"
    assert left not in [c.member for c in candidates]


def test_the_candidates_take_a_fixed_number_of_queries(tree, populate):
    _constant(populate, lambda: selectors.eligible_members(tree["branch_a1"], "activist", TODAY), 4)
