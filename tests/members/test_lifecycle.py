"""Registration, evaluation, leaving and reinstatement: the rules and their pages."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from members import lifecycle
from members.models import Evaluation, Member, Registration, add_years
from tests.conftest import make_member

THIS_YEAR = timezone.localdate().year


@pytest.fixture
def branch_members(tree, people):
    """Five members of branch A1 with last year's grades: two excellent, qualified, basic, unqualified;
    a sixth joined this year (not evaluated yet), a seventh joined long ago and was never evaluated."""
    recorder = people["county_staff"]
    members = {}
    for name, grade in [
        ("优一", "excellent"),
        ("优二", "excellent"),
        ("合格", "qualified"),
        ("基本", "basic"),
        ("不合格", "unqualified"),
    ]:
        members[name] = make_member(tree["branch_a1"], name)
        Evaluation.objects.create(member=members[name], year=THIS_YEAR - 1, grade=grade, recorded_by=recorder)
    members["新团员"] = make_member(
        tree["branch_a1"], "新团员", birth_date=date(2008, 1, 1), joined_on=timezone.localdate() - timedelta(days=1)
    )
    members["漏评"] = make_member(tree["branch_a1"], "漏评")
    return members


def test_registration_registers_the_eligible_and_lists_the_exceptions(tree, people, branch_members):
    plan = lifecycle.registration_register_branch(
        actor=people["secretary_a1"], branch=tree["branch_a1"], year=THIS_YEAR
    )
    assert {m.name for m in plan.eligible} == {"优一", "优二", "合格", "基本", "新团员"}
    assert {m.name for m, _reason in plan.exceptions} == {"不合格", "漏评"}
    assert Registration.objects.filter(year=THIS_YEAR).count() == 5
    again = lifecycle.registration_register_branch(
        actor=people["secretary_a1"], branch=tree["branch_a1"], year=THIS_YEAR
    )
    assert again.eligible == [] and len(again.already) == 5
    assert Registration.objects.filter(year=THIS_YEAR).count() == 5
    entry = LogEntry.objects.get_for_object(branch_members["合格"]).get(action=LogEntry.Action.UPDATE)
    assert entry.changes == {"registration": ["", THIS_YEAR]}
    assert entry.actor == people["secretary_a1"]


def test_registration_is_done_in_scope_only(tree, people, branch_members):
    with pytest.raises(PermissionDenied):
        lifecycle.registration_register_branch(actor=people["secretary_b1"], branch=tree["branch_a1"], year=THIS_YEAR)


def test_the_county_sees_which_branches_are_done(client, tree, people, login, branch_members):
    make_member(tree["branch_b1"], "乙", joined_on=timezone.localdate() - timedelta(days=10))
    lifecycle.registration_register_branch(actor=people["county_staff"], branch=tree["branch_b1"], year=THIS_YEAR)
    response = login(people["county_staff"]).get(reverse("members:registration"), {"year": THIS_YEAR})
    rows = {branch.code: (active, registered) for branch, active, registered in response.context["page"]}
    assert rows["C-B-1"] == (1, 1)
    assert rows["C-A-1"] == (7, 0)
    assert response.context["done"] == 1
    missing = login(people["county_staff"]).get(reverse("members:registration"), {"year": THIS_YEAR, "show": "missing"})
    assert [b.code for b, _a, _r in missing.context["page"]] == ["C-A-1"]


def test_evaluation_caps_excellent_and_sets_a_follow_up(tree, people, branch_members):
    ids = [m.pk for m in Member.objects.filter(branch=tree["branch_a1"])]  # 7 members: at most 2 excellent
    grades = dict.fromkeys(ids, "qualified")
    grades[ids[0]] = grades[ids[1]] = grades[ids[2]] = "excellent"
    with pytest.raises(ValidationError):
        lifecycle.evaluation_record_branch(
            actor=people["secretary_a1"], branch=tree["branch_a1"], year=THIS_YEAR, grades=grades
        )
    assert not Evaluation.objects.filter(year=THIS_YEAR).exists()
    grades[ids[2]] = "unqualified"
    lifecycle.evaluation_record_branch(
        actor=people["secretary_a1"], branch=tree["branch_a1"], year=THIS_YEAR, grades=grades
    )
    unqualified = Evaluation.objects.get(member_id=ids[2], year=THIS_YEAR)
    assert unqualified.follow_up_on == timezone.localdate() + timedelta(days=90)
    assert Evaluation.objects.filter(year=THIS_YEAR).count() == 7


def test_the_evaluation_page_keeps_the_input_when_refused(client, tree, people, login, branch_members):
    login(people["secretary_a1"])
    url = reverse("members:evaluation-branch", kwargs={"branch_pk": tree["branch_a1"].pk})
    data = {"year": THIS_YEAR, **{f"grade-{m.pk}": "excellent" for m in branch_members.values()}}
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["error"]
    assert all(grade == "excellent" for _m, grade in response.context["rows"])
    data = {"year": THIS_YEAR, **{f"grade-{m.pk}": "qualified" for m in branch_members.values()}}
    assert client.post(url, data).status_code == 302
    assert Evaluation.objects.filter(year=THIS_YEAR, grade="qualified").count() == 7


def test_over_age_leaving_needs_the_age_and_no_post(tree, people):
    today = timezone.localdate()
    old = make_member(tree["branch_a1"], "超龄", birth_date=add_years(today, -28) - timedelta(days=1))
    young = make_member(tree["branch_a1"], "未满", birth_date=add_years(today, -28) + timedelta(days=10))
    cadre = make_member(tree["branch_a1"], "在职", birth_date=add_years(today, -29), league_post="secretary")
    actor = people["secretary_a1"]
    due = list(lifecycle.over_age_due(Member.objects.all()))
    assert [m.name for m in due] == ["超龄", "未满"]  # the cadre in post is not on the list
    with pytest.raises(ValidationError):
        lifecycle.member_leave(actor=actor, member=young, status="over_age", on_date=today, reason="")
    with pytest.raises(ValidationError):
        lifecycle.member_leave(actor=actor, member=cadre, status="over_age", on_date=today, reason="")
    left = lifecycle.member_leave(actor=actor, member=old, status="over_age", on_date=today, reason="")
    assert (left.status, left.left_on) == ("over_age", today)


def test_withdrawal_needs_a_reason_and_reinstating_is_audited(client, tree, people, login):
    member = make_member(tree["branch_a1"], "退团")
    login(people["secretary_a1"])
    url = reverse("members:member-leave", kwargs={"pk": member.pk})
    response = client.post(url, {"status": "withdrawn", "on_date": timezone.localdate().isoformat(), "reason": ""})
    assert "reason" in response.context["form"].errors
    client.post(url, {"status": "withdrawn", "on_date": timezone.localdate().isoformat(), "reason": "本人申请"})
    assert Member.objects.get(pk=member.pk).status == "withdrawn"
    response = client.post(reverse("members:member-reinstate", kwargs={"pk": member.pk}), {"reason": "误操作"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.status == "active" and member.left_on is None
    entry = LogEntry.objects.get_for_object(member).filter(action=LogEntry.Action.UPDATE).first()
    assert entry.additional_data == {"note": "误操作"}


def test_reinstating_is_refused_when_the_person_is_active_elsewhere(tree, people):
    former = make_member(tree["branch_a1"], "甲", status="withdrawn", left_on=date(2024, 1, 1))
    again = Member(
        branch=tree["branch_b1"],
        name="甲",
        sex=former.sex,
        birth_date=former.birth_date,
        education="senior",
        occupation="farmer",
        joined_on=former.joined_on,
    )
    again.id_number = former.id_number
    again.save()
    with pytest.raises(ValidationError):
        lifecycle.member_reinstate(actor=people["county_staff"], member=former, reason="误操作")


@pytest.mark.parametrize("name", ["members:registration-branch", "members:evaluation-branch"])
def test_branch_pages_are_scoped(client, tree, people, login, name):
    url = reverse(name, kwargs={"branch_pk": tree["branch_a1"].pk})
    assert login(people["secretary_a1"]).get(url).status_code == 200
    assert login(people["township_a_staff"]).get(url).status_code == 200
    assert login(people["secretary_b1"]).get(url).status_code == 404
    assert login(people["party_a"]).get(url).status_code == 404


def test_registration_overview_is_bounded_in_queries(
    client, tree, people, login, django_assert_max_num_queries, branch_members
):
    login(people["county_staff"])
    client.get(reverse("members:registration"))  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(7):
        assert client.get(reverse("members:registration")).status_code == 200


def test_registration_needs_last_year_s_grade_not_an_older_one(tree, people):
    old_grade = make_member(tree["branch_a1"], "老评议")
    Evaluation.objects.create(
        member=old_grade, year=THIS_YEAR - 3, grade="qualified", recorded_by=people["county_staff"]
    )
    plan = lifecycle.registration_plan(tree["branch_a1"], THIS_YEAR)
    assert [m.name for m, _reason in plan.exceptions] == ["老评议"]


def test_party_members_register_without_being_evaluated(client, tree, people, login):
    party_member = make_member(tree["branch_a1"], "党员", political_status="party")
    plan = lifecycle.registration_plan(tree["branch_a1"], THIS_YEAR)
    assert plan.eligible == [party_member]
    response = login(people["secretary_a1"]).get(
        reverse("members:evaluation-branch", kwargs={"branch_pk": tree["branch_a1"].pk})
    )
    assert response.context["rows"] == []  # not on the evaluation sheet
    with pytest.raises(ValidationError):
        lifecycle.evaluation_record_branch(
            actor=people["secretary_a1"],
            branch=tree["branch_a1"],
            year=THIS_YEAR,
            grades={party_member.pk: "excellent"},
        )


@pytest.mark.parametrize(("evaluated", "cap"), [(1, 0), (3, 0), (4, 1), (10, 3), (50, 15)])
def test_the_excellent_cap_rounds_down(evaluated, cap):
    assert lifecycle.excellent_cap(evaluated) == cap


def test_a_corrected_grade_keeps_the_old_one_in_the_audit(tree, people):
    member = make_member(tree["branch_a1"], "更正")
    actor = people["secretary_a1"]
    lifecycle.evaluation_record_branch(
        actor=actor, branch=tree["branch_a1"], year=THIS_YEAR, grades={member.pk: "unqualified"}
    )
    lifecycle.evaluation_record_branch(
        actor=actor, branch=tree["branch_a1"], year=THIS_YEAR, grades={member.pk: "qualified"}
    )
    latest = LogEntry.objects.get_for_object(member).filter(action=LogEntry.Action.UPDATE).first()
    assert latest.changes == {"evaluation": [f"{THIS_YEAR} 不合格", f"{THIS_YEAR} 合格"]}


def test_leaving_closes_a_waiting_transfer(tree, people):
    from members.models import Transfer
    from members.transfers import transfer_request

    member = make_member(tree["branch_a1"], "要走")
    transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    lifecycle.member_leave(
        actor=people["secretary_a1"], member=member, status="withdrawn", on_date=timezone.localdate(), reason="本人申请"
    )
    assert Transfer.objects.get().status == "cancelled"


def test_joining_before_birth_gets_a_field_message_in_chinese(client, tree, people, login):
    from tests.members.test_member_records import member_form

    login(people["secretary_a1"])
    response = client.post(reverse("members:member-create"), member_form(tree["branch_a1"], joined_on="2001-01-01"))
    html = response.content.decode()
    assert "约束" not in html  # not Django's generic constraint message
    assert "入团时间必须晚于出生日期" in html
    assert not Member.objects.filter(name="李小红").exists()
