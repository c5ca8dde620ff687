"""The 推优 reminder rules: who hears of what at the edges of each window, escalation, once only
however often the rules run, and nothing outside the recipient's scope."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.models import Notification, Role, RoleAssignment
from branches.notifications import RULES, preview_rule, run_rule
from branches.tasks import run_reminders
from promotion import due, services
from promotion.models import (
    CultivationReport,
    FollowUpReport,
    Nomination,
    Objection,
    PromotionCase,
    PromotionRound,
    RoundStage,
    Stage,
)
from tests.conftest import make_user
from tests.promotion.helpers import NOW, TODAY, at_stage, eligible_member, make_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROMOTION_RULES = [
    "promotion_follow_up",
    "promotion_cultivation",
    "promotion_publicity_ended",
    "promotion_review_waiting",
]


def _heard(rule_key: str) -> set[str]:
    return set(Notification.objects.filter(key__startswith=rule_key).values_list("recipient__username", flat=True))


@pytest.fixture
def recommended(tree, people):
    """Two people of branch A1 recommended on 20 April 2026, and one of branch B1."""
    cases = []
    for branch, name in [(tree["branch_a1"], "王芳"), (tree["branch_a1"], "李强"), (tree["branch_b1"], "赵敏")]:
        member = eligible_member(branch, name, recorder=people["county_staff"])
        cases.append(
            at_stage(
                make_case(member, recorder=people["county_staff"]), Stage.RECOMMENDED, recommended_on=date(2026, 4, 20)
            )
        )
    return cases


def test_the_rules_are_registered():
    assert set(PROMOTION_RULES) <= set(RULES)


def test_a_follow_up_report_is_asked_of_the_branch_until_its_due_day(people, recommended):
    assert run_rule("promotion_follow_up", date(2026, 4, 30)) == 0  # April is not over
    created = run_rule("promotion_follow_up", date(2026, 5, 1))
    assert created == 3  # A1's secretary and deputy, B1's secretary: one reminder per branch
    notification = Notification.objects.get(
        key=f"promotion-follow_up:branch:{recommended[0].branch_id}:2026-04", recipient=people["secretary_a1"]
    )
    assert notification.subject == "继续培养考察报告：2026-04：甲一村团支部有2人待报送"
    assert notification.body == "请于2026-05-10前报送：李强、王芳。"
    assert notification.link == f"/promotion/branches/{recommended[0].branch_id}/"
    assert run_rule("promotion_follow_up", date(2026, 5, 10)) == 0  # once only
    assert _heard("promotion-follow_up:branch") == {"secretary_a1", "deputy_a1", "secretary_b1"}


def test_an_overdue_report_goes_up_to_the_township_then_the_county(people, recommended):
    for case in recommended[1:]:
        FollowUpReport.objects.create(
            case=case, month=date(2026, 4, 1), thinking="好", work="好", study="好", filed_by=people["secretary_a1"]
        )
    assert run_rule("promotion_follow_up", date(2026, 5, 19)) == 0  # overdue 9 days: not yet
    assert run_rule("promotion_follow_up", date(2026, 5, 20)) == 1
    assert _heard("promotion-follow_up:township") == {"township_a_staff"}
    (escalated,) = Notification.objects.filter(key__startswith="promotion-follow_up:township")
    assert escalated.subject == "继续培养考察报告：2026-04：甲一村团支部有1人逾期未报"
    assert escalated.body == "应于2026-05-10前报送，仍未报送：王芳。"
    run_rule("promotion_follow_up", date(2026, 6, 8))  # May's reports are now asked of the branches
    assert _heard("promotion-follow_up:county") == set()
    run_rule("promotion_follow_up", date(2026, 6, 9))  # April's: 30 days overdue, to the county
    assert _heard("promotion-follow_up:county") == {"county_staff"}
    assert "township_b_staff" not in _heard("promotion-follow_up")


def test_a_missed_escalation_is_caught_up_within_a_month_only(people, recommended):
    assert run_rule("promotion_follow_up", date(2026, 5, 25)) == 2  # the scheduler was down from 20 May
    assert _heard("promotion-follow_up:township") == {"township_a_staff", "township_b_staff"}
    Notification.objects.all().delete()
    assert run_rule("promotion_follow_up", date(2026, 8, 15)) > 0  # June and July reports are overdue
    assert not Notification.objects.filter(key__endswith="2026-04").exists()  # April: too old to tell


def test_a_filed_report_stops_the_reminders(people, recommended):
    for case in recommended:
        FollowUpReport.objects.create(
            case=case, month=date(2026, 4, 1), thinking="好", work="好", study="好", filed_by=people["secretary_a1"]
        )
    assert preview_rule("promotion_follow_up", date(2026, 5, 20)) == []


def test_a_closed_case_owes_no_report(people, recommended):
    for case in recommended:
        at_stage(case, Stage.WITHDRAWN)
    assert preview_rule("promotion_follow_up", date(2026, 5, 3)) == []


def test_the_quarterly_cultivation_report_is_asked_until_its_due_day(tree, people):
    member = eligible_member(tree["branch_a1"], "培养", recorder=people["county_staff"])
    case = make_case(member, recorder=people["secretary_a1"])
    PromotionCase.objects.filter(pk=case.pk).update(created_at=datetime(2026, 2, 10, 9, tzinfo=SHANGHAI))
    assert run_rule("promotion_cultivation", date(2026, 3, 31)) == 0
    assert run_rule("promotion_cultivation", date(2026, 4, 15)) == 2  # the secretary and the deputy
    (notification, _deputy) = Notification.objects.filter(
        key=f"promotion-cultivation:branch:{tree['branch_a1'].pk}:2026-01"
    )
    assert notification.subject == "培养考察报告：2026年第1季度：甲一村团支部有1人待报送"
    assert run_rule("promotion_cultivation", date(2026, 4, 16)) == 0  # no escalation for these
    CultivationReport.objects.create(case=case, year=2026, quarter=2, content="好", filed_by=people["secretary_a1"])
    assert run_rule("promotion_cultivation", date(2026, 7, 1)) == 0  # Q2 filed


def test_the_cultivation_report_is_owed_from_the_quarter_after_the_party_application(tree, people):
    """Applied in January 2026 (Q1), opened in February: the first report is on Q2, due 15 July; not
    on Q1, the quarter the case was opened in."""
    member = eligible_member(tree["branch_a1"], "新申请", recorder=people["county_staff"])
    make_case(member, recorder=people["secretary_a1"], party_applied_on=date(2026, 1, 20))
    PromotionCase.objects.update(created_at=datetime(2026, 2, 10, 9, tzinfo=SHANGHAI))
    assert preview_rule("promotion_cultivation", date(2026, 4, 10)) == []
    (reminder,) = preview_rule("promotion_cultivation", date(2026, 7, 10))
    assert reminder.key == f"promotion-cultivation:branch:{tree['branch_a1'].pk}:2026-04"


def test_a_case_opened_on_an_older_application_owes_the_quarter_under_way(tree, people):
    """Applied in August 2025, opened on 2 April 2026: Q1 2026's report is due on 15 April although
    the case was opened after the quarter ended (the duty runs from the application)."""
    member = eligible_member(tree["branch_a1"], "早申请", recorder=people["county_staff"])
    make_case(member, recorder=people["secretary_a1"], party_applied_on=date(2025, 8, 1))
    PromotionCase.objects.update(created_at=datetime(2026, 4, 2, 9, tzinfo=SHANGHAI))
    (reminder,) = preview_rule("promotion_cultivation", date(2026, 4, 10))
    assert reminder.key == f"promotion-cultivation:branch:{tree['branch_a1'].pk}:2026-01"
    assert reminder.body == "请于2026-04-15前报送：早申请。"


@pytest.mark.parametrize(
    ("applied_on", "day", "periods"),
    [
        (date(2025, 12, 31), date(2026, 3, 31), []),  # Q4 applied: Q1 2026 has not ended yet
        (date(2025, 12, 31), date(2026, 4, 1), [date(2026, 1, 1)]),
        (date(2025, 10, 1), date(2026, 7, 1), [date(2026, 1, 1), date(2026, 4, 1)]),
    ],
)
def test_the_quarters_owed_at_their_edges(tree, people, applied_on, day, periods):
    member = eligible_member(tree["branch_a1"], "边界", recorder=people["county_staff"])
    case = make_case(member, recorder=people["secretary_a1"], party_applied_on=applied_on)
    owed = due.owed_reports(PromotionCase.objects.all(), day, kind=due.CULTIVATION)
    assert [report.period for _case, reports in owed for report in reports] == periods
    if periods:
        assert owed[0][0] == case and owed[0][1][0].due_on == date(periods[0].year, periods[0].month + 3, 15)


@pytest.mark.parametrize("rule", ["promotion_cultivation", "promotion_follow_up"])
def test_reports_filed_are_read_through_a_subquery_not_a_list_of_ids(tree, people, recommended, rule):
    member = eligible_member(tree["branch_a1"], "培养中", recorder=people["county_staff"])
    make_case(member, recorder=people["secretary_a1"])
    with CaptureQueriesContext(connection) as captured:
        preview_rule(rule, date(2026, 5, 3))
    table = "promotion_cultivationreport" if rule == "promotion_cultivation" else "promotion_followupreport"
    (filed,) = [q["sql"] for q in captured if f'FROM "{table}"' in q["sql"]]
    assert filed.count("SELECT") == 2  # the cases are a subquery


def test_a_branch_without_a_secretary_is_answered_for_by_its_general_branch(tree, people):
    """Branch AG1 has no secretary account: the secretary of general branch AG (团总支) hears of its
    reports; branch A1's secretaries hear of their own only."""
    general_secretary = make_user("secretary_ag", Role.BRANCH_SECRETARY, organization=tree["general_ag"])
    for branch, name in [(tree["branch_ag1"], "九年级"), (tree["branch_a1"], "村里")]:
        member = eligible_member(branch, name, recorder=people["county_staff"])
        at_stage(make_case(member, recorder=people["county_staff"]), Stage.RECOMMENDED, recommended_on=date(2026, 4, 2))
    assert run_rule("promotion_follow_up", date(2026, 5, 3)) == 3
    keys = dict(Notification.objects.values_list("recipient__username", "key"))
    assert keys["secretary_ag"] == f"promotion-follow_up:branch:{tree['branch_ag1'].pk}:2026-04"
    assert Notification.objects.filter(recipient=general_secretary).count() == 1
    # With a secretary of its own, the branch's secretary hears, not the general branch's.
    own = make_user("secretary_ag1", Role.BRANCH_SECRETARY, organization=tree["branch_ag1"])
    run_rule("promotion_follow_up", date(2026, 6, 3))
    assert _heard("promotion-follow_up:branch:" + str(tree["branch_ag1"].pk) + ":2026-05") == {own.username}


def test_a_branch_with_nobody_above_it_either_reminds_nobody(tree, people):
    member = eligible_member(tree["branch_ag1"], "无人", recorder=people["county_staff"])
    at_stage(make_case(member, recorder=people["county_staff"]), Stage.RECOMMENDED, recommended_on=date(2026, 4, 2))
    assert preview_rule("promotion_follow_up", date(2026, 5, 3)) == []


@pytest.fixture
def round_in_publicity(tree, people):
    secretary = people["secretary_a1"]
    members = [eligible_member(tree["branch_a1"], f"团员{i}", recorder=people["county_staff"]) for i in range(5)]
    with time_machine.travel(NOW, tick=False):
        case = services.case_open(
            member=members[0], track="activist", party_applied_on=date(2025, 9, 1), actor=secretary
        )
        round_ = services.round_create(branch=tree["branch_a1"], track="activist", title="第一批", actor=secretary)
        nomination = services.round_nominate(round=round_, case=case, actor=secretary)
        services.round_open_opinions(round=round_, actor=secretary)
        services.round_record_vote(
            round=round_,
            meeting_on=TODAY,
            voting_members=5,
            present_members=5,
            votes={nomination.pk: (5, 0, 0)},
            actor=secretary,
        )
        round_ = services.round_start_publicity(round=round_, starts_on=TODAY, actor=secretary)
    return round_, nomination


def test_the_branch_is_prompted_to_submit_after_publicity(people, round_in_publicity):
    round_, nomination = round_in_publicity
    assert round_.publicity_ends_on == date(2026, 6, 16)
    assert run_rule("promotion_publicity_ended", date(2026, 6, 16)) == 0
    with time_machine.travel(NOW, tick=False):
        objection = services.objection_record(
            nomination=nomination, received_on=TODAY, content="异议", actor=people["secretary_a1"]
        )
    assert run_rule("promotion_publicity_ended", date(2026, 6, 17)) == 0  # an objection is unresolved
    with time_machine.travel(NOW, tick=False):
        services.objection_resolve(objection=objection, upheld=False, resolution="不实", actor=people["secretary_a1"])
    assert run_rule("promotion_publicity_ended", date(2026, 6, 20)) == 2
    notification = Notification.objects.get(recipient=people["secretary_a1"])
    assert notification.subject == "“第一批”已于2026-06-16公示期满：请报上级团委审核"
    assert notification.link == f"/promotion/rounds/{round_.pk}/"
    assert run_rule("promotion_publicity_ended", date(2026, 6, 21)) == 0
    with time_machine.travel("2026-06-22 09:00 +0800", tick=False):
        services.round_submit(round=round_, actor=people["secretary_a1"])
    assert round_.__class__.objects.get(pk=round_.pk).stage == RoundStage.SUBMITTED
    Notification.objects.all().delete()
    assert run_rule("promotion_publicity_ended", date(2026, 6, 23)) == 0


def test_reviewers_hear_of_cases_waiting_too_long(tree, people):
    submitted = datetime(2026, 6, 10, 15, tzinfo=SHANGHAI)
    for branch in (tree["branch_a1"], tree["branch_ag1"], tree["branch_b1"]):
        member = eligible_member(branch, f"{branch.code}审核", recorder=people["county_staff"])
        at_stage(make_case(member, recorder=people["county_staff"]), Stage.IN_REVIEW)
    PromotionCase.objects.update(stage_since=submitted)
    assert run_rule("promotion_review_waiting", date(2026, 6, 17)) == 0  # seven days: not longer
    assert run_rule("promotion_review_waiting", date(2026, 6, 18)) == 2
    township_a = Notification.objects.get(recipient=people["township_a_staff"])
    assert township_a.key == f"promotion-review-waiting:{tree['township_a'].pk}:2026-W25"
    assert township_a.subject == "2件推优等待审核超过7天，最早的自2026-06-10起"
    assert township_a.body == "C-A-1审核、C-A-G-1审核"
    assert _heard("promotion-review-waiting") == {"township_a_staff", "township_b_staff"}
    assert run_rule("promotion_review_waiting", date(2026, 6, 21)) == 0  # Sunday: the same week


def test_reviewers_hear_again_every_week_while_a_case_waits(tree, people):
    member = eligible_member(tree["branch_a1"], "久等", recorder=people["county_staff"])
    case = at_stage(make_case(member, recorder=people["county_staff"]), Stage.IN_REVIEW)
    PromotionCase.objects.update(stage_since=datetime(2026, 6, 10, 15, tzinfo=SHANGHAI))
    assert run_rule("promotion_review_waiting", date(2026, 6, 18)) == 1
    assert run_rule("promotion_review_waiting", date(2026, 6, 22)) == 1  # Monday: a new week, told again
    assert run_rule("promotion_review_waiting", date(2026, 6, 26)) == 0
    assert run_rule("promotion_review_waiting", date(2026, 7, 1)) == 1
    assert _heard("promotion-review-waiting") == {"township_a_staff"}
    # Returned, then submitted again: a new wait, told once it runs long again.
    with time_machine.travel("2026-07-02 10:00 +0800", tick=False):
        services.case_review(case=case, decision="return", comment="补充", actor=people["township_a_staff"])
        services.case_resubmit(case=case, comment="已补充", actor=people["secretary_a1"])
    assert run_rule("promotion_review_waiting", date(2026, 7, 9)) == 0  # seven days: not longer
    assert run_rule("promotion_review_waiting", date(2026, 7, 10)) == 1


def test_cases_waiting_for_review_are_chosen_in_the_database(tree, people):
    """Cases under the threshold are not even read: the rule's query asks for the long waits only."""
    for i in range(3):
        member = eligible_member(tree["branch_a1"], f"新报{i}", recorder=people["county_staff"])
        at_stage(make_case(member, recorder=people["county_staff"]), Stage.IN_REVIEW)
    PromotionCase.objects.update(stage_since=datetime(2026, 6, 15, 9, tzinfo=SHANGHAI))
    with CaptureQueriesContext(connection) as captured:
        assert preview_rule("promotion_review_waiting", date(2026, 6, 18)) == []
    assert len(captured) == 1  # nothing waits long: no reviewers looked up either
    where = captured[0]["sql"].split("WHERE", 1)[1].split("ORDER BY", 1)[0]
    assert "stage_since" in where


def test_a_committee_without_staff_accounts_is_answered_for_by_the_county(tree, people):
    member = eligible_member(tree["branch_b1"], "乙审核", recorder=people["county_staff"])
    at_stage(make_case(member, recorder=people["county_staff"]), Stage.IN_REVIEW)
    PromotionCase.objects.update(stage_since=datetime(2026, 6, 10, 15, tzinfo=SHANGHAI))
    RoleAssignment.objects.filter(user=people["township_b_staff"]).update(ends_on=date(2026, 6, 1))
    assert run_rule("promotion_review_waiting", date(2026, 6, 18)) == 1
    assert _heard("promotion-review-waiting") == {"county_staff"}


def test_the_rules_take_a_fixed_number_of_queries(tree, people, recommended):
    def queries(rule: str, day: date) -> int:
        with CaptureQueriesContext(connection) as captured:
            preview_rule(rule, day)
        return len(captured)

    before = {rule: queries(rule, date(2026, 5, 20)) for rule in PROMOTION_RULES}
    for i in range(10):
        member = eligible_member(tree["branch_ag1"], f"更多{i}", recorder=people["county_staff"])
        at_stage(make_case(member, recorder=people["county_staff"]), Stage.RECOMMENDED, recommended_on=date(2026, 4, 2))
    after = {rule: queries(rule, date(2026, 5, 20)) for rule in PROMOTION_RULES}
    assert before == after
    assert max(after.values()) <= 10


def test_the_daily_run_includes_the_pipeline_s_rules_and_sends_nothing_twice(recommended):
    with time_machine.travel("2026-05-03 07:00 +0800", tick=False):
        first = run_reminders()
        second = run_reminders()
    assert first["promotion_follow_up"] == 3
    assert {second[rule] for rule in PROMOTION_RULES} == {0}
    assert Notification.objects.filter(kind="promotion").count() == 3


def test_a_general_branch_s_secretary_is_prompted_to_submit_for_a_branch_without_one(tree, people, round_in_publicity):
    round_, _nomination = round_in_publicity
    PromotionRound.objects.filter(pk=round_.pk).update(branch=tree["branch_ag1"])
    make_user("secretary_ag", Role.BRANCH_SECRETARY, organization=tree["general_ag"])
    assert run_rule("promotion_publicity_ended", date(2026, 6, 17)) == 1
    assert _heard("promotion-publicity-ended") == {"secretary_ag"}


def test_an_open_objection_to_a_withdrawn_candidate_does_not_stop_the_prompt(tree, people, round_in_publicity):
    round_, _nomination = round_in_publicity
    secretary = people["secretary_a1"]
    other = services.case_open(
        member=eligible_member(tree["branch_a1"], "撤回者", recorder=people["county_staff"]),
        track="activist",
        party_applied_on=date(2025, 9, 1),
        actor=secretary,
    )
    # A second candidate in the same publicity, then withdrawn with an objection left open.
    extra = Nomination.objects.create(round=round_, case=at_stage(other, Stage.PUBLICITY), passed=True)
    Objection.objects.create(nomination=extra, received_on=TODAY, content="异议", recorded_by=secretary)
    with time_machine.travel(NOW, tick=False):
        services.case_withdraw(case=other, reason="本人申请", actor=secretary)
    assert run_rule("promotion_publicity_ended", date(2026, 6, 17)) == 2


def test_a_first_run_inside_the_county_window_tells_the_township_too(people, recommended):
    for case in recommended[1:]:
        FollowUpReport.objects.create(
            case=case, month=date(2026, 4, 1), thinking="好", work="好", study="好", filed_by=people["secretary_a1"]
        )
    # April's report was due on 10 May: on 9 June it is 30 days overdue, still within the township's
    # catch-up window (from 20 May) and inside the county's (from 9 June). Both hear, each once.
    run_rule("promotion_follow_up", date(2026, 6, 9))
    assert _heard("promotion-follow_up:township") == {"township_a_staff"}
    assert _heard("promotion-follow_up:county") == {"county_staff"}
    assert run_rule("promotion_follow_up", date(2026, 6, 10)) == 0
