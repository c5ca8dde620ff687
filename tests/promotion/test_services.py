"""推优 services: a round from the preliminary list to review, the rules each step checks, and the
arithmetic at its edges (quorum, pass, share cap, working days)."""

from datetime import date, timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied

from branches.models import Activity, ActivityKind, Role, RoleAssignment, User
from members.models import Registration
from promotion import selectors, services
from promotion.models import CalendarDay, Nomination, PromotionCase, RoundStage, Stage
from tests.promotion.helpers import PUBLICITY_END, TODAY, eligible_member, listed, open_case, stage_of

pytestmark = pytest.mark.usefixtures("clock")


def vote(round_, nominations, actor, *, voting=10, present=8, figures=None, reason="", meeting=None):
    figures = figures or [(6, 1, 1)] * len(nominations)
    return services.round_record_vote(
        round=round_,
        meeting_on=TODAY,
        voting_members=voting,
        present_members=present,
        votes={n.pk: f for n, f in zip(nominations, figures, strict=True)},
        actor=actor,
        voting_members_reason=reason,
        meeting=meeting,
    )


def submit_on(round_, actor, day):
    """Submit the round on a given day (the service takes today from the clock)."""
    with time_machine.travel(day, tick=False):
        return services.round_submit(round=round_, actor=actor)


def in_publicity(round_, cases, secretary):
    nominations = listed(round_, cases[:2], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    vote(round_, nominations, secretary)
    services.round_start_publicity(round=round_, starts_on=TODAY, actor=secretary)
    return nominations


# --- a round, end to end ---------------------------------------------------------------------------


def test_a_round_from_the_preliminary_list_to_review(round_, cases, secretary):
    first, second = listed(round_, cases[:2], secretary)
    assert stage_of(cases[0]) == Stage.NOMINATED
    assert [c["rule"] for c in first.eligibility][-1] == "share_cap"
    services.round_open_opinions(round=round_, actor=secretary)
    services.opinion_record(
        nomination=first, source="party_organization", content="同意推荐", favourable=True, actor=secretary
    )
    vote(round_, [first, second], secretary, figures=[(6, 1, 1), (5, 2, 1)])  # 5 is not more than half of 10
    assert stage_of(round_) == RoundStage.VOTED
    assert (stage_of(cases[0]), stage_of(cases[1])) == (Stage.VOTED, Stage.CULTIVATION)
    failed = Nomination.objects.get(pk=second.pk)
    assert (failed.votes_for, failed.votes_against, failed.votes_abstaining, failed.passed) == (5, 2, 1, False)

    publicity = services.round_start_publicity(round=round_, starts_on=TODAY, actor=secretary)
    assert (publicity.publicity_starts_on, publicity.publicity_ends_on) == (TODAY, PUBLICITY_END)
    with pytest.raises(services.PromotionError, match="公示至2026-06-16结束"):
        submit_on(round_, secretary, PUBLICITY_END)
    submit_on(round_, secretary, PUBLICITY_END + timedelta(days=1))
    assert stage_of(round_) == RoundStage.SUBMITTED
    assert stage_of(cases[0]) == Stage.IN_REVIEW
    assert list(cases[0].transitions.values_list("action", flat=True)) == [
        "open",
        "nominate",
        "pass_vote",
        "start_publicity",
        "submit_for_review",
    ]
    assert list(cases[1].transitions.values_list("action", flat=True)) == ["open", "nominate", "fail_vote"]


def test_the_vote_is_kept_on_the_history(round_, cases, secretary):
    (nomination,) = listed(round_, cases[:1], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    vote(round_, [nomination], secretary, voting=10, present=8, figures=[(7, 0, 1)])
    step = cases[0].transitions.get(action="pass_vote")
    assert step.round_id == round_.pk
    assert step.comment == "2026-06-10团员大会：应到10人，实到8人；赞成7票，反对0票，弃权1票。"


def test_when_nobody_passes_the_round_closes(round_, cases, secretary):
    nominations = listed(round_, cases[:2], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    vote(round_, nominations, secretary, figures=[(3, 4, 1), (0, 8, 0)])
    assert stage_of(round_) == RoundStage.CLOSED
    assert {stage_of(c) for c in cases[:2]} == {Stage.CULTIVATION}


def test_a_case_failed_by_a_vote_can_be_listed_in_a_later_round(tree, round_, cases, secretary):
    nominations = listed(round_, cases[:1], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    vote(round_, nominations, secretary, figures=[(2, 6, 0)])
    later = services.round_create(branch=tree["branch_a1"], track="activist", title="第二批", actor=secretary)
    services.round_nominate(round=later, case=cases[0], actor=secretary)
    assert stage_of(cases[0]) == Stage.NOMINATED
    assert cases[0].nominations.count() == 2


# --- the preliminary list --------------------------------------------------------------------------


def test_an_ineligible_member_is_refused_with_the_reason_and_nothing_changes(round_, cases, secretary):
    Registration.objects.filter(member=cases[0].member).delete()
    with pytest.raises(services.PromotionError) as refused:
        services.round_nominate(round=round_, case=cases[0], actor=secretary)
    assert "未完成2026年度团籍注册" in refused.value.message_dict["exception_reason"][0]
    assert stage_of(cases[0]) == Stage.CULTIVATION
    assert not Nomination.objects.exists()
    assert cases[0].transitions.count() == 1


def test_only_county_staff_may_allow_an_exception_with_a_reason(people, round_, cases, secretary):
    Registration.objects.filter(member=cases[0].member).delete()
    with pytest.raises(PermissionDenied):
        services.round_nominate(round=round_, case=cases[0], actor=secretary, exception_reason="特殊情况")
    with pytest.raises(PermissionDenied):
        services.round_nominate(
            round=round_, case=cases[0], actor=people["township_a_staff"], exception_reason="特殊情况"
        )
    nomination = services.round_nominate(
        round=round_, case=cases[0], actor=people["county_staff"], exception_reason="外出务工期间未能注册"
    )
    assert nomination.exception_by == people["county_staff"]
    assert nomination.exception_reason == "外出务工期间未能注册"
    assert {c["rule"]: c["ok"] for c in nomination.eligibility}["registered"] is False
    assert cases[0].transitions.last().comment == "外出务工期间未能注册"


def test_the_share_cap_refuses_the_third_of_ten(people, round_, cases, secretary):
    listed(round_, cases[:2], secretary)
    with pytest.raises(services.PromotionError, match="至多推荐本支部10名在册团员中的2名"):
        services.round_nominate(round=round_, case=cases[2], actor=secretary)
    third = services.round_nominate(
        round=round_, case=cases[2], actor=people["county_staff"], exception_reason="计划调整"
    )
    assert {c["rule"]: c["ok"] for c in third.eligibility}["share_cap"] is False


def test_one_round_under_way_per_branch_and_track(tree, round_, secretary):
    with pytest.raises(services.PromotionError, match="已有一个本类推优批次正在进行"):
        services.round_create(branch=tree["branch_a1"], track="activist", title="第二批", actor=secretary)
    services.round_create(branch=tree["branch_a1"], track="development", title="发展对象第一批", actor=secretary)
    services.round_close(round=round_, reason="重新组织", actor=secretary)
    services.round_create(branch=tree["branch_a1"], track="activist", title="第二批", actor=secretary)


def test_the_share_cap_counts_the_branch_rounds_under_way_on_both_tracks(tree, roster, round_, cases, secretary):
    """Ten members, two places: one listed on each track fills the branch's share."""
    listed(round_, cases[:1], secretary)
    development = services.round_create(branch=tree["branch_a1"], track="development", title="发展", actor=secretary)
    cases_b = [
        open_case(
            member, secretary, track="development", party_applied_on=date(2024, 9, 1), activist_since=date(2025, 1, 1)
        )
        for member in roster[5:7]
    ]
    services.round_nominate(round=development, case=cases_b[0], actor=secretary)
    with pytest.raises(services.PromotionError, match="至多推荐本支部10名在册团员中的2名"):
        services.round_nominate(round=development, case=cases_b[1], actor=secretary)
    with pytest.raises(services.PromotionError, match="至多推荐本支部10名在册团员中的2名"):
        services.round_nominate(round=round_, case=cases[1], actor=secretary)


def test_a_short_wait_since_the_application_needs_a_written_reason(roster, round_, secretary):
    case = open_case(roster[5], secretary, party_applied_on=date(2026, 3, 1))
    with pytest.raises(services.PromotionError) as refused:
        services.round_nominate(round=round_, case=case, actor=secretary)
    assert "书面说明" in refused.value.message_dict["short_wait_reason"][0]
    nomination = services.round_nominate(
        round=round_, case=case, actor=secretary, short_wait_reason="表现突出，支部研究同意"
    )
    assert nomination.short_wait_reason == "表现突出，支部研究同意"
    assert not nomination.exception_reason


def test_priority_candidates_are_marked(roster, round_, secretary):
    roster[6].league_post = "organization"
    roster[6].save()
    nomination = services.round_nominate(round=round_, case=open_case(roster[6], secretary), actor=secretary)
    assert nomination.is_priority
    assert nomination.priority_reasons == "团内职务：组织委员"


def test_the_round_s_track_and_branch_must_match(tree, people, round_, roster, secretary):
    development = open_case(roster[7], secretary, track="development", activist_since=date(2025, 10, 1))
    with pytest.raises(services.PromotionError, match="本批次为"):
        services.round_nominate(round=round_, case=development, actor=secretary)
    other = eligible_member(tree["branch_b1"], "乙团员", recorder=people["county_staff"])
    elsewhere = open_case(other, people["county_staff"])
    with pytest.raises(services.PromotionError, match="属于其他支部"):
        services.round_nominate(round=round_, case=elsewhere, actor=people["county_staff"])


def test_taking_a_nominee_off_keeps_the_record_and_listing_again_reuses_it(round_, cases, secretary):
    nomination = services.round_nominate(round=round_, case=cases[0], actor=secretary)
    with pytest.raises(services.PromotionError):
        services.round_remove_nominee(nomination=nomination, actor=secretary, reason=" ")
    services.round_remove_nominee(nomination=nomination, actor=secretary, reason="本人暂缓")
    nomination.refresh_from_db()
    assert nomination.removed_at is not None and nomination.removed_reason == "本人暂缓"
    assert stage_of(cases[0]) == Stage.CULTIVATION
    assert not round_.nominations.listed().exists()
    again = services.round_nominate(round=round_, case=cases[0], actor=secretary)
    assert again.pk == nomination.pk and again.removed_at is None


def test_opinions_are_asked_on_a_settled_list(round_, cases, secretary):
    with pytest.raises(services.PromotionError, match="请先列入至少一名人选"):
        services.round_open_opinions(round=round_, actor=secretary)
    (nomination,) = listed(round_, cases[:1], secretary)
    with pytest.raises(services.PromotionError, match="在当前阶段不能"):
        services.opinion_record(
            nomination=nomination, source="league_members", content="好", favourable=True, actor=secretary
        )
    services.round_open_opinions(round=round_, actor=secretary)
    with pytest.raises(services.PromotionError, match="在当前阶段不能"):
        services.round_nominate(round=round_, case=cases[1], actor=secretary)
    services.round_remove_nominee(nomination=nomination, actor=secretary, reason="党员群众意见较大")
    assert stage_of(round_) == RoundStage.OPINIONS  # taking off is still possible; the round stays


def test_a_round_given_up_before_the_vote_returns_its_nominees(round_, cases, secretary):
    listed(round_, cases[:2], secretary)
    services.round_close(round=round_, reason="时间调整", actor=secretary)
    assert stage_of(round_) == RoundStage.CLOSED
    assert {stage_of(c) for c in cases[:2]} == {Stage.CULTIVATION}


# --- the vote: figures that cannot be true, quorum and pass at their edges ------------------------


@pytest.fixture
def voting_round(round_, cases, secretary):
    nominations = listed(round_, cases[:2], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    return nominations


def _unchanged(round_, nominations):
    assert stage_of(round_) == RoundStage.OPINIONS
    assert all(Nomination.objects.get(pk=n.pk).votes_for is None for n in nominations)
    assert {n.case.transitions.count() for n in nominations} == {2}


@pytest.mark.parametrize(
    ("voting", "present", "figures", "field", "message"),
    [
        (10, 11, [(5, 0, 0), (5, 0, 0)], "present_members", "实到11人，多于应到会有表决权的10人。"),
        (10, 8, [(6, 2, 1), (5, 0, 0)], None, "赞成、反对、弃权合计9票，超过实到人数8人。"),
        (10, 8, [(6, -1, 0), (5, 0, 0)], None, "票数须为不小于0的整数。"),
        (
            10,
            5,
            [(5, 0, 0), (5, 0, 0)],
            "present_members",
            "应到会有表决权的团员10人，实到5人，未超过半数（至少须6人），不能进行表决。",
        ),
        (0, 0, [(0, 0, 0), (0, 0, 0)], "voting_members", "应到会有表决权的团员至少为1人。"),
    ],
)
def test_impossible_figures_are_refused_and_nothing_changes(
    round_, voting_round, secretary, voting, present, figures, field, message
):
    with pytest.raises(services.PromotionError) as refused:
        vote(round_, voting_round, secretary, voting=voting, present=present, figures=figures)
    messages = refused.value.message_dict[field] if field else refused.value.messages
    assert any(message in m for m in messages), messages
    _unchanged(round_, voting_round)


def test_the_members_entitled_to_vote_come_from_the_roster(round_, voting_round, secretary):
    """Ten active members on the day: more than ten cannot vote; fewer only with the reason on record."""
    with pytest.raises(services.PromotionError) as refused:
        vote(round_, voting_round, secretary, voting=11, present=8)
    assert refused.value.message_dict["voting_members"] == ["2026-06-10本支部在册团员10人，不能有11人参加表决。"]
    with pytest.raises(services.PromotionError) as refused:
        vote(round_, voting_round, secretary, voting=9, present=8)
    assert "只有9人" in refused.value.message_dict["voting_members_reason"][0]
    _unchanged(round_, voting_round)
    vote(round_, voting_round, secretary, voting=9, present=8, reason="1人受处分期间不参加表决")
    assert voting_round[0].case.transitions.last().comment.endswith("1人受处分期间不参加表决")


def test_the_meeting_record_is_the_branch_general_meeting_of_that_day(tree, round_, voting_round, secretary):
    def meeting(kind, held_on):
        return Activity.objects.create(
            organization=tree["branch_a1"], kind=kind, held_on=held_on, topic="推优", recorded_by=secretary
        )

    for wrong in (
        meeting(ActivityKind.COMMITTEE_MEETING, TODAY),
        meeting(ActivityKind.GENERAL_MEETING, date(2026, 6, 1)),
    ):
        with pytest.raises(services.PromotionError) as refused:
            vote(round_, voting_round, secretary, meeting=wrong)
        assert "meeting" in refused.value.message_dict
    _unchanged(round_, voting_round)
    vote(round_, voting_round, secretary, meeting=meeting(ActivityKind.GENERAL_MEETING, TODAY))
    assert stage_of(round_) == RoundStage.VOTED


def test_every_candidate_needs_votes(round_, voting_round, secretary):
    with pytest.raises(services.PromotionError, match="请填写团员1的票数"):
        services.round_record_vote(
            round=round_,
            meeting_on=TODAY,
            voting_members=10,
            present_members=8,
            votes={voting_round[0].pk: (6, 1, 1)},
            actor=secretary,
        )
    _unchanged(round_, voting_round)


def test_a_meeting_cannot_be_in_the_future(round_, voting_round, secretary):
    with pytest.raises(services.PromotionError):
        services.round_record_vote(
            round=round_,
            meeting_on=TODAY + timedelta(days=1),
            voting_members=10,
            present_members=8,
            votes={n.pk: (6, 1, 1) for n in voting_round},
            actor=secretary,
        )
    _unchanged(round_, voting_round)


@pytest.mark.parametrize(
    ("quorum", "voting", "present", "met"),
    [
        ("1/2", 10, 5, False),  # exactly half is not more than half
        ("1/2", 10, 6, True),
        ("1/2", 9, 5, True),
        ("1/2", 1, 1, True),
        ("2/3", 9, 6, False),  # exactly two thirds is not more than two thirds
        ("2/3", 9, 7, True),
        ("2/3", 10, 6, False),
        ("2/3", 10, 7, True),
    ],
)
def test_quorum_at_the_edges(settings, quorum, voting, present, met):
    settings.PROMOTION_RULES = {**settings.PROMOTION_RULES, "quorum": quorum}
    assert services.quorum_met(voting_members=voting, present_members=present) is met
    if not met:
        assert services.quorum_minimum(voting) == present + 1 or services.quorum_minimum(voting) > present


def test_two_thirds_quorum_refuses_a_meeting_of_exactly_two_thirds(settings, round_, voting_round, secretary):
    settings.PROMOTION_RULES = {**settings.PROMOTION_RULES, "quorum": "2/3"}
    with pytest.raises(services.PromotionError) as refused:
        vote(round_, voting_round, secretary, voting=9, present=6, figures=[(6, 0, 0), (6, 0, 0)], reason="1人请假")
    assert "未超过三分之二（至少须7人）" in refused.value.message_dict["present_members"][0]
    vote(round_, voting_round, secretary, voting=9, present=7, figures=[(5, 1, 1), (4, 3, 0)], reason="1人请假")
    assert [Nomination.objects.get(pk=n.pk).passed for n in voting_round] == [True, False]


@pytest.mark.parametrize(
    ("basis", "voting", "present", "votes_for", "passes"),
    [
        ("voting", 10, 8, 5, False),  # exactly half of the members entitled to vote
        ("voting", 10, 8, 6, True),
        ("voting", 9, 9, 5, True),
        ("voting", 9, 9, 4, False),
        ("present", 10, 7, 4, True),  # more than half of those present
        ("present", 10, 8, 4, False),
        ("voting", 10, 7, 5, False),  # the same figures on the usual basis
    ],
)
def test_pass_at_the_edges(settings, basis, voting, present, votes_for, passes):
    settings.PROMOTION_RULES = {**settings.PROMOTION_RULES, "pass_basis": basis}
    assert services.vote_passes(votes_for, voting_members=voting, present_members=present) is passes


# --- publicity and objections ---------------------------------------------------------------------


def test_publicity_counts_working_days_over_a_holiday(round_, cases, secretary):
    CalendarDay.objects.create(day=date(2026, 6, 19), is_working_day=False, note="端午节")
    nominations = listed(round_, cases[:1], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    vote(round_, nominations, secretary)
    publicity = services.round_start_publicity(round=round_, starts_on=date(2026, 6, 15), actor=secretary)
    assert publicity.publicity_ends_on == date(2026, 6, 22)


def test_publicity_starts_after_the_meeting(round_, cases, secretary):
    nominations = listed(round_, cases[:1], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    vote(round_, nominations, secretary)
    with pytest.raises(services.PromotionError):
        services.round_start_publicity(round=round_, starts_on=TODAY - timedelta(days=1), actor=secretary)
    assert stage_of(round_) == RoundStage.VOTED


def test_an_unresolved_objection_holds_the_round_back(round_, cases, secretary):
    first, _second = in_publicity(round_, cases, secretary)
    objection = services.objection_record(nomination=first, received_on=TODAY, content="工作不够积极", actor=secretary)
    after = PUBLICITY_END + timedelta(days=1)
    with pytest.raises(services.PromotionError, match="报送前请先处理对团员0的异议"):
        submit_on(round_, secretary, after)
    services.objection_resolve(objection=objection, upheld=False, resolution="经核实不属实", actor=secretary)
    with pytest.raises(services.PromotionError, match="已处理"):
        services.objection_resolve(objection=objection, upheld=True, resolution="再议", actor=secretary)
    submit_on(round_, secretary, after)
    assert {stage_of(c) for c in cases[:2]} == {Stage.IN_REVIEW}


def test_an_upheld_objection_returns_the_case_and_the_last_one_ends_the_round(round_, cases, secretary):
    first, second = in_publicity(round_, cases, secretary)
    for nomination in (first, second):
        objection = services.objection_record(
            nomination=nomination, received_on=TODAY, content="有违纪行为", actor=secretary
        )
        services.objection_resolve(objection=objection, upheld=True, resolution="经核实属实", actor=secretary)
        assert stage_of(nomination.case) == Stage.CULTIVATION
    assert stage_of(round_) == RoundStage.CLOSED
    assert cases[0].transitions.last().comment == "经核实属实"
    assert Nomination.objects.get(pk=first.pk).passed is True  # the vote stays on record


# --- review, hand-over and after -------------------------------------------------------------------


@pytest.fixture
def in_review(round_, cases, secretary):
    in_publicity(round_, cases, secretary)
    submit_on(round_, secretary, PUBLICITY_END + timedelta(days=1))
    return PromotionCase.objects.get(pk=cases[0].pk)


def test_returning_and_rejecting_need_a_reason(people, in_review):
    for decision in ("return", "reject"):
        with pytest.raises(services.PromotionError) as refused:
            services.case_review(case=in_review, decision=decision, comment="  ", actor=people["township_a_staff"])
        assert "comment" in refused.value.message_dict
    assert stage_of(in_review) == Stage.IN_REVIEW


def test_a_returned_case_is_resubmitted_and_approved(people, in_review, secretary):
    services.case_review(case=in_review, decision="return", comment="请补充思想汇报", actor=people["township_a_staff"])
    assert stage_of(in_review) == Stage.RETURNED
    with pytest.raises(services.PromotionError):
        services.case_resubmit(case=in_review, comment="", actor=secretary)
    services.case_resubmit(case=in_review, comment="已补充", actor=secretary)
    services.case_review(case=in_review, decision="approve", comment="", actor=people["county_staff"])
    assert stage_of(in_review) == Stage.APPROVED
    # In the order taken (the submission was dated after publicity; the clock went back for the rest).
    assert list(in_review.transitions.order_by("pk").values_list("action", flat=True))[-3:] == [
        "return_to_branch",
        "submit_for_review",
        "approve",
    ]


def test_a_rejected_case_is_closed_with_the_reason(people, in_review):
    services.case_review(case=in_review, decision="reject", comment="不符合条件", actor=people["township_a_staff"])
    in_review.refresh_from_db()
    assert (in_review.stage, in_review.closed_on, in_review.closing_reason) == (Stage.REJECTED, TODAY, "不符合条件")


def test_only_the_committees_above_review(people, in_review):
    for outsider in ("secretary_a1", "deputy_a1", "township_b_staff", "party_a", "nobody"):
        assert not services.can_review(people[outsider], in_review)
        with pytest.raises(PermissionDenied):
            services.case_review(case=in_review, decision="approve", comment="", actor=people[outsider])
    assert services.can_review(people["township_a_staff"], in_review)
    assert services.can_review(people["county_staff"], in_review)


def test_reviewers_are_kept_apart_from_the_branch_side(tree, people, round_, cases):
    """Township staff who ran the round's vote and submission do not review its cases; staff who also
    hold a secretary's role over the branch (a general branch's too) never review its cases."""
    township = people["township_a_staff"]
    in_publicity(round_, cases, township)
    with time_machine.travel(PUBLICITY_END + timedelta(days=1)):
        services.round_submit(round=round_, actor=people["secretary_a1"])
    case = PromotionCase.objects.get(pk=cases[0].pk)
    assert not services.can_review(township, case)  # recorded the vote
    with pytest.raises(PermissionDenied):
        services.case_review(case=case, decision="approve", comment="", actor=township)
    assert services.can_review(people["county_staff"], case)
    RoleAssignment.objects.create(
        user=people["county_staff"], role=Role.BRANCH_SECRETARY, organization=tree["branch_a1"], starts_on=TODAY
    )
    county = User.objects.get(pk=people["county_staff"].pk)  # the scope is read once per user object
    assert not services.can_review(county, case)
    assert list(selectors.review_cases(county)) == []
    assert list(selectors.review_cases(township)) == []


def test_whoever_submitted_the_round_does_not_review(people, in_review, secretary):
    services.case_review(case=in_review, decision="return", comment="补材料", actor=people["township_a_staff"])
    services.case_resubmit(case=in_review, comment="已补充", actor=people["county_staff"])
    assert not services.can_review(people["county_staff"], in_review)
    assert services.can_review(people["township_a_staff"], in_review)


def test_the_second_of_two_reviewers_is_told_who_decided(people, in_review):
    services.case_review(case=in_review, decision="approve", comment="", actor=people["township_a_staff"])
    with pytest.raises(services.PromotionError) as refused:
        services.case_review(case=in_review, decision="return", comment="再看看", actor=people["county_staff"])
    assert refused.value.messages == ["团员0的推优已由Township_A_Staff审核：审核通过。"]


@pytest.fixture
def approved(people, in_review):
    return services.case_review(case=in_review, decision="approve", comment="", actor=people["township_a_staff"])


def test_the_hand_over_goes_to_the_nearest_paired_party_organization(tree, approved, secretary):
    services.case_hand_over(case=approved, handed_over_on=TODAY, actor=secretary)
    approved.refresh_from_db()
    assert approved.party_organization == tree["party_a"]  # branch A1 has none; township A is paired
    assert (approved.recommended_on, approved.valid_until) == (TODAY, date(2028, 6, 9))
    assert approved.stage == Stage.RECOMMENDED


def test_only_county_staff_may_hand_over_to_a_party_organization_not_paired_with_the_branch(
    tree, people, approved, secretary
):
    from branches.models import Organization, OrganizationKind, PartyOrganization

    other_county = Organization.objects.add_root(
        {"name": "邻县团委", "code": "N", "kind": OrganizationKind.COUNTY, "sector": "public"}
    )
    foreign = PartyOrganization.objects.create(county=other_county, name="邻县党委")
    for actor, party in [(people["county_staff"], foreign), (secretary, tree["party_b"])]:
        with pytest.raises(services.PromotionError):
            services.case_hand_over(case=approved, handed_over_on=TODAY, actor=actor, party_organization=party)
    assert PromotionCase.objects.get(pk=approved.pk).stage == Stage.APPROVED
    services.case_hand_over(
        case=approved, handed_over_on=TODAY, actor=people["county_staff"], party_organization=tree["party_b"]
    )
    assert PromotionCase.objects.get(pk=approved.pk).party_organization == tree["party_b"]


@pytest.fixture
def recommended(approved, secretary):
    return services.case_hand_over(case=approved, handed_over_on=TODAY, actor=secretary)


def test_follow_up_reports_once_a_month_from_the_recommendation(recommended, secretary):
    def report(month):
        return services.follow_up_report_file(
            case=recommended, month=month, thinking="端正", work="积极", study="认真", actor=secretary
        )

    with pytest.raises(services.PromotionError, match="早于推荐时间"):
        report(date(2026, 5, 1))
    with pytest.raises(services.PromotionError, match="尚未开始"):
        report(date(2026, 7, 1))
    filed = report(date(2026, 6, 17))
    assert filed.month == date(2026, 6, 1)
    with pytest.raises(services.PromotionError, match="已报送"):
        report(date(2026, 6, 1))


def test_the_party_s_decisions_with_their_time_rules(clock, recommended, secretary):
    def decide(decision, day):
        return services.case_record_party_decision(case=recommended, decision=decision, decided_on=day, actor=secretary)

    with pytest.raises(services.PromotionError, match="不能早于"):
        decide("activist", TODAY - timedelta(days=1))
    assert decide("activist", TODAY) == []
    clock.move_to("2027-03-01 09:00 +0800")
    (warning,) = decide("development", date(2027, 3, 1))  # activist for under a year
    assert warning == "2026-06-10确定为入党积极分子，列为发展对象时培养期不满1年。"
    assert warning in recommended.transitions.last().comment
    assert decide("probationary", date(2027, 3, 1)) == []
    assert recommended.member.__class__.objects.get(pk=recommended.member_id).political_status == "probationary"
    clock.move_to("2028-03-01 09:00 +0800")
    assert decide("full", date(2028, 3, 1)) == []  # probation a full year
    recommended.refresh_from_db()
    assert (recommended.stage, recommended.full_member_on, recommended.closed_on) == (
        Stage.FULL_MEMBER,
        date(2028, 3, 1),
        date(2028, 3, 1),
    )
    assert recommended.member.__class__.objects.get(pk=recommended.member_id).political_status == "party"


def test_a_short_probation_is_flagged(clock, recommended, secretary):
    for decision in ("development", "probationary"):
        services.case_record_party_decision(case=recommended, decision=decision, decided_on=TODAY, actor=secretary)
    clock.move_to("2027-01-05 09:00 +0800")
    warnings = services.case_record_party_decision(
        case=recommended, decision="full", decided_on=date(2027, 1, 5), actor=secretary
    )
    assert warnings == ["2026-06-10接收为预备党员，预备期不满1年。"]


def test_not_adopted_closes_the_case(recommended, secretary):
    services.case_record_party_decision(
        case=recommended, decision="not_adopted", decided_on=TODAY, actor=secretary, comment="名额已满"
    )
    recommended.refresh_from_db()
    assert (recommended.stage, recommended.closing_reason) == (Stage.NOT_ADOPTED, "名额已满")


def test_every_transition_of_a_whole_journey_leaves_one_entry_each(recommended, secretary):
    services.case_record_party_decision(case=recommended, decision="activist", decided_on=TODAY, actor=secretary)
    steps = list(recommended.transitions.order_by("at", "pk"))
    entries = list(LogEntry.objects.get_for_object(recommended).order_by("timestamp", "pk"))
    assert len(steps) == len(entries) == 8
    for step, entry in zip(steps, entries, strict=True):
        if step.action == "open":
            assert entry.action == LogEntry.Action.CREATE
        else:
            assert entry.changes_dict["stage"] == [step.from_stage, step.to_stage]
        assert entry.actor_id == step.actor_id


# --- cases and reports ------------------------------------------------------------------------------


def test_opening_a_case_checks_the_dates_and_the_track(roster, secretary):
    member = roster[0]
    with pytest.raises(services.PromotionError) as refused:
        open_case(member, secretary, party_applied_on=TODAY + timedelta(days=1))
    assert "party_applied_on" in refused.value.message_dict
    with pytest.raises(services.PromotionError) as refused:
        open_case(member, secretary, track="development")
    assert "activist_since" in refused.value.message_dict
    with pytest.raises(services.PromotionError):
        open_case(member, secretary, activist_since=date(2025, 10, 1))
    case = open_case(member, secretary, party_applied_on=date(2025, 9, 17), month_only=True)
    assert (case.party_applied_on, case.party_applied_month_only) == (date(2025, 9, 1), True)
    with pytest.raises(services.PromotionError, match="已有同类推优正在进行"):
        open_case(member, secretary)
    entry = LogEntry.objects.get_for_object(case).get()
    assert entry.action == LogEntry.Action.CREATE and entry.actor == secretary


def test_a_party_member_has_no_case(roster, secretary):
    roster[0].political_status = "probationary"
    roster[0].save()
    with pytest.raises(services.PromotionError, match="已是党员"):
        open_case(roster[0], secretary)


def test_cultivation_reports_once_a_quarter(cases, secretary):
    def report(year, quarter):
        return services.cultivation_report_file(
            case=cases[0], year=year, quarter=quarter, content="积极", actor=secretary
        )

    report(2025, 3)  # the application's quarter
    report(2026, 2)  # this quarter
    for year, quarter, message in [
        (2025, 2, "早于递交入党申请"),
        (2026, 3, "尚未开始"),
        (2026, 5, "第1至第4季度"),
        (2026, 2, "已报送"),
    ]:
        with pytest.raises(services.PromotionError, match=message):
            report(year, quarter)
    assert cases[0].cultivation_reports.count() == 2


def test_a_deputy_acts_on_the_secretary_s_behalf(people, roster):
    case = open_case(roster[0], people["deputy_a1"])
    step = case.transitions.get()
    assert (step.actor, step.on_behalf_of) == (people["deputy_a1"], people["secretary_a1"])
    assert LogEntry.objects.get_for_object(case).get().additional_data == {"on_behalf_of": "secretary_a1"}


@pytest.mark.parametrize("outsider", ["secretary_b1", "township_b_staff", "party_a", "system_admin", "nobody"])
def test_nobody_outside_the_branch_works_on_its_cases(tree, people, roster, cases, round_, outsider):
    actor = people[outsider]
    assert not services.can_work_on_branch(actor, tree["branch_a1"])
    calls = [
        lambda: open_case(roster[5], actor),
        lambda: services.round_create(branch=tree["branch_a1"], track="activist", title="x", actor=actor),
        lambda: services.round_nominate(round=round_, case=cases[0], actor=actor),
        lambda: services.case_withdraw(case=cases[0], reason="x", actor=actor),
        lambda: services.talk_record(case=cases[0], held_on=TODAY, held_by="x", summary="x", actor=actor),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert not Nomination.objects.exists()


def test_next_actions_depend_on_the_role(people, in_review, cases):
    assert services.next_actions(cases[2], people["secretary_a1"]) == ["nominate", "withdraw"]
    assert services.next_actions(in_review, people["secretary_a1"]) == ["withdraw"]
    assert services.next_actions(in_review, people["township_a_staff"]) == [
        "approve",
        "return_to_branch",
        "reject",
        "withdraw",
    ]
    assert services.next_actions(in_review, people["township_b_staff"]) == []
    assert services.next_actions(in_review, people["party_a"]) == []


def test_withdrawing_the_last_candidate_in_publicity_ends_the_round(round_, cases, secretary):
    first, second = in_publicity(round_, cases, secretary)
    services.case_withdraw(case=first.case, reason="本人申请", actor=secretary)
    assert stage_of(round_) == RoundStage.PUBLICITY
    services.case_withdraw(case=second.case, reason="本人申请", actor=secretary)
    assert stage_of(round_) == RoundStage.CLOSED
    withdrawn = PromotionCase.objects.get(pk=first.case_id)
    assert (withdrawn.stage, withdrawn.closed_on, withdrawn.closing_reason) == (Stage.WITHDRAWN, TODAY, "本人申请")


def test_withdrawing_a_nominee_takes_it_off_the_list(round_, cases, secretary):
    (nomination,) = listed(round_, cases[:1], secretary)
    services.case_withdraw(case=cases[0], reason="本人申请", actor=secretary)
    assert not round_.nominations.listed().exists()
    assert Nomination.objects.get(pk=nomination.pk).removed_reason == "本人申请"
    assert stage_of(round_) == RoundStage.PRELIMINARY  # a preliminary list may be empty


def test_every_missing_reason_is_asked_for_at_once(roster, round_, secretary):
    case = open_case(roster[5], secretary, party_applied_on=date(2026, 3, 1))
    Registration.objects.filter(member=roster[5]).delete()
    with pytest.raises(services.PromotionError) as refused:
        services.round_nominate(round=round_, case=case, actor=secretary)
    assert set(refused.value.message_dict) == {"short_wait_reason", "exception_reason"}


def test_no_vote_is_recorded_when_everyone_was_taken_off_the_list(round_, cases, secretary):
    (nomination,) = listed(round_, cases[:1], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    services.round_remove_nominee(nomination=nomination, actor=secretary, reason="本人暂缓")
    with pytest.raises(services.PromotionError, match="名单上已无人选，无需表决"):
        services.round_record_vote(
            round=round_, meeting_on=TODAY, voting_members=10, present_members=8, votes={}, actor=secretary
        )
    round_.refresh_from_db()
    assert (round_.stage, round_.meeting_on, round_.present_members) == (RoundStage.OPINIONS, None, None)


def test_an_open_objection_to_a_withdrawn_candidate_does_not_hold_the_round_back(round_, cases, secretary):
    first, _second = in_publicity(round_, cases, secretary)
    services.objection_record(nomination=first, received_on=TODAY, content="工作不够积极", actor=secretary)
    services.case_withdraw(case=cases[0], reason="本人申请撤回", actor=secretary)
    submit_on(round_, secretary, PUBLICITY_END + timedelta(days=1))
    assert (stage_of(cases[0]), stage_of(cases[1])) == (Stage.WITHDRAWN, Stage.IN_REVIEW)


def test_publicity_starts_within_a_week_back_and_a_month_ahead(round_, cases, secretary):
    nominations = listed(round_, cases[:2], secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    vote(round_, nominations, secretary)
    with pytest.raises(services.PromotionError, match="公示开始日期不能晚于30天后"):
        services.round_start_publicity(round=round_, starts_on=TODAY + timedelta(days=31), actor=secretary)
    with time_machine.travel(TODAY + timedelta(days=8), tick=False):
        with pytest.raises(services.PromotionError, match="公示开始日期不能早于7天前"):
            services.round_start_publicity(round=round_, starts_on=TODAY, actor=secretary)
        assert stage_of(round_) == RoundStage.VOTED
        started = services.round_start_publicity(round=round_, starts_on=TODAY + timedelta(days=1), actor=secretary)
    assert started.publicity_starts_on == TODAY + timedelta(days=1)
