"""Where a member's branch and a case's stage stood on a past day (reports/quarterly/history.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from members.models import Member, TransferStatus
from promotion.models import CaseTransition, PromotionCase, Stage
from reports.quarterly.history import (
    case_stage_at,
    case_stage_since_at,
    end_of,
    member_branch_path_at,
    member_branch_path_joined,
)
from tests.conftest import make_member, make_user
from tests.reports.quarterly_data import TZ, at, case, moved


@pytest.fixture
def recorder(db):
    return make_user("recorder")


def path_at(member, day):
    return Member.objects.annotate(p=member_branch_path_at(day)).get(pk=member.pk).p


def test_the_branch_on_a_day_is_the_one_the_next_transfer_left(tree, recorder):
    a1, b1, ag1 = tree["branch_a1"], tree["branch_b1"], tree["branch_ag1"]
    person = make_member(ag1, "转两次")
    moved(person, a1, b1, date(2026, 5, 5), recorder)
    moved(person, b1, ag1, date(2026, 7, 10), recorder)
    rejected = moved(person, ag1, a1, date(2026, 8, 1), recorder)
    rejected.status = TransferStatus.REJECTED
    rejected.save()
    assert path_at(person, date(2026, 4, 30)) == a1.path
    assert path_at(person, date(2026, 5, 4)) == a1.path
    assert path_at(person, date(2026, 5, 5)) == b1.path  # decided that day: the day ends in B1
    assert path_at(person, date(2026, 6, 30)) == b1.path
    assert path_at(person, date(2026, 7, 10)) == ag1.path
    assert path_at(person, date(2026, 9, 1)) == ag1.path  # the rejected transfer moved nobody


def test_a_move_out_of_the_county_keeps_the_branch(tree, recorder):
    person = make_member(tree["branch_a1"], "外转")
    moved(person, tree["branch_a1"], None, date(2026, 6, 10), recorder)
    assert path_at(person, date(2026, 6, 1)) == tree["branch_a1"].path


def test_the_branch_of_a_cases_member_on_a_day(tree, recorder):
    person = make_member(tree["branch_b1"], "推优转")
    moved(person, tree["branch_a1"], tree["branch_b1"], date(2026, 7, 10), recorder)
    promoted = case(
        person, tree["branch_b1"], recorder, applied=date(2026, 1, 1), steps=[(date(2026, 3, 1), Stage.CULTIVATION)]
    )
    cases = PromotionCase.objects.filter(pk=promoted.pk)
    assert cases.annotate(p=member_branch_path_at(date(2026, 6, 30), member="member")).get().p == tree["branch_a1"].path
    transitions = CaseTransition.objects.filter(case=promoted)
    assert {t.p for t in transitions.annotate(p=member_branch_path_at(date(2026, 7, 10), member="case__member"))} == {
        tree["branch_b1"].path
    }


def joined_in(member):
    return Member.objects.annotate(p=member_branch_path_joined()).get(pk=member.pk).p


def test_the_branch_joined_in_is_the_one_the_first_transfer_since_joining_left(tree, recorder):
    a1, b1, ag1 = tree["branch_a1"], tree["branch_b1"], tree["branch_ag1"]
    twice = make_member(ag1, "入团后转两次", joined_on=date(2026, 4, 3))
    moved(twice, a1, b1, date(2026, 5, 20), recorder)
    moved(twice, b1, ag1, date(2026, 7, 1), recorder)
    assert joined_in(twice) == a1.path
    # A transfer decided at midnight of the joining day (county time) moves the member after joining;
    # one decided a minute before had nothing to do with the joining.
    same_day = make_member(b1, "当天转", joined_on=date(2026, 6, 1))
    transfer = moved(same_day, a1, b1, date(2026, 6, 1), recorder)
    transfer.decided_at = datetime(2026, 6, 1, 0, 0, tzinfo=TZ)
    transfer.save()
    assert joined_in(same_day) == a1.path
    transfer.decided_at = datetime(2026, 5, 31, 23, 59, tzinfo=TZ)
    transfer.save()
    assert joined_in(same_day) == b1.path
    assert joined_in(make_member(b1, "没转过", joined_on=date(2026, 6, 1))) == b1.path


def stage_at(case, day):
    return PromotionCase.objects.annotate(s=case_stage_at(end_of(day))).get(pk=case.pk).s


def since_at(case, day):
    return PromotionCase.objects.annotate(s=case_stage_since_at(end_of(day))).get(pk=case.pk).s


def test_the_stage_on_a_day_comes_from_the_transitions(tree, recorder):
    member = make_member(tree["branch_a1"], "推优")
    promoted = case(
        member, tree["branch_a1"], recorder, applied=date(2026, 1, 1),
        steps=[(date(2026, 3, 1), Stage.CULTIVATION), (date(2026, 4, 1), Stage.NOMINATED), (date(2026, 5, 1), Stage.VOTED)],
    )  # fmt: skip
    # A history step that keeps the stage (the case moved with its member) does not restart it.
    CaseTransition.objects.create(
        case=promoted, action="move", from_stage=Stage.VOTED, to_stage=Stage.VOTED, actor=recorder,
        at=at(date(2026, 5, 20)),
    )  # fmt: skip
    assert stage_at(promoted, date(2026, 2, 28)) is None  # not opened yet
    assert stage_at(promoted, date(2026, 3, 1)) == Stage.CULTIVATION
    assert stage_at(promoted, date(2026, 4, 15)) == Stage.NOMINATED
    assert stage_at(promoted, date(2026, 6, 1)) == Stage.VOTED
    assert since_at(promoted, date(2026, 6, 1)) == at(date(2026, 5, 1))
    assert since_at(promoted, date(2026, 3, 15)) == at(date(2026, 3, 1), 9)  # since it was opened


def test_a_case_written_without_history_has_its_stage(tree, recorder):
    member = make_member(tree["branch_a1"], "无记录")
    bare = PromotionCase.objects.create(
        member=member,
        branch=tree["branch_a1"],
        track="activist",
        party_applied_on=date(2025, 1, 1),
        created_by=recorder,
    )
    PromotionCase.objects.filter(pk=bare.pk).update(stage=Stage.RECOMMENDED, created_at=at(date(2025, 6, 1)))
    assert stage_at(bare, date(2026, 1, 1)) == Stage.RECOMMENDED
    assert stage_at(bare, date(2025, 5, 1)) is None
