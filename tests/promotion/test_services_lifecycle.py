"""Cases follow their member's life (leaving, transfers), lapse when the Party does not act in time,
and the yearly plan."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied

from members import lifecycle, transfers
from promotion import selectors, services
from promotion.models import Nomination, PlanTarget, PromotionCase, PromotionPlan, RoundStage, Stage
from promotion.tasks import lapse_cases
from tests.promotion.helpers import TODAY, at_stage, eligible_member, make_case

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def member(tree, people):
    return eligible_member(tree["branch_a1"], "王芳", recorder=people["county_staff"])


@pytest.fixture
def cases(member, people):
    """An activist-track case in cultivation and a development-track case waiting for review."""
    secretary = people["secretary_a1"]
    activist = services.case_open(member=member, track="activist", party_applied_on=date(2025, 9, 1), actor=secretary)
    development = make_case(member, recorder=secretary, track="development", activist_since=date(2024, 1, 1))
    return activist, at_stage(development, Stage.IN_REVIEW)


def test_a_member_who_leaves_takes_their_open_cases_with_them(people, member, cases):
    lifecycle.member_leave(
        actor=people["secretary_a1"], member=member, status="withdrawn", on_date=TODAY, reason="本人申请退团"
    )
    for case in cases:
        case.refresh_from_db()
        assert (case.stage, case.closed_on) == (Stage.WITHDRAWN, TODAY)
        assert case.closing_reason == "团员已离团（退团）。 本人申请退团"
        step = case.transitions.last()
        assert (step.action, step.actor) == ("withdraw", people["secretary_a1"])


def test_leaving_for_another_county_closes_the_cases(people, member, cases):
    transfers.transfer_out_of_county(
        actor=people["secretary_a1"], member=member, destination="邻县某村团支部", on_date=TODAY
    )
    assert {PromotionCase.objects.get(pk=c.pk).stage for c in cases} == {Stage.WITHDRAWN}


def test_closed_cases_stay_closed_when_the_member_leaves(people, member, cases):
    rejected = at_stage(cases[1], Stage.REJECTED)
    lifecycle.member_leave(actor=people["secretary_a1"], member=member, status="lapsed", on_date=TODAY, reason="失联")
    assert PromotionCase.objects.get(pk=rejected.pk).stage == Stage.REJECTED


def test_a_transfer_in_the_county_moves_the_open_cases(tree, people, member, cases):
    round_ = services.round_create(
        branch=tree["branch_a1"], track="activist", title="第一批", actor=people["county_staff"]
    )
    nomination = services.round_nominate(
        round=round_, case=cases[0], actor=people["county_staff"], exception_reason="支部人少"
    )
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    transfers.transfer_approve(actor=people["secretary_b1"], transfer=transfer)
    listed, in_review = (PromotionCase.objects.get(pk=c.pk) for c in cases)
    assert listed.branch == in_review.branch == tree["branch_b1"]
    assert listed.stage == Stage.CULTIVATION  # the new branch lists its own candidates
    assert Nomination.objects.get(pk=nomination.pk).removed_at is not None
    assert in_review.stage == Stage.IN_REVIEW
    assert list(in_review.transitions.values_list("action", "actor__username")) == [("move", "secretary_b1")]
    moved = LogEntry.objects.get_for_object(in_review).get()
    assert moved.changes_dict == {"branch": ["甲一村团支部", "乙一村团支部"]}
    # The receiving branch now works on the cases; the sending one no longer sees them.
    assert services.can_work_on_branch(people["secretary_b1"], in_review.branch)
    assert not PromotionCase.objects.visible_to(people["secretary_a1"]).exists()


@pytest.mark.parametrize("stage", [Stage.RECOMMENDED, Stage.PROBATIONARY])
def test_a_member_who_leaves_after_the_hand_over_keeps_the_party_stage_case(people, member, stage):
    """Handed over to the Party: leaving the League (over age, mostly) does not close the case; the
    Party's decisions are still recorded, and follow-up reports are no longer due."""
    secretary = people["secretary_a1"]
    case = at_stage(
        make_case(member, recorder=secretary),
        stage,
        recommended_on=date(2026, 1, 5),
        valid_until=date(2028, 1, 4),
        activist_since=date(2026, 2, 1),
        development_on=date(2026, 3, 1),
        probationary_on=date(2026, 4, 1) if stage == Stage.PROBATIONARY else None,
    )
    if stage == Stage.RECOMMENDED:
        assert selectors.due_reports(PromotionCase.objects.filter(pk=case.pk), TODAY)
    lifecycle.member_leave(actor=secretary, member=member, status="withdrawn", on_date=TODAY, reason="本人申请")
    case.refresh_from_db()
    assert case.stage == stage
    assert selectors.due_reports(PromotionCase.objects.filter(pk=case.pk), TODAY) == {}
    decision = "development" if stage == Stage.RECOMMENDED else "full"
    services.case_record_party_decision(case=case, decision=decision, decided_on=TODAY, actor=secretary)
    assert PromotionCase.objects.get(pk=case.pk).stage in (Stage.DEVELOPMENT, Stage.FULL_MEMBER)


def round_in(stage, tree, people, case):
    """A round of branch A1 with `case` listed and taken through the vote (and publicity)."""
    secretary = people["county_staff"]
    round_ = services.round_create(branch=tree["branch_a1"], track="activist", title="第一批", actor=secretary)
    nomination = services.round_nominate(round=round_, case=case, actor=secretary, exception_reason="支部人少")
    services.round_open_opinions(round=round_, actor=secretary)
    services.round_record_vote(
        round=round_,
        meeting_on=TODAY,
        voting_members=1,  # the whole roster: 王芳 alone
        present_members=1,
        votes={nomination.pk: (1, 0, 0)},
        actor=secretary,
    )
    if stage == Stage.PUBLICITY:
        services.round_start_publicity(round=round_, starts_on=TODAY, actor=secretary)
    return round_, nomination


@pytest.mark.parametrize("stage", [Stage.VOTED, Stage.PUBLICITY])
def test_a_member_moving_after_the_vote_leaves_the_old_branch_round(tree, people, member, cases, stage):
    round_, nomination = round_in(stage, tree, people, cases[0])
    assert PromotionCase.objects.get(pk=cases[0].pk).stage == stage
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    transfers.transfer_approve(actor=people["secretary_b1"], transfer=transfer)
    moved = PromotionCase.objects.get(pk=cases[0].pk)
    assert (moved.stage, moved.branch) == (Stage.CULTIVATION, tree["branch_b1"])
    assert list(moved.transitions.values_list("action", flat=True))[-2:] == ["remove_from_list", "move"]
    kept = Nomination.objects.get(pk=nomination.pk)
    assert kept.removed_at is not None and kept.votes_for == 1  # the vote stays on record
    round_.refresh_from_db()
    assert round_.stage == RoundStage.CLOSED  # nobody left in it
    # The old branch's secretary can no longer act on it through the old round.
    with pytest.raises(services.PromotionError):
        services.round_start_publicity(round=round_, starts_on=TODAY, actor=people["secretary_a1"])


def test_recommendations_lapse_after_their_validity_once(people, member):
    secretary = people["secretary_a1"]
    case = at_stage(
        make_case(member, recorder=secretary),
        Stage.RECOMMENDED,
        recommended_on=date(2024, 6, 10),
        valid_until=date(2026, 6, 9),
    )
    still_valid = at_stage(
        make_case(member, recorder=secretary, track="development", activist_since=date(2024, 1, 1)),
        Stage.RECOMMENDED,
        recommended_on=date(2024, 6, 11),
        valid_until=TODAY,
    )
    assert services.lapse_expired_cases(TODAY - timedelta(days=1)) == 0
    assert lapse_cases() == 1  # the daily task, today
    assert lapse_cases() == 0
    case.refresh_from_db()
    assert (case.stage, case.closed_on) == (Stage.LAPSED, TODAY)
    step = case.transitions.get()
    assert (step.action, step.actor) == ("lapse", None)
    assert step.comment == "推荐有效期至2026-06-09，党组织未在有效期内确定。"
    assert LogEntry.objects.get_for_object(case).get().actor is None
    assert PromotionCase.objects.get(pk=still_valid.pk).stage == Stage.RECOMMENDED


def test_the_lapse_sweep_works_in_batches(people, tree, monkeypatch):
    monkeypatch.setattr(services, "LAPSE_BATCH", 2)
    for i in range(5):
        member = eligible_member(tree["branch_a1"], f"到期{i}", recorder=people["county_staff"])
        at_stage(make_case(member, recorder=people["secretary_a1"]), Stage.RECOMMENDED, valid_until=date(2026, 1, 1))
    assert services.lapse_expired_cases(TODAY) == 5
    assert PromotionCase.objects.filter(stage=Stage.LAPSED).count() == 5


# --- the yearly plan ---------------------------------------------------------------------------------


def test_a_township_plans_its_year_and_changes_it(tree, people):
    staff = people["township_a_staff"]
    a1, ag1 = tree["branch_a1"].pk, tree["branch_ag1"].pk
    plan = services.plan_save(
        committee=tree["township_a"],
        year=2026,
        targets={(a1, "activist"): 3, (a1, "development"): 1, (ag1, "activist"): 2},
        note="与镇党委发展计划衔接",
        actor=staff,
    )
    assert plan.targets.count() == 3
    services.plan_save(
        committee=tree["township_a"],
        year=2026,
        targets={(a1, "activist"): 4, (ag1, "activist"): 0},
        note="调整",
        actor=staff,
    )
    assert set(PlanTarget.objects.values_list("organization_id", "track", "target")) == {(a1, "activist", 4)}
    assert PromotionPlan.objects.get().note == "调整"
    assert LogEntry.objects.filter(actor=staff).count() >= 5  # plan, targets created, changed, removed


def test_a_plan_covers_units_under_the_committee_only(tree, people):
    with pytest.raises(services.PromotionError):
        services.plan_save(
            committee=tree["township_a"],
            year=2026,
            targets={(tree["branch_b1"].pk, "activist"): 1},
            note="",
            actor=people["county_staff"],
        )
    with pytest.raises(PermissionDenied):
        services.plan_save(
            committee=tree["township_a"], year=2026, targets={}, note="", actor=people["township_b_staff"]
        )
    with pytest.raises(services.PromotionError):
        services.plan_save(committee=tree["township_a"], year=2030, targets={}, note="", actor=people["county_staff"])
    with pytest.raises(services.PromotionError):
        services.plan_save(committee=tree["branch_a1"], year=2026, targets={}, note="", actor=people["county_staff"])
    assert not PromotionPlan.objects.exists()


def test_the_daily_lapse_is_scheduled_by_a_migration(db):
    """Run the data migration's function again (a transactional test may have flushed its row): it
    creates the daily schedule once."""
    from importlib import import_module

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    create_schedule = import_module("promotion.migrations.0004_schedule_lapse").create_schedule
    create_schedule(apps, None)
    create_schedule(apps, None)
    task = PeriodicTask.objects.get(task="promotion.lapse_cases")
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("1", "20")
