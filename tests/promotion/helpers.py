"""Builders shared by the 推优 tests: members who pass every rule on a given day, cases (written
directly or opened through the service), a round's list. Fixtures are in conftest.py."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from branches.models import Organization, User
from members.models import Evaluation, Member, Registration
from promotion import services
from promotion.models import Nomination, PromotionCase, PromotionRound, Track
from tests.conftest import make_member

TODAY = date(2026, 6, 10)  # a Wednesday
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PUBLICITY_END = date(2026, 6, 16)  # five working days from Wednesday 10 June


def eligible_member(branch: Organization, name: str, *, recorder: User, day: date = TODAY, **fields) -> Member:
    """Aged 26, in the League for 11 years, registered this year, graded qualified last year."""
    fields.setdefault("birth_date", date(2000, 3, 1))
    fields.setdefault("joined_on", date(2015, 5, 4))
    member = make_member(branch, name, **fields)
    Registration.objects.create(member=member, year=day.year, registered_on=date(day.year, 1, 15), recorded_by=recorder)
    Evaluation.objects.create(member=member, year=day.year - 1, grade="qualified", recorded_by=recorder)
    return member


def make_case(
    member: Member,
    *,
    recorder: User,
    track: str = Track.ACTIVIST,
    party_applied_on: date = date(2025, 9, 1),
    **fields,
) -> PromotionCase:
    """A case in cultivation, written directly (services are tested on their own)."""
    return PromotionCase.objects.create(
        member=member,
        branch=member.branch,
        track=track,
        party_applied_on=party_applied_on,
        created_by=recorder,
        **fields,
    )


def at_stage(case: PromotionCase, stage: str, **dates) -> PromotionCase:
    """Put a case at a stage directly (the stage field refuses assignment: a queryset update does not),
    for tests of what each stage allows."""
    PromotionCase.objects.filter(pk=case.pk).update(stage=stage, **dates)
    return PromotionCase.objects.select_related("branch", "member").get(pk=case.pk)


def open_case(member: Member, actor: User, **fields) -> PromotionCase:
    """A case opened through the service: on the activist track, applied in September 2025, unless told."""
    fields.setdefault("track", Track.ACTIVIST)
    fields.setdefault("party_applied_on", date(2025, 9, 1))
    return services.case_open(member=member, actor=actor, **fields)


def listed(round_: PromotionRound, cases: list[PromotionCase], actor: User) -> list[Nomination]:
    """The cases put on the round's preliminary list."""
    return [services.round_nominate(round=round_, case=case, actor=actor) for case in cases]


def stage_of(obj: PromotionCase | PromotionRound) -> str:
    """The stage stored now (the object in hand may be stale)."""
    return type(obj).objects.get(pk=obj.pk).stage
