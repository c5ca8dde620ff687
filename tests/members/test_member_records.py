"""Member records through the pages: create, edit, the rules, the scope, masking and audit."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from members.models import Member, add_years
from tests.conftest import make_member, valid_id_number


def member_form(branch, **overrides):
    data = {
        "branch": branch.pk,
        "name": "李小红",
        "id_number": valid_id_number(date(2003, 2, 14), "F"),
        "sex": "",
        "birth_date": "",
        "ethnicity": "01",
        "phone": "13912345678",
        "education": "college",
        "occupation": "farmer",
        "workplace": "甲一村",
        "native_place": "贵州省修文县",
        "joined_on": "2018-05-04",
        "admission_number": "",
        "card_number": "",
        "league_post": "",
        "political_status": "league",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_a_secretary_adds_a_member_and_birth_date_and_sex_come_from_the_id(client, tree, people, login):
    login(people["secretary_a1"])
    response = client.post(reverse("members:member-create"), member_form(tree["branch_a1"]))
    assert response.status_code == 302
    member = Member.objects.get(name="李小红")
    assert (member.birth_date, member.sex, member.branch) == (date(2003, 2, 14), "F", tree["branch_a1"])
    entry = LogEntry.objects.get_for_object(member).get()
    assert entry.actor == people["secretary_a1"]
    assert member.id_number not in str(entry.changes)
    assert member.id_number_masked in str(entry.changes)


def test_a_deputy_adds_members_on_behalf_of_the_secretary(client, tree, people, login):
    login(people["deputy_a1"])
    client.post(reverse("members:member-create"), member_form(tree["branch_a1"]))
    entry = LogEntry.objects.get_for_object(Member.objects.get(name="李小红")).get()
    assert entry.additional_data == {"on_behalf_of": "secretary_a1"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": "520123200302141231"}, "id_number"),
        ({"birth_date": "2003-02-15"}, "birth_date"),
        ({"sex": "M"}, "sex"),
        ({"joined_on": "2016-02-13"}, "joined_on"),  # the day before the 14th birthday
        ({"joined_on": "2099-01-01"}, "joined_on"),
        ({"phone": "1234"}, "phone"),
        ({"name": ""}, "name"),
    ],
)
def test_wrong_input_is_refused_next_to_its_field_and_nothing_is_saved(client, tree, people, login, overrides, field):
    login(people["secretary_a1"])
    response = client.post(reverse("members:member-create"), member_form(tree["branch_a1"], **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Member.objects.exists()


def test_joining_on_the_fourteenth_birthday_is_allowed(client, tree, people, login):
    login(people["secretary_a1"])
    response = client.post(reverse("members:member-create"), member_form(tree["branch_a1"], joined_on="2017-02-14"))
    assert response.status_code == 302


def test_a_person_active_elsewhere_is_not_recorded_twice(client, tree, people, login):
    existing = make_member(tree["branch_b1"], "王五")
    login(people["secretary_a1"])
    response = client.post(
        reverse("members:member-create"),
        member_form(tree["branch_a1"], id_number=existing.id_number, joined_on="2019-06-01"),
    )
    errors = response.context["form"].errors["id_number"]
    assert tree["branch_b1"].name not in errors[0]  # the other township's branch is not named to them
    assert Member.objects.count() == 1
    login(people["county_staff"])
    response = client.post(
        reverse("members:member-create"),
        member_form(tree["branch_a1"], id_number=existing.id_number, joined_on="2019-06-01"),
    )
    assert tree["branch_b1"].name in response.context["form"].errors["id_number"][0]


def test_a_person_who_left_can_be_recorded_again(client, tree, people, login):
    former = make_member(tree["branch_b1"], "王五", status="withdrawn", left_on=date(2024, 1, 1))
    login(people["secretary_a1"])
    data = member_form(tree["branch_a1"], id_number=former.id_number, name="王五", joined_on="2019-06-01")
    response = client.post(reverse("members:member-create"), data)
    assert response.status_code == 302
    assert Member.objects.filter(id_number_hash=former.id_number_hash).count() == 2


def test_editing_records_old_and_new_values(client, tree, people, login):
    member = make_member(tree["branch_a1"], phone="13900000000")
    login(people["secretary_a1"])
    data = member_form(
        tree["branch_a1"],
        name=member.name,
        id_number="",
        birth_date=member.birth_date.isoformat(),
        sex=member.sex,
        joined_on=member.joined_on.isoformat(),
        phone="13911111111",
    )
    data.pop("branch")
    response = client.post(reverse("members:member-edit", kwargs={"pk": member.pk}), data)
    assert response.status_code == 302, response.context["form"].errors
    entry = LogEntry.objects.get_for_object(member).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes["phone"] == ["13900000000", "13911111111"]


def test_pages_show_the_masked_number_only(client, tree, people, login):
    member = make_member(tree["branch_a1"])
    login(people["county_staff"])
    for url in [reverse("members:list"), reverse("members:member", kwargs={"pk": member.pk})]:
        html = client.get(url).content.decode()
        assert member.id_number_masked in html
        assert member.id_number not in html


def test_staff_can_see_the_full_number_and_each_look_is_recorded(client, tree, people, login):
    member = make_member(tree["branch_a1"])
    url = reverse("members:member-id", kwargs={"pk": member.pk})
    assert login(people["secretary_a1"]).post(url).status_code == 403
    response = login(people["township_a_staff"]).post(url)
    assert member.id_number in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    access = LogEntry.objects.get_for_object(member).get(action=LogEntry.Action.ACCESS)
    assert access.actor == people["township_a_staff"]
    assert login(people["township_b_staff"]).post(url).status_code == 404


def test_derived_values(tree):
    member = make_member(tree["branch_a1"], birth_date=date(2000, 2, 29), joined_on=date(2015, 5, 4))
    assert member.turns_over_age_on == date(2028, 2, 29)
    assert add_years(date(2000, 2, 29), 1) == date(2001, 3, 1)
    today = timezone.localdate()
    assert member.age == today.year - 2000 - ((today.month, today.day) < (2, 29))
