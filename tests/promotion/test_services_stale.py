"""推优 services check the actor against the row they lock, not the object passed in: a case (or a
member) read before it moved to another branch must not let the old branch's workers act on it."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from members.models import Member
from promotion import services
from promotion.models import PromotionCase, Stage
from tests.promotion.helpers import at_stage, eligible_member, make_case

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def member(tree, people):
    return eligible_member(tree["branch_a1"], "张三", recorder=people["county_staff"])


def moved_to_b1(tree, *objects):
    """The member (and their cases) now belong to branch B1; the objects the caller holds do not know."""
    for obj in objects:
        model = type(obj)
        model.objects.filter(pk=obj.pk).update(branch=tree["branch_b1"])


def test_a_case_moved_away_refuses_the_old_branch(tree, people, member):
    case = make_case(member, recorder=people["secretary_a1"])
    stale = PromotionCase.objects.select_related("branch", "member").get(pk=case.pk)
    moved_to_b1(tree, member, case)
    secretary = people["secretary_a1"]
    with pytest.raises(PermissionDenied):
        services.talk_record(case=stale, held_on=date(2026, 6, 1), held_by="李书记", summary="谈心", actor=secretary)
    with pytest.raises(PermissionDenied):
        services.cultivation_report_file(case=stale, year=2026, quarter=1, content="培养", actor=secretary)
    with pytest.raises(PermissionDenied):
        services.case_withdraw(case=stale, reason="本人申请", actor=secretary)
    assert PromotionCase.objects.get(pk=case.pk).stage == Stage.CULTIVATION
    assert not case.talks.exists() and not case.cultivation_reports.exists()
    # The new branch's secretary may.
    services.talk_record(
        case=stale, held_on=date(2026, 6, 1), held_by="乙书记", summary="谈心", actor=people["secretary_b1"]
    )


def test_a_case_in_review_moved_away_is_not_reviewed_by_the_old_township(tree, people, member):
    case = at_stage(make_case(member, recorder=people["secretary_a1"]), Stage.IN_REVIEW)
    moved_to_b1(tree, member, case)
    with pytest.raises(PermissionDenied):
        services.case_review(case=case, decision="approve", comment="", actor=people["township_a_staff"])
    assert PromotionCase.objects.get(pk=case.pk).stage == Stage.IN_REVIEW


def test_a_member_moved_away_gets_no_case_from_the_old_branch(tree, people, member):
    stale = Member.objects.select_related("branch").get(pk=member.pk)
    moved_to_b1(tree, member)
    with pytest.raises(PermissionDenied):
        services.case_open(
            member=stale, track="activist", party_applied_on=date(2025, 9, 1), actor=people["secretary_a1"]
        )
    assert not PromotionCase.objects.filter(member=member).exists()
