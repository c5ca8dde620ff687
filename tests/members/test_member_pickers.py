"""The member pages' branch pickers search as you type (issue 8): each page renders only the branch
chosen, whatever the size of the tree; a branch the page does not offer is refused with the picker's
message and nothing is saved; a secretary of one branch finds it chosen from the start."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import Organization, OrganizationKind, Sector
from members import transfers
from members.models import ImportBatch, Member, Transfer, TransferStatus
from tests.branches.test_pages import REFUSED_UNIT
from tests.branches.test_unit_search import picker
from tests.conftest import add, make_member
from tests.members.test_import import person, xlsx
from tests.members.test_member_records import member_form


def add_branches(parent: Organization, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        add(parent, name=f"新{i:02d}村团支部", code=f"{parent.code}-N{i:02d}", kind="branch", sector="village")


def assert_page_does_not_grow(client, url: str, picker_name: str, parent: Organization) -> None:
    """The page, its picker and its queries stay the same when 30 branches are added under `parent`;
    the page brings the picker's script (its form's media)."""
    with CaptureQueriesContext(connection) as before:
        response = client.get(url)
    assert "js/unit-search.js" in response.content.decode()
    size = len(response.content)
    add_branches(parent, 30, start=50)
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert picker(response, picker_name).count("<option") == 1
    assert (len(response.content), len(after)) == (size, len(before))


@pytest.fixture
def member(tree):
    return make_member(tree["branch_a1"], "转出人")


@pytest.fixture
def other_county(db):
    county = Organization.objects.add_root(
        {"name": "共青团外县委员会", "code": "X", "kind": OrganizationKind.COUNTY, "sector": Sector.PUBLIC_INSTITUTION}
    )
    return add(county, name="外县一村团支部", code="X-1", kind=OrganizationKind.BRANCH, sector=Sector.VILLAGE)


# --- pickers over the `branches` purpose: new member, import, receiving a transfer -------------------

BRANCH_PAGES = [
    ("members:member-create", "branch"),
    ("members:import-upload", "branch"),
    ("members:transfer-receive", "to_unit"),
]


@pytest.mark.parametrize(("url_name", "picker_name"), BRANCH_PAGES)
def test_the_branch_picker_renders_only_the_chosen_branch(client, tree, people, login, url_name, picker_name):
    login(people["county_staff"])
    url = reverse(url_name)
    select = picker(client.get(url), picker_name)
    assert select.count("<option") == 1 and 'value=""' in select
    assert reverse("branches:unit-choices") in select and 'data-unit-for="branches"' in select
    assert_page_does_not_grow(client, url, picker_name, tree["township_b"])


@pytest.mark.parametrize(("url_name", "picker_name"), BRANCH_PAGES)
def test_a_secretary_s_only_branch_is_chosen_from_the_start(client, tree, people, login, url_name, picker_name):
    login(people["secretary_a1"])
    select = picker(client.get(reverse(url_name)), picker_name)
    assert select.count("<option") == 2
    assert f'value="{tree["branch_a1"].pk}" selected' in select and "甲一村团支部" in select
    login(people["township_a_staff"])  # two branches: nothing chosen for them
    assert picker(client.get(reverse(url_name)), picker_name).count("<option") == 1


def test_save_and_add_another_keeps_the_branch(client, tree, people, login):
    login(people["township_a_staff"])
    response = client.post(reverse("members:member-create"), {**member_form(tree["branch_ag1"]), "add_another": "1"})
    response = client.get(response["Location"])
    select = picker(response, "branch")
    assert select.count("<option") == 2 and f'value="{tree["branch_ag1"].pk}" selected' in select


def assert_refused(response, picker_name: str) -> None:
    assert response.status_code == 200
    assert response.context["form"].errors[picker_name] == [REFUSED_UNIT]
    assert REFUSED_UNIT in response.content.decode()
    assert picker(response, picker_name).count("<option") == 1  # nothing of the refused unit shown


@pytest.mark.parametrize("branch", ["branch_b1", "general_ag", "township_a"])  # out of scope, not branches
def test_a_new_member_in_a_branch_not_offered_is_refused(client, tree, people, login, branch):
    login(people["township_a_staff"])
    assert_refused(client.post(reverse("members:member-create"), member_form(tree[branch])), "branch")
    assert not Member.objects.exists()


def test_an_import_into_a_branch_not_offered_is_refused(client, tree, people, login):
    login(people["township_a_staff"])
    roster = SimpleUploadedFile("roster.xlsx", xlsx([person("甲")]))
    response = client.post(reverse("members:import-upload"), {"branch": tree["branch_b1"].pk, "file": roster})
    assert_refused(response, "branch")
    assert not ImportBatch.objects.exists()


def test_receiving_into_a_branch_not_offered_is_refused(client, tree, people, login):
    member = make_member(tree["branch_b1"], "转入人")
    login(people["secretary_a1"])
    response = client.post(
        reverse("members:transfer-receive"), {"id_number": member.id_number, "to_unit": tree["branch_ag1"].pk}
    )
    assert_refused(response, "to_unit")
    assert not Transfer.objects.exists()


# --- the sending side's destination: the `transfer:<member>` purpose ---------------------------------


def test_the_transfer_page_renders_only_the_chosen_destination(client, tree, people, login, member):
    login(people["secretary_a1"])
    url = reverse("members:member-transfer", kwargs={"pk": member.pk})
    select = picker(client.get(url), "to_unit")
    assert select.count("<option") == 1 and f'data-unit-for="transfer:{member.pk}"' in select
    assert_page_does_not_grow(client, url, "to_unit", tree["township_b"])
    response = client.post(url, {"to_unit": tree["branch_b1"].pk, "note": ""})  # outside their own scope: fine
    assert response.status_code == 302
    assert Transfer.objects.get().to_unit == tree["branch_b1"]


@pytest.mark.parametrize("destination", ["county", "branch_a1", "other_county", "dissolved"])
def test_a_transfer_to_a_unit_not_offered_is_refused(client, tree, people, login, member, other_county, destination):
    if destination == "dissolved":
        tree["branch_b1"].dissolved_on = date(2024, 1, 1)
        tree["branch_b1"].save()
    unit = {"other_county": other_county, "dissolved": tree["branch_b1"]}.get(destination) or tree[destination]
    login(people["county_staff"])
    response = client.post(reverse("members:member-transfer", kwargs={"pk": member.pk}), {"to_unit": unit.pk})
    assert_refused(response, "to_unit")
    assert not Transfer.objects.exists()
    assert Member.objects.get(pk=member.pk).branch == tree["branch_a1"]


# --- a receiving committee places the member: the `approve:<transfer>` purpose ------------------------


@pytest.fixture
def to_committee(tree, people, member):
    return transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["township_b"])


def test_placing_renders_only_the_chosen_branch(client, tree, people, login, to_committee):
    add_branches(tree["township_b"], 2)  # more than one: none chosen from the start
    login(people["township_b_staff"])
    url = reverse("members:transfer", kwargs={"pk": to_committee.pk})
    select = picker(client.get(url), "to_branch")
    assert select.count("<option") == 1 and f'data-unit-for="approve:{to_committee.pk}"' in select
    assert_page_does_not_grow(client, url, "to_branch", tree["township_b"])


def test_a_committee_with_one_branch_finds_it_chosen(client, tree, people, login, to_committee):
    login(people["township_b_staff"])
    select = picker(client.get(reverse("members:transfer", kwargs={"pk": to_committee.pk})), "to_branch")
    assert select.count("<option") == 2 and f'value="{tree["branch_b1"].pk}" selected' in select
    login(people["secretary_a1"])  # the sending side has nothing to place
    assert (
        'name="to_branch"'
        not in client.get(reverse("members:transfer", kwargs={"pk": to_committee.pk})).content.decode()
    )


@pytest.mark.parametrize("branch", ["branch_a1", "branch_ag1"])  # not the committee's branches
def test_placing_in_a_branch_not_offered_is_refused(client, tree, people, login, member, to_committee, branch):
    login(people["county_staff"])  # whose scope holds both townships
    url = reverse("members:transfer-decide", kwargs={"pk": to_committee.pk, "decision": "approve"})
    response = client.post(url, {"to_branch": tree[branch].pk})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [REFUSED_UNIT]
    assert Transfer.objects.get().status == TransferStatus.PENDING
    assert Member.objects.get(pk=member.pk).branch == tree["branch_a1"]
    client.post(url, {"to_branch": tree["branch_b1"].pk})
    assert Member.objects.get(pk=member.pk).branch == tree["branch_b1"]
