"""The transition table, exhaustively: every (stage, transition) pair of the case's state machine, and
every case-level service at every stage. Allowed steps succeed and leave exactly one CaseTransition and
one audit entry on the case; every other pair is refused and changes nothing."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.forms.models import model_to_dict

from members.models import Member
from promotion import services
from promotion.models import (
    CULTIVATION_STAGES,
    FOLLOW_UP_STAGES,
    OPEN_STAGES,
    PARTY_STAGES,
    TERMINAL_STAGES,
    CaseTransition,
    CultivationReport,
    FollowUpReport,
    Nomination,
    PromotionCase,
    PromotionRound,
    Stage,
    Talk,
)
from tests.promotion.helpers import TODAY, at_stage, eligible_member, make_case

pytestmark = pytest.mark.usefixtures("clock")

# Dates a case at each stage would have, so that the Party's decisions find their predecessors.
STAGE_DATES = {
    Stage.RECOMMENDED: {"recommended_on": date(2026, 3, 2), "valid_until": date(2028, 3, 1)},
    Stage.ACTIVIST: {"recommended_on": date(2026, 3, 2), "activist_since": date(2026, 4, 1)},
    Stage.DEVELOPMENT: {
        "recommended_on": date(2025, 3, 3),
        "activist_since": date(2025, 4, 1),
        "development_on": date(2026, 5, 6),
    },
    # Lapsed on 3 March 2026: a decision of the Party dated until then may still be recorded.
    Stage.LAPSED: {"recommended_on": date(2024, 3, 4), "valid_until": date(2026, 3, 3), "closed_on": date(2026, 3, 4)},
    Stage.PROBATIONARY: {
        "recommended_on": date(2024, 3, 4),
        "activist_since": date(2024, 4, 1),
        "development_on": date(2025, 5, 6),
        "probationary_on": date(2025, 6, 1),
    },
}
TRANSITIONS = {t.name: t for t in PromotionCase().get_all_stage_transitions()}


def _table() -> dict[str, dict[str, str]]:
    """transition → {source stage: target stage}, read from the model's decorated methods."""
    table: dict[str, dict[str, str]] = {}
    for transition in PromotionCase().get_all_stage_transitions():
        table.setdefault(transition.name, {})[transition.source] = transition.target
    return table


TABLE = _table()


@pytest.fixture
def case_at(tree, people):
    counter = iter(range(1000))

    def _case_at(stage: str) -> PromotionCase:
        member = eligible_member(tree["branch_a1"], f"团员{next(counter)}", recorder=people["county_staff"])
        case = make_case(member, recorder=people["secretary_a1"])
        return at_stage(case, stage, **STAGE_DATES.get(stage, {}))

    return _case_at


def _snapshot(case: PromotionCase) -> tuple:
    """Everything a refused step must leave as it was."""
    return (
        model_to_dict(PromotionCase.objects.get(pk=case.pk)),
        CaseTransition.objects.count(),
        LogEntry.objects.count(),
        CultivationReport.objects.count(),
        FollowUpReport.objects.count(),
        Talk.objects.count(),
        list(Nomination.objects.values()),
        Member.objects.get(pk=case.member_id).political_status,
    )


def _case_entries(case: PromotionCase) -> int:
    return LogEntry.objects.get_for_object(case).count()


def test_the_table_is_what_the_issue_describes():
    assert TABLE["nominate"] == {Stage.CULTIVATION: Stage.NOMINATED}
    assert TABLE["submit_for_review"] == {Stage.PUBLICITY: Stage.IN_REVIEW, Stage.RETURNED: Stage.IN_REVIEW}
    assert set(TABLE["withdraw"]) == OPEN_STAGES
    assert set(TABLE["party_does_not_adopt"]) == PARTY_STAGES
    assert TABLE["lapse"] == {Stage.RECOMMENDED: Stage.LAPSED}
    assert TABLE["party_names_activist"] == {Stage.RECOMMENDED: Stage.ACTIVIST, Stage.LAPSED: Stage.ACTIVIST}
    assert set(TABLE["party_names_development_candidate"]) == {Stage.RECOMMENDED, Stage.ACTIVIST, Stage.LAPSED}
    assert TABLE["continue_on_development_track"] == {Stage.ACTIVIST: Stage.CONTINUED}
    assert TABLE["back_to_cultivation"] == {Stage.RETURNED: Stage.CULTIVATION}
    assert Stage.CONTINUED in TERMINAL_STAGES and Stage.CONTINUED not in OPEN_STAGES


def test_the_stage_cannot_be_assigned(case_at):
    case = case_at(Stage.CULTIVATION)
    with pytest.raises(AttributeError):
        case.stage = Stage.APPROVED


@pytest.mark.parametrize("transition", sorted(TABLE))
def test_every_stage_against_every_transition(case_at, people, transition):
    actor = people["secretary_a1"]
    for stage in Stage.values:
        case = case_at(stage)
        if stage in TABLE[transition]:
            services._step(case, transition, actor=actor, comment="测试")
            case.refresh_from_db()
            assert case.stage == TABLE[transition][stage], (transition, stage)
            (step,) = case.transitions.all()
            assert (step.action, step.from_stage, step.to_stage, step.actor) == (
                transition,
                stage,
                case.stage,
                actor,
            )
            (entry,) = LogEntry.objects.get_for_object(case)
            assert entry.changes_dict["stage"] == [stage, case.stage]
            assert entry.actor == actor
            assert entry.additional_data == {"note": "测试"}
        else:
            before = _snapshot(case)
            with pytest.raises(services.PromotionError) as refused:
                services._step(case, transition, actor=actor)
            assert "在当前阶段不能" in refused.value.messages[0], (transition, stage)
            assert _snapshot(case) == before, (transition, stage)


def _case_services(tree, people) -> dict[str, tuple]:
    """Each case-level service, and the stages where it is allowed."""
    county, secretary = people["county_staff"], people["secretary_a1"]
    round = PromotionRound.objects.create(
        branch=tree["branch_a1"], track="activist", title="第一批", created_by=secretary
    )

    def decide(decision):
        # Within the recommendation's validity (a lapsed one's ended before today).
        return lambda c: services.case_record_party_decision(
            case=c, decision=decision, decided_on=min(TODAY, c.valid_until or TODAY), actor=secretary
        )

    def review(decision):
        return lambda c: services.case_review(case=c, decision=decision, comment="意见", actor=county)

    return {
        "nominate": (
            lambda c: services.round_nominate(round=round, case=c, actor=county, exception_reason="支部人数少"),
            {Stage.CULTIVATION},
        ),
        "approve": (review("approve"), {Stage.IN_REVIEW}),
        "return": (review("return"), {Stage.IN_REVIEW}),
        "reject": (review("reject"), {Stage.IN_REVIEW}),
        "resubmit": (
            lambda c: services.case_resubmit(case=c, comment="已补充材料", actor=secretary),
            {Stage.RETURNED},
        ),
        "back_to_cultivation": (
            lambda c: services.case_back_to_cultivation(case=c, reason="需继续培养", actor=secretary),
            {Stage.RETURNED},
        ),
        "hand_over": (
            lambda c: services.case_hand_over(case=c, handed_over_on=TODAY, actor=secretary),
            {Stage.APPROVED},
        ),
        "activist": (decide("activist"), {Stage.RECOMMENDED, Stage.LAPSED}),
        "development": (decide("development"), {Stage.RECOMMENDED, Stage.ACTIVIST, Stage.LAPSED}),
        "probationary": (decide("probationary"), {Stage.DEVELOPMENT}),
        "full": (decide("full"), {Stage.PROBATIONARY}),
        "not_adopted": (decide("not_adopted"), set(PARTY_STAGES)),
        "withdraw": (lambda c: services.case_withdraw(case=c, reason="本人申请", actor=secretary), set(OPEN_STAGES)),
        "cultivation_report": (
            lambda c: services.cultivation_report_file(case=c, year=2026, quarter=2, content="表现好", actor=secretary),
            set(CULTIVATION_STAGES),
        ),
        "follow_up_report": (
            lambda c: services.follow_up_report_file(
                case=c, month=date(2026, 6, 1), thinking="端正", work="积极", study="认真", actor=secretary
            ),
            set(FOLLOW_UP_STAGES),
        ),
        "talk": (
            lambda c: services.talk_record(case=c, held_on=TODAY, held_by="支部书记", summary="谈心", actor=secretary),
            set(OPEN_STAGES),
        ),
    }


SERVICE_NAMES = [
    "nominate",
    "approve",
    "return",
    "reject",
    "resubmit",
    "back_to_cultivation",
    "hand_over",
    "activist",
    "development",
    "probationary",
    "full",
    "not_adopted",
    "withdraw",
    "cultivation_report",
    "follow_up_report",
    "talk",
]


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_every_case_service_at_every_stage(tree, people, case_at, name):
    call, allowed = _case_services(tree, people)[name]
    for stage in Stage.values:
        case = case_at(stage)
        if stage in allowed:
            transitions, entries = case.transitions.count(), _case_entries(case)
            call(case)
            case.refresh_from_db()
            moved = case.stage != stage
            assert case.transitions.count() == transitions + moved, (name, stage)
            assert _case_entries(case) == entries + moved, (name, stage)
        else:
            before = _snapshot(case)
            with pytest.raises(services.PromotionError):
                call(case)
            assert _snapshot(case) == before, (name, stage)


def test_the_services_cover_the_table():
    """Every transition is reachable through some service (round-driven ones through the rounds)."""
    round_driven = {"remove_from_list", "pass_vote", "fail_vote", "start_publicity", "uphold_objection"}
    opening_track_b = {"continue_on_development_track"}  # services.case_open
    case_level = {
        "nominate",
        "approve",
        "return_to_branch",
        "reject",
        "submit_for_review",
        "back_to_cultivation",
        "hand_over",
        *services.PARTY_DECISIONS.values(),
        "withdraw",
        "lapse",
    }
    assert set(TABLE) == round_driven | opening_track_b | case_level
