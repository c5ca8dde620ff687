"""Builders for the committee, county and Party organizer pages: cases at the stages those pages show,
written directly with the figures a round would have left (the services are tested on their own)."""

from __future__ import annotations

from datetime import date, timedelta

from branches.models import Organization, PartyOrganization, User
from promotion.models import (
    Nomination,
    Objection,
    Opinion,
    OpinionSource,
    PromotionCase,
    PromotionRound,
    RoundStage,
    Stage,
)
from tests.promotion.helpers import NOW, TODAY, at_stage, eligible_member, make_case


def case_in_review(
    branch: Organization, name: str, *, recorder: User, waiting_days: int = 3, objection: bool = False
) -> PromotionCase:
    """A case the branch submitted `waiting_days` ago after a round: listed, 3 opinions (one against),
    voted 9 of 10 present, 7 for, publicized (with a dismissed objection if asked)."""
    member = eligible_member(branch, name, recorder=recorder)
    case = make_case(member, recorder=recorder)
    round_ = PromotionRound.objects.create(
        branch=branch,
        track=case.track,
        title=f"{name}的批次",
        stage=RoundStage.SUBMITTED,
        meeting_on=TODAY - timedelta(days=20),
        voting_members=10,
        present_members=9,
        publicity_starts_on=TODAY - timedelta(days=15),
        publicity_ends_on=TODAY - timedelta(days=9),
        created_by=recorder,
    )
    nomination = Nomination.objects.create(
        round=round_, case=case, votes_for=7, votes_against=1, votes_abstaining=1, passed=True
    )
    for source, favourable in [
        (OpinionSource.PARTY_MEMBERS, True),
        (OpinionSource.LEAGUE_MEMBERS, True),
        (OpinionSource.PARTY_ORGANIZATION, False),
    ]:
        Opinion.objects.create(
            nomination=nomination, source=source, content="意见", favourable=favourable, recorded_by=recorder
        )
    if objection:
        Objection.objects.create(
            nomination=nomination,
            received_on=TODAY - timedelta(days=12),
            content="反映情况",
            resolution="不属实",
            upheld=False,
            resolved_on=TODAY - timedelta(days=10),
            recorded_by=recorder,
        )
    return at_stage(case, Stage.IN_REVIEW, stage_since=NOW - timedelta(days=waiting_days))


def handed_over_case(
    branch: Organization,
    name: str,
    *,
    recorder: User,
    party: PartyOrganization,
    stage: str = Stage.RECOMMENDED,
    recommended_on: date = date(2026, 3, 2),
    **fields,
) -> PromotionCase:
    """A case handed over to `party` on `recommended_on`, valid two years."""
    member = eligible_member(branch, name, recorder=recorder, phone="13912345678")
    case = make_case(member, recorder=recorder)
    return at_stage(
        case,
        stage,
        party_organization=party,
        recommended_on=recommended_on,
        valid_until=recommended_on.replace(year=recommended_on.year + 2) - timedelta(days=1),
        **fields,
    )
