"""Rules of the pipeline found missing in review: a lapsed recommendation takes the Party's decision
recorded late; one open case per member (an activist-track case continued on the development track);
eligibility checked again at submission and approval; a returned case taken back to cultivation; the
lapse task retried on a lost connection."""

from datetime import date, timedelta
from unittest import mock

import pytest
import time_machine
from auditlog.models import LogEntry
from django.db import OperationalError

from members.models import Registration, Sanction
from promotion import pdf, selectors, services, tasks
from promotion.models import Nomination, PromotionCase, PromotionRound, RoundStage, Stage, Track
from tests.promotion.helpers import PUBLICITY_END, TODAY, at_stage, eligible_member, make_case, stage_of
from tests.promotion.staff_helpers import case_in_review

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def member(tree, people):
    return eligible_member(tree["branch_a1"], "王芳", recorder=people["county_staff"])


def entries(case) -> int:
    return LogEntry.objects.get_for_object(case).count()


# --- 1. a lapsed recommendation takes a decision the Party took in time ---------------------------------


@pytest.fixture
def lapsed(member, secretary):
    """Handed over on 10 June 2024, valid until 9 June 2026, lapsed by today's sweep."""
    case = at_stage(
        make_case(member, recorder=secretary),
        Stage.RECOMMENDED,
        recommended_on=date(2024, 6, 10),
        valid_until=date(2026, 6, 9),
    )
    assert services.lapse_expired_cases(TODAY) == 1
    return PromotionCase.objects.get(pk=case.pk)


def test_a_decision_taken_within_the_validity_reopens_a_lapsed_case(lapsed, secretary):
    assert lapsed.stage == Stage.LAPSED and lapsed.closed_on == TODAY
    steps, audit = lapsed.transitions.count(), entries(lapsed)
    warnings = services.case_record_party_decision(
        case=lapsed, decision="activist", decided_on=date(2026, 6, 9), actor=secretary, comment="党支部6月9日研究确定"
    )
    assert warnings == []
    lapsed.refresh_from_db()
    assert (lapsed.stage, lapsed.activist_since, lapsed.closed_on, lapsed.closing_reason) == (
        Stage.ACTIVIST,
        date(2026, 6, 9),
        None,
        "",
    )
    step = lapsed.transitions.last()
    assert (step.action, step.from_stage, step.to_stage, step.actor) == (
        "party_names_activist",
        Stage.LAPSED,
        Stage.ACTIVIST,
        secretary,
    )
    assert "推荐失效后补录：党组织在有效期（至2026-06-09）内作出决定。" in step.comment
    assert (lapsed.transitions.count(), entries(lapsed)) == (steps + 1, audit + 1)
    entry = LogEntry.objects.get_for_object(lapsed).order_by("-pk").first()
    assert entry.changes_dict["stage"] == [Stage.LAPSED, Stage.ACTIVIST]
    # Open again: the monthly follow-up reports are due again, and the Party's next decision is recorded.
    services.case_record_party_decision(case=lapsed, decision="development", decided_on=TODAY, actor=secretary)
    assert stage_of(lapsed) == Stage.DEVELOPMENT


def test_a_decision_taken_after_the_validity_is_refused(lapsed, secretary):
    before = (lapsed.transitions.count(), entries(lapsed))
    for decision in ("activist", "development"):
        with pytest.raises(services.PromotionError) as refused:
            services.case_record_party_decision(case=lapsed, decision=decision, decided_on=TODAY, actor=secretary)
        assert refused.value.message_dict["decided_on"] == [
            "推荐有效期至2026-06-09，此后作出的决定不能记录在本次推荐上，需重新推优。"
        ]
    assert stage_of(lapsed) == Stage.LAPSED
    assert (lapsed.transitions.count(), entries(lapsed)) == before
    # Not adopted, probationary or full member do not apply to a lapsed recommendation.
    with pytest.raises(services.PromotionError):
        services.case_record_party_decision(
            case=lapsed, decision="not_adopted", decided_on=date(2026, 6, 1), actor=secretary
        )


def test_a_recommendation_not_yet_swept_takes_no_decision_after_its_validity(member, secretary):
    case = at_stage(
        make_case(member, recorder=secretary),
        Stage.RECOMMENDED,
        recommended_on=date(2024, 6, 1),
        valid_until=date(2026, 5, 31),
    )
    with pytest.raises(services.PromotionError):
        services.case_record_party_decision(case=case, decision="activist", decided_on=TODAY, actor=secretary)
    services.case_record_party_decision(case=case, decision="activist", decided_on=date(2026, 5, 31), actor=secretary)
    assert stage_of(case) == Stage.ACTIVIST


def test_a_lapsed_development_track_case_takes_a_late_development_decision(member, secretary):
    case = at_stage(
        make_case(member, recorder=secretary, track=Track.DEVELOPMENT, activist_since=date(2023, 1, 1)),
        Stage.LAPSED,
        recommended_on=date(2024, 6, 1),
        valid_until=date(2026, 5, 31),
        closed_on=date(2026, 6, 1),
    )
    with pytest.raises(services.PromotionError, match="已是入党积极分子"):
        services.case_record_party_decision(
            case=case, decision="activist", decided_on=date(2026, 5, 1), actor=secretary
        )
    services.case_record_party_decision(
        case=case, decision="development", decided_on=date(2026, 5, 20), actor=secretary
    )
    case.refresh_from_db()
    assert (case.stage, case.development_on, case.closed_on) == (Stage.DEVELOPMENT, date(2026, 5, 20), None)


def test_a_lapsed_case_does_not_reopen_beside_another_open_case(lapsed, secretary):
    newer = services.case_open(
        member=lapsed.member, track=Track.ACTIVIST, party_applied_on=date(2025, 9, 1), actor=secretary
    )
    with pytest.raises(services.PromotionError) as refused:
        services.case_record_party_decision(
            case=lapsed, decision="activist", decided_on=date(2026, 6, 1), actor=secretary
        )
    assert "同一时间只能有一个进行中的推优" in refused.value.messages[0]
    assert (stage_of(lapsed), stage_of(newer)) == (Stage.LAPSED, Stage.CULTIVATION)


# --- 2. one person, one open case ---------------------------------------------------------------


@pytest.fixture
def activist_case(member, secretary):
    """The applicant track handed over and the member named an activist on 1 April 2025."""
    return at_stage(
        make_case(member, recorder=secretary),
        Stage.ACTIVIST,
        recommended_on=date(2025, 3, 3),
        valid_until=date(2027, 3, 2),
        activist_since=date(2025, 4, 1),
    )


def test_opening_the_development_track_continues_the_activist_case(activist_case, member, secretary):
    steps, audit = activist_case.transitions.count(), entries(activist_case)
    case_b = services.case_open(
        member=member, track=Track.DEVELOPMENT, party_applied_on=date(2024, 9, 1), actor=secretary
    )
    assert (case_b.stage, case_b.activist_since) == (Stage.CULTIVATION, date(2025, 4, 1))  # taken from the case
    activist_case.refresh_from_db()
    assert (activist_case.stage, activist_case.closed_on, activist_case.closing_reason) == (
        Stage.CONTINUED,
        TODAY,
        "转入发展对象推优",
    )
    assert not activist_case.is_open
    step = activist_case.transitions.last()
    assert (step.action, step.from_stage, step.to_stage, step.actor) == (
        "continue_on_development_track",
        Stage.ACTIVIST,
        Stage.CONTINUED,
        secretary,
    )
    assert (activist_case.transitions.count(), entries(activist_case)) == (steps + 1, audit + 1)
    assert list(PromotionCase.objects.open().filter(member=member)) == [case_b]
    assert pdf.may_print(activist_case)  # its recommendation form stays in the person's file


def test_a_given_activist_date_is_kept(activist_case, member, secretary):
    case_b = services.case_open(
        member=member,
        track=Track.DEVELOPMENT,
        party_applied_on=date(2024, 9, 1),
        activist_since=date(2025, 3, 28),
        actor=secretary,
    )
    assert case_b.activist_since == date(2025, 3, 28)
    assert stage_of(activist_case) == Stage.CONTINUED


@pytest.mark.parametrize(
    "stage", [Stage.CULTIVATION, Stage.NOMINATED, Stage.IN_REVIEW, Stage.RETURNED, Stage.RECOMMENDED, Stage.DEVELOPMENT]
)
def test_the_development_track_is_refused_beside_an_activist_case_at_another_stage(member, secretary, stage):
    case_a = at_stage(make_case(member, recorder=secretary), stage, activist_since=date(2025, 4, 1))
    with pytest.raises(services.PromotionError) as refused:
        services.case_open(member=member, track=Track.DEVELOPMENT, party_applied_on=date(2024, 9, 1), actor=secretary)
    assert "同一时间只能有一个进行中的推优" in refused.value.messages[0]
    assert "党组织确定其为入党积极分子后" in refused.value.messages[0]
    assert stage_of(case_a) == stage
    assert PromotionCase.objects.filter(member=member).count() == 1


def test_the_activist_track_is_refused_beside_an_open_development_case(member, secretary):
    make_case(member, recorder=secretary, track=Track.DEVELOPMENT, activist_since=date(2025, 4, 1))
    with pytest.raises(services.PromotionError, match="同一时间只能有一个进行中的推优"):
        services.case_open(member=member, track=Track.ACTIVIST, party_applied_on=date(2025, 9, 1), actor=secretary)
    assert PromotionCase.objects.filter(member=member).count() == 1


def test_a_refused_opening_leaves_the_activist_case_as_it_was(member, secretary):
    """No activist date anywhere: the opening is refused, and the activist case is not continued."""
    case_a = at_stage(make_case(member, recorder=secretary), Stage.ACTIVIST)
    with pytest.raises(services.PromotionError) as refused:
        services.case_open(member=member, track=Track.DEVELOPMENT, party_applied_on=date(2024, 9, 1), actor=secretary)
    assert "activist_since" in refused.value.message_dict
    assert stage_of(case_a) == Stage.ACTIVIST and not case_a.transitions.exists()


def test_closed_cases_do_not_stand_in_the_way(member, secretary):
    at_stage(make_case(member, recorder=secretary), Stage.REJECTED)
    case_b = services.case_open(
        member=member,
        track=Track.DEVELOPMENT,
        party_applied_on=date(2024, 9, 1),
        activist_since=date(2025, 4, 1),
        actor=secretary,
    )
    assert case_b.stage == Stage.CULTIVATION


def test_the_funnel_counts_people_not_cases(tree, people, activist_case, member, secretary):
    """The member recommended on both tracks this year counts once at each step."""
    PromotionCase.objects.filter(pk=activist_case.pk).update(
        party_applied_on=date(2026, 1, 5), recommended_on=date(2026, 2, 2), activist_since=date(2026, 3, 2)
    )
    case_b = services.case_open(
        member=member, track=Track.DEVELOPMENT, party_applied_on=date(2026, 1, 5), actor=secretary
    )
    at_stage(case_b, Stage.RECOMMENDED, recommended_on=date(2026, 6, 1), valid_until=date(2028, 5, 31))
    services.plan_save(
        committee=tree["township_a"],
        year=2026,
        targets={(tree["branch_a1"].pk, Track.ACTIVIST.value): 2, (tree["branch_a1"].pk, Track.DEVELOPMENT.value): 1},
        note="",
        actor=people["township_a_staff"],
    )
    overview = selectors.county_overview([tree["township_a"], tree["township_b"]], year=2026, day=TODAY)
    funnel = {step.key: step.count for step in overview.funnel}
    assert funnel["applications"] == funnel["recommended"] == funnel["activists"] == 1
    assert {(p.track, p.actual) for p in overview.plan} == {(Track.ACTIVIST, 1), (Track.DEVELOPMENT, 1)}
    # Open cases by stage: the continued case is closed, the development case counted once.
    (row,) = [r for r in overview.rows if r.unit == tree["township_a"]]
    assert row.total == 1 and row.counts[Stage.RECOMMENDED] == 1


# --- 3. eligibility checked again at submission and at approval -----------------------------------


def _in_publicity(tree, people, members, *, actor, **listing):
    """Members listed in a round (with `listing`: an exception or a reason), voted, in publicity."""
    secretary = people["secretary_a1"]
    cases = [
        services.case_open(member=m, track=Track.ACTIVIST, party_applied_on=date(2025, 9, 1), actor=secretary)
        for m in members
    ]
    round_ = services.round_create(branch=tree["branch_a1"], track=Track.ACTIVIST, title="第一批", actor=secretary)
    nominations = [services.round_nominate(round=round_, case=c, actor=actor, **listing) for c in cases]
    services.round_open_opinions(round=round_, actor=secretary)
    services.round_record_vote(
        round=round_,
        meeting_on=TODAY,
        voting_members=10,
        present_members=8,
        votes={n.pk: (6, 1, 1) for n in nominations},
        actor=secretary,
    )
    services.round_start_publicity(round=round_, starts_on=TODAY, actor=secretary)
    return round_, cases


def _submit(round_, actor):
    with time_machine.travel(PUBLICITY_END + timedelta(days=1), tick=False):
        return services.round_submit(round=round_, actor=actor)


def _sanction(member, recorder, day=date(2026, 6, 12)):
    return Sanction.objects.create(member=member, kind="warning", imposed_on=day, reason="旷会", recorded_by=recorder)


def test_a_round_is_not_submitted_with_a_candidate_no_longer_eligible(tree, people, roster, secretary):
    round_, cases = _in_publicity(tree, people, roster[:2], actor=secretary)
    sanction = _sanction(roster[1], people["county_staff"])
    with pytest.raises(services.PromotionError) as refused:
        _submit(round_, secretary)
    (message,) = refused.value.messages
    assert message.startswith("团员1已不再符合条件：受警告处分（2026-06-12起），尚未解除。")
    assert "团员0" not in message
    assert stage_of(round_) == RoundStage.PUBLICITY
    assert {stage_of(c) for c in cases} == {Stage.PUBLICITY}
    sanction.lifted_on = date(2026, 6, 15)
    sanction.save()
    _submit(round_, secretary)
    assert {stage_of(c) for c in cases} == {Stage.IN_REVIEW}


def test_the_county_s_exception_given_at_listing_still_holds(tree, people, roster, secretary):
    """Unregistered when the county listed the member with an exception, still unregistered at
    submission: the exception stands. A sanction opened since is not covered by it."""
    Registration.objects.filter(member=roster[0]).delete()
    round_, (case,) = _in_publicity(
        tree, people, roster[:1], actor=people["county_staff"], exception_reason="县团委同意"
    )
    sanction = _sanction(roster[0], people["county_staff"])
    with pytest.raises(services.PromotionError, match="受警告处分"):
        _submit(round_, secretary)
    sanction.delete()
    _submit(round_, secretary)
    assert stage_of(case) == Stage.IN_REVIEW


def test_a_round_listed_in_december_is_submitted_and_approved_in_january(clock, tree, people):
    """Registration and grade are those of the year the round was listed in: January's submission is
    not held back by the new year's registration window nor by the evaluation of the year just ended."""
    clock.move_to("2025-12-10 09:00 +0800")
    members = [
        eligible_member(tree["branch_a1"], f"冬{i}", recorder=people["county_staff"], day=date(2025, 12, 1))
        for i in range(10)
    ]
    secretary = people["secretary_a1"]
    case = services.case_open(
        member=members[0], track=Track.ACTIVIST, party_applied_on=date(2025, 3, 1), actor=secretary
    )
    round_ = services.round_create(branch=tree["branch_a1"], track=Track.ACTIVIST, title="12月批次", actor=secretary)
    nomination = services.round_nominate(round=round_, case=case, actor=secretary)
    services.round_open_opinions(round=round_, actor=secretary)
    services.round_record_vote(
        round=round_,
        meeting_on=date(2025, 12, 10),
        voting_members=10,
        present_members=8,
        votes={nomination.pk: (6, 1, 1)},
        actor=secretary,
    )
    services.round_start_publicity(round=round_, starts_on=date(2025, 12, 10), actor=secretary)
    clock.move_to("2026-01-05 09:00 +0800")
    services.round_submit(round=round_, actor=secretary)
    services.case_review(case=case, decision="approve", comment="", actor=people["township_a_staff"])
    assert stage_of(case) == Stage.APPROVED


@pytest.fixture
def in_review(tree, people):
    return case_in_review(tree["branch_a1"], "李明", recorder=people["county_staff"])


def test_a_case_no_longer_eligible_is_not_approved_but_may_be_returned(people, in_review):
    reviewer = people["township_a_staff"]
    _sanction(in_review.member, people["county_staff"], day=date(2026, 6, 8))
    with pytest.raises(services.PromotionError) as refused:
        services.case_review(case=in_review, decision="approve", comment="", actor=reviewer)
    assert refused.value.messages == [
        "李明已不再符合条件：受警告处分（2026-06-08起），尚未解除。 不能审核通过：请退回团支部或不予通过。"
    ]
    assert stage_of(in_review) == Stage.IN_REVIEW
    assert not in_review.transitions.exists()
    services.case_review(case=in_review, decision="return", comment="受处分，请核实", actor=reviewer)
    assert stage_of(in_review) == Stage.RETURNED


def test_a_case_no_longer_eligible_may_be_rejected(people, in_review):
    in_review.member.__class__.objects.filter(pk=in_review.member_id).update(birth_date=date(1998, 6, 1))
    with pytest.raises(services.PromotionError, match="已到离团年龄"):
        services.case_review(case=in_review, decision="approve", comment="", actor=people["county_staff"])
    services.case_review(case=in_review, decision="reject", comment="已超龄", actor=people["county_staff"])
    assert stage_of(in_review) == Stage.REJECTED


def test_a_returned_case_is_resubmitted_only_while_eligible(people, in_review, secretary):
    services.case_review(case=in_review, decision="return", comment="请补充", actor=people["township_a_staff"])
    Registration.objects.filter(member=in_review.member).delete()
    with pytest.raises(services.PromotionError, match="未完成2026年度团籍注册"):
        services.case_resubmit(case=in_review, comment="已补充", actor=secretary)
    assert stage_of(in_review) == Stage.RETURNED
    Registration.objects.create(member=in_review.member, year=2026, registered_on=TODAY, recorded_by=secretary)
    services.case_resubmit(case=in_review, comment="已补充", actor=secretary)
    services.case_review(case=in_review, decision="approve", comment="", actor=people["township_a_staff"])
    assert stage_of(in_review) == Stage.APPROVED


# --- 4. a returned case back to cultivation ---------------------------------------------------------


@pytest.fixture
def returned(people, in_review):
    return services.case_review(
        case=in_review, decision="return", comment="培养时间不足", actor=people["township_a_staff"]
    )


def test_a_returned_case_goes_back_to_cultivation_with_the_reason(people, returned, secretary):
    steps, audit = returned.transitions.count(), entries(returned)
    with pytest.raises(services.PromotionError) as refused:
        services.case_back_to_cultivation(case=returned, reason="  ", actor=secretary)
    assert "reason" in refused.value.message_dict
    services.case_back_to_cultivation(case=returned, reason="继续培养一个季度", actor=secretary)
    returned.refresh_from_db()
    assert returned.stage == Stage.CULTIVATION
    step = returned.transitions.last()
    assert (step.action, step.from_stage, step.to_stage, step.comment, step.actor) == (
        "back_to_cultivation",
        Stage.RETURNED,
        Stage.CULTIVATION,
        "继续培养一个季度",
        secretary,
    )
    assert (returned.transitions.count(), entries(returned)) == (steps + 1, audit + 1)
    entry = LogEntry.objects.get_for_object(returned).order_by("-pk").first()
    assert entry.changes_dict["stage"] == [Stage.RETURNED, Stage.CULTIVATION]
    # The earlier listing and its vote stay on record; a later round lists the case afresh.
    assert Nomination.objects.filter(case=returned, votes_for=7).exists()
    later = PromotionRound.objects.create(
        branch=returned.branch, track=returned.track, title="第二批", created_by=secretary
    )
    county = people["county_staff"]  # the branch's one member is over its 20% share: the county allows it
    services.round_nominate(round=later, case=returned, actor=county, exception_reason="支部人数少")
    assert stage_of(returned) == Stage.NOMINATED


def test_only_the_branch_takes_a_case_back(people, returned):
    assert "back_to_cultivation" in services.next_actions(returned, people["secretary_a1"])
    for outsider in ("secretary_b1", "party_a", "nobody"):
        assert "back_to_cultivation" not in services.next_actions(returned, people[outsider])
        with pytest.raises(services.PermissionDenied):
            services.case_back_to_cultivation(case=returned, reason="继续培养", actor=people[outsider])
    assert stage_of(returned) == Stage.RETURNED


# --- 5. the lapse task ---------------------------------------------------------------------------


def test_the_lapse_task_acknowledges_late_and_retries_a_lost_connection(member, secretary):
    at_stage(make_case(member, recorder=secretary), Stage.RECOMMENDED, valid_until=date(2026, 6, 1))
    assert tasks.lapse_cases.acks_late is True
    assert tasks.lapse_cases.autoretry_for == (OperationalError,)
    real = services.lapse_expired_cases
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real()

    with mock.patch.object(tasks, "lapse_expired_cases", side_effect=flaky):
        result = tasks.lapse_cases.apply()
    assert (result.get(), len(calls)) == (1, 2)  # retried once, then lapsed the case
    assert tasks.lapse_cases.apply().get() == 0  # run again: nothing left to lapse
    assert PromotionCase.objects.filter(stage=Stage.LAPSED).count() == 1
