"""Page behaviour the scope matrix does not cover: searches, refusals with a message, bounded
queries on every list, and the audit trail in the reader's language."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from branches import account_services, services
from branches.models import Organization, OrganizationKind, PartyOrganization, Role, RoleAssignment, Sector, User
from tests.branches.test_unit_search import picker
from tests.conftest import PASSWORD, add, make_user

REFUSED_UNIT = "此处不能选择这个组织。请输入组织名称中的几个字，再从列表中选取。"


@pytest.fixture
def other_county(db):
    county = Organization.objects.add_root(
        {"name": "共青团外县委员会", "code": "X", "kind": OrganizationKind.COUNTY, "sector": Sector.PUBLIC_INSTITUTION}
    )
    branch = Organization.objects.add_child(
        county, {"name": "外县一村团支部", "code": "X-1", "kind": OrganizationKind.BRANCH, "sector": Sector.VILLAGE}
    )
    staff = make_user("other_county_staff", Role.COUNTY_STAFF, organization=county)
    secretary = make_user("other_secretary", Role.BRANCH_SECRETARY, organization=branch)
    return {"county": county, "branch": branch, "staff": staff, "secretary": secretary}


def test_county_staff_of_another_county_reach_nothing_here(client, tree, people, login, other_county):
    login(other_county["staff"])
    for name, pk in [("branches:unit", tree["branch_a1"].pk), ("branches:unit-edit", tree["county"].pk)]:
        assert client.get(reverse(name, kwargs={"pk": pk})).status_code == 404
    assert client.get(reverse("branches:account", kwargs={"pk": people["secretary_a1"].pk})).status_code == 404
    response = client.post(
        reverse("branches:role-grant", kwargs={"pk": people["secretary_a1"].pk}),
        {"role": Role.BRANCH_SECRETARY, "organization": other_county["branch"].pk, "starts_on": "2026-01-01"},
    )
    assert response.status_code == 404
    assert not RoleAssignment.objects.filter(user=people["secretary_a1"], organization=other_county["branch"]).exists()
    listing = client.get(reverse("branches:accounts"))
    assert {a.username for a in listing.context["page"]} == {"other_secretary"}


def test_granting_a_unit_outside_the_remit_is_refused_and_saves_nothing(client, tree, people, login, other_county):
    login(people["county_staff"])
    response = client.post(
        reverse("branches:role-grant", kwargs={"pk": people["secretary_b1"].pk}),
        {"role": Role.BRANCH_SECRETARY, "organization": other_county["branch"].pk, "starts_on": "2026-01-01"},
    )
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
    assert people["secretary_b1"].roles.count() == 1


def test_searching_the_tree(client, tree, people, login):
    response = login(people["township_a_staff"]).get(reverse("branches:tree"), {"q": "团支部"})
    assert [u.code for u in response.context["matches"]] == ["C-A-1", "C-A-G-1"]


def test_no_unit_can_be_created_under_a_branch(client, tree, people, login):
    response = login(people["county_staff"]).get(
        reverse("branches:unit-create", kwargs={"parent_pk": tree["branch_a1"].pk})
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("branches:unit", kwargs={"pk": tree["branch_a1"].pk})


def test_a_dissolved_unit_cannot_be_edited_or_moved(client, tree, people, login):
    staff = people["county_staff"]
    services.organization_dissolve(actor=staff, organization=tree["branch_b1"], on_date=date.today(), reason="撤并")
    login(staff)
    for name in ["branches:unit-edit", "branches:unit-move", "branches:unit-dissolve"]:
        response = client.post(reverse(name, kwargs={"pk": tree["branch_b1"].pk}), {"name": "改名"})
        assert response.status_code == 302
    assert Organization.objects.get(pk=tree["branch_b1"].pk).name == "乙一村团支部"


def test_a_temporary_password_cannot_be_kept(client, tree, people):
    temporary = account_services.account_reset_password(actor=people["county_staff"], user=people["secretary_a1"])
    client.post(reverse("login"), {"username": "secretary_a1", "password": temporary})
    response = client.post(
        reverse("password_change"),
        {"old_password": temporary, "new_password1": temporary, "new_password2": temporary},
    )
    assert response.status_code == 200
    assert "new_password1" in response.context["form"].errors
    assert User.objects.get(pk=people["secretary_a1"].pk).must_change_password


def test_temporary_passwords_meet_the_policy_and_avoid_look_alike_characters():
    from django.contrib.auth.password_validation import validate_password

    for _ in range(50):
        password = account_services.generate_temporary_password()
        validate_password(password, User(username="someone"))
        assert not set(password) & set("0O1lI")


@pytest.mark.parametrize(
    ("persona", "url_name", "limit"),
    [
        ("county_staff", "home", 12),
        ("county_staff", "branches:tree", 6),
        ("county_staff", "branches:party-organizations", 6),
        ("county_staff", "branches:accounts", 7),
        ("security_admin", "branches:sign-ins", 7),
        ("audit_admin", "branches:audit", 7),
        ("secretary_a1", "home", 10),
    ],
)
def test_list_pages_need_a_bounded_number_of_queries(
    client, tree, people, login, django_assert_max_num_queries, persona, url_name, limit
):
    """Many more rows (units, Party organizations, accounts, events, entries) cost no more queries."""
    staff = people["county_staff"]
    for i in range(40):
        unit = services.organization_create(
            actor=staff,
            parent=Organization.objects.get(pk=tree["township_b"].pk),
            kind=OrganizationKind.BRANCH,
            name=f"新村{i}团支部",
            code=f"C-B-N{i:02d}",
            sector=Sector.VILLAGE,
        )
        party = services.party_organization_create(actor=staff, county=tree["county"], name=f"中共新村{i}支部")
        services.organization_update(actor=staff, organization=unit, party_organization=party)
        account_services.account_create(
            actor=staff, username=f"sec{i:02d}", full_name=f"书记{i}", role=Role.BRANCH_SECRETARY, organization=unit
        )
        client.post(reverse("login"), {"username": f"sec{i:02d}", "password": "wrong-Password-1"})
    login(people[persona])
    client.get(reverse(url_name))  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(limit):
        assert client.get(reverse(url_name)).status_code == 200


def test_history_reads_in_chinese_without_internal_names(client, tree, people, login):
    staff = people["county_staff"]
    services.organization_update(actor=staff, organization=tree["branch_a1"], party_organization=tree["party_a"])
    services.organization_move(actor=staff, organization=tree["general_ag"], new_parent=tree["township_b"])
    account_services.account_reset_password(actor=staff, user=people["secretary_a1"])
    login(people["audit_admin"])
    html = client.get(reverse("branches:audit")).content.decode()
    for internal in ["party_organization", "reset_by_administrator", "must_change_password", ">update<", "None"]:
        assert internal not in html
    for shown in ["对应党组织", "上级组织", "由管理员重置", "中共甲镇委员会"]:
        assert shown in html


def test_the_account_page_shows_role_changes(client, tree, people, login):
    role = people["secretary_b1"].roles.get()
    account_services.role_end(actor=people["county_staff"], assignment=role, on_date=date.today())
    response = login(people["county_staff"]).get(reverse("branches:account", kwargs={"pk": people["secretary_b1"].pk}))
    assert any(entry.object_pk == str(role.pk) for entry in response.context["history"])
    assert PartyOrganization.objects.exists()
    assert LogEntry.objects.filter(object_pk=str(role.pk)).exists()
    assert PASSWORD


# --- moving a unit: the new parent searched as you type (issue 8) ---------------------------------


def test_the_move_page_renders_only_the_chosen_parent(client, tree, people, login):
    unit = tree["branch_a1"]
    url = reverse("branches:unit-move", kwargs={"pk": unit.pk})
    login(people["county_staff"])
    response = client.get(url)
    select = picker(response, "new_parent")
    assert select.count("<option") == 1 and f'data-unit-for="move:{unit.pk}"' in select
    size = len(response.content)
    for i in range(30):
        add(tree["county"], name=f"共青团新{i:02d}镇委员会", code=f"C-N{i:02d}", kind="township", sector="public")
    assert len(client.get(url).content) == size  # the page does not grow with the tree
    response = client.post(url, {"new_parent": tree["township_b"].pk})
    assert response.status_code == 302
    assert Organization.objects.get_parent(Organization.objects.get(pk=unit.pk)) == tree["township_b"]


@pytest.mark.parametrize(
    ("persona", "new_parent"),
    [
        ("township_a_staff", "township_b"),  # outside their remit
        ("township_a_staff", "county"),  # above it
        ("county_staff", "branch_ag1"),  # a branch holds no units
        ("county_staff", "branch_a1"),  # itself
    ],
)
def test_moving_under_a_unit_not_offered_is_refused_with_a_message(client, tree, people, login, persona, new_parent):
    unit = tree["branch_a1"]
    login(people[persona])
    response = client.post(reverse("branches:unit-move", kwargs={"pk": unit.pk}), {"new_parent": tree[new_parent].pk})
    assert response.status_code == 200
    assert response.context["form"].errors["new_parent"] == [REFUSED_UNIT]
    assert REFUSED_UNIT in response.content.decode()
    assert picker(response, "new_parent").count("<option") == 1  # nothing of the refused unit shown
    assert Organization.objects.get_parent(Organization.objects.get(pk=unit.pk)) == tree["township_a"]
