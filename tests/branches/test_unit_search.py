"""The unit pickers' search (branches.unit_search, branches:unit-choices): each purpose answers with
the units its form accepts from that user and no others, in a bounded number of queries; the scope
comes from the server, never from the client. The pages' own pickers are tested with their pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from branches.models import Organization, OrganizationKind, Sector
from members import transfers
from tests.conftest import add, make_member


def picker(response, name: str) -> str:
    """The HTML of a form's <select name=…>."""
    html = response.content.decode()
    start = html.index(f'<select name="{name}"')
    return html[start : html.index("</select>", start)]


def choices(client, purpose: str, q: str = "") -> list[str]:
    """The names the endpoint offers for `purpose`."""
    response = client.get(reverse("branches:unit-choices"), {"for": purpose, "q": q})
    assert response.status_code == 200
    return [choice["name"] for choice in response.json()["results"]]


def status(client, purpose: str) -> int:
    return client.get(reverse("branches:unit-choices"), {"for": purpose}).status_code


@pytest.fixture
def other_county(db):
    county = Organization.objects.add_root(
        {"name": "共青团外县委员会", "code": "X", "kind": OrganizationKind.COUNTY, "sector": Sector.PUBLIC_INSTITUTION}
    )
    add(county, name="外县一村团支部", code="X-1", kind=OrganizationKind.BRANCH, sector=Sector.VILLAGE)
    return county


def test_records_are_the_units_of_the_user_s_record_scope(client, tree, people, login):
    login(people["township_a_staff"])
    assert choices(client, "records") == ["共青团甲镇委员会", "甲一村团支部", "甲镇中学团总支", "甲镇中学九年级团支部"]
    assert choices(client, "records", "乙") == []
    login(people["secretary_b1"])
    assert choices(client, "records") == ["乙一村团支部"]


def test_branches_are_the_branches_of_the_record_scope(client, tree, people, login):
    login(people["township_a_staff"])
    assert choices(client, "branches") == ["甲一村团支部", "甲镇中学九年级团支部"]  # not the general branch
    login(people["county_staff"])
    assert choices(client, "branches", "乙") == ["乙一村团支部"]


def test_a_unit_is_found_by_its_code_too(client, tree, people, login):
    login(people["county_staff"])
    assert choices(client, "records", "c-a-g") == ["甲镇中学团总支", "甲镇中学九年级团支部"]


def test_roles_are_the_units_a_role_may_be_bound_to_by_the_actor(client, tree, people, login, other_county):
    login(people["county_staff"])
    found = choices(client, "roles")
    assert "共青团测试县委员会" in found and "乙一村团支部" in found
    assert choices(client, "roles", "外县") == []  # another county's units are not theirs to give
    login(people["security_admin"])  # gives roles anywhere, in no unit's record scope
    assert choices(client, "roles", "外县") == ["共青团外县委员会", "外县一村团支部"]
    for persona in ["township_a_staff", "secretary_a1", "audit_admin"]:
        assert status(login(people[persona]), "roles") == 403


def test_move_offers_where_the_user_may_move_that_unit(client, tree, people, login):
    branch = tree["branch_a1"]
    login(people["township_a_staff"])
    # Inside township A only, and only units that may hold a branch: not township B, not the county.
    assert choices(client, f"move:{branch.pk}") == ["共青团甲镇委员会", "甲镇中学团总支"]
    login(people["county_staff"])
    assert choices(client, f"move:{branch.pk}") == [
        "共青团测试县委员会",
        "共青团甲镇委员会",
        "共青团乙镇委员会",
        "甲镇中学团总支",
    ]
    # Never under itself or below it, never under a branch.
    assert choices(client, f"move:{tree['general_ag'].pk}") == [
        "共青团测试县委员会",
        "共青团甲镇委员会",
        "共青团乙镇委员会",
    ]


def test_move_of_a_unit_the_user_may_not_move_is_refused(client, tree, people, login):
    login(people["township_a_staff"])
    assert status(client, f"move:{tree['branch_b1'].pk}") == 404  # not theirs to see
    assert status(client, f"move:{tree['township_a'].pk}") == 403  # the top of their own remit
    assert status(login(people["secretary_a1"]), f"move:{tree['branch_a1'].pk}") == 403


@pytest.mark.parametrize(
    "purpose",
    ["", "everything", "Records", "records:1", "move:", "move:x", "move:1:2", "move:-1", "transfer:", "approve:x"],
)
def test_an_unknown_purpose_is_not_found(client, tree, people, login, purpose):
    assert status(login(people["county_staff"]), purpose) == 404


def test_the_client_cannot_widen_the_scope(client, tree, people, login):
    """Only `for` and `q` are read: a unit, a path or a user passed along changes nothing."""
    login(people["township_a_staff"])
    response = client.get(
        reverse("branches:unit-choices"),
        {"for": "records", "q": "团支部", "unit": tree["county"].pk, "path": tree["county"].path, "user": 1},
    )
    assert [c["name"] for c in response.json()["results"]] == ["甲一村团支部", "甲镇中学九年级团支部"]


def test_choices_carry_the_parent_s_name_and_stop_at_twenty(client, tree, people, login):
    for i in range(25):
        add(tree["township_b"], name=f"乙{i:02d}村团支部", code=f"C-B-{i + 10}", kind="branch", sector="village")
    login(people["county_staff"])
    response = client.get(reverse("branches:unit-choices"), {"for": "branches", "q": "乙"})
    found = response.json()["results"]
    assert len(found) == 20
    assert found[0] == {
        "value": str(tree["branch_b1"].pk),
        "text": "乙一村团支部（共青团乙镇委员会）",
        "name": "乙一村团支部",
        "code": "C-B-1",
        "path": tree["branch_b1"].path,
    }


@pytest.mark.parametrize("purpose", ["records", "branches", "roles", "move"])
def test_each_purpose_needs_a_bounded_number_of_queries(
    client, tree, people, login, django_assert_max_num_queries, purpose
):
    for i in range(30):
        add(tree["township_b"], name=f"乙{i:02d}村团总支", code=f"C-B-{i + 10}", kind="general_branch", sector="school")
    # The session, the user, their roles, one query for the units; and the unit to move.
    limit = 4
    if purpose == "move":
        purpose, limit = f"move:{tree['branch_a1'].pk}", 5
    login(people["county_staff"])
    choices(client, purpose)  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(limit):
        assert len(choices(client, purpose, "乙")) == (20 if purpose != "branches" else 1)


def test_transfer_offers_the_member_s_county_but_their_own_branch(client, tree, people, login, other_county):
    member = make_member(tree["branch_a1"])
    purpose = f"transfer:{member.pk}"
    login(people["secretary_a1"])  # any unit of the county, beyond their own records
    assert choices(client, purpose) == [
        "共青团甲镇委员会",
        "共青团乙镇委员会",
        "甲镇中学团总支",
        "乙一村团支部",
        "甲镇中学九年级团支部",
    ]
    assert choices(client, purpose, "外县") == []  # never another county's
    assert status(login(people["secretary_b1"]), purpose) == 404  # not their member
    assert status(login(people["party_a"]), purpose) == 404


def test_approve_offers_the_receiving_committee_s_branches(client, tree, people, login):
    add(tree["township_b"], name="乙二村团支部", code="C-B-2", kind="branch", sector="village")
    transfer = transfers.transfer_request(
        actor=people["secretary_a1"], member=make_member(tree["branch_a1"]), to_unit=tree["township_b"]
    )
    purpose = f"approve:{transfer.pk}"
    for persona in ["township_b_staff", "county_staff"]:  # county staff too: township B's only
        assert choices(login(people[persona]), purpose) == ["乙一村团支部", "乙二村团支部"]
    assert status(login(people["secretary_a1"]), purpose) == 403  # the sending side: nothing to place
    assert status(login(people["secretary_b1"]), purpose) == 404  # neither side
    transfers.transfer_reject(actor=people["township_b_staff"], transfer=transfer, reason="不收")
    assert status(login(people["township_b_staff"]), purpose) == 403  # decided: nothing to place any more


def test_approve_of_a_transfer_to_a_branch_is_refused(client, tree, people, login):
    transfer = transfers.transfer_request(
        actor=people["secretary_a1"], member=make_member(tree["branch_a1"]), to_unit=tree["branch_b1"]
    )
    assert status(login(people["secretary_b1"]), f"approve:{transfer.pk}") == 403  # the branch is named


@pytest.mark.parametrize("name", ["transfer", "approve"])
def test_the_members_purposes_need_a_bounded_number_of_queries(
    client, tree, people, login, django_assert_max_num_queries, name
):
    for i in range(30):
        add(tree["township_b"], name=f"乙{i:02d}村团支部", code=f"C-B-{i + 10}", kind="branch", sector="village")
    member = make_member(tree["branch_a1"])
    obj = (
        member
        if name == "transfer"
        else transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["township_b"])
    )
    login(people["county_staff"])
    choices(client, f"{name}:{obj.pk}")  # the session's first renewal (a write) out of the count
    # The session, the user, their roles, the member or transfer, and the units.
    with django_assert_max_num_queries(5):
        assert len(choices(client, f"{name}:{obj.pk}", "乙")) == 20
