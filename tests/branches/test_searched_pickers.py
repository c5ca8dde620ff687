"""The Party organization and account pickers searched as you type (issue 8; branches.searched_choices,
party_search, account_search): each endpoint answers a purpose with exactly the rows its form accepts
from that user, in a bounded number of queries; the pages render only the row chosen and refuse any
other with a clear message, saving nothing. (The unit pickers: test_unit_search.)"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from branches import services
from branches.models import Organization, OrganizationKind, PartyOrganization, Role, RoleAssignment, Sector, User
from tests.branches.test_unit_search import picker
from tests.conftest import add, make_user

PARTIES = "branches:party-organization-choices"
ACCOUNTS = "branches:account-choices"
REFUSED_PARTY = "此处不能选择这个党组织。请输入党组织名称中的几个字，再从列表中选取。"
REFUSED_ACCOUNT = "此处不能选择这个账号。请输入姓名或用户名中的几个字，再从列表中选取。"


def results(client, url_name: str, purpose: str, q: str = "") -> list[dict]:
    response = client.get(reverse(url_name), {"for": purpose, "q": q})
    assert response.status_code == 200
    return response.json()["results"]


def parties(client, purpose: str, q: str = "") -> list[str]:
    return [choice["name"] for choice in results(client, PARTIES, purpose, q)]


def accounts(client, purpose: str, q: str = "") -> list[str]:
    return [choice["username"] for choice in results(client, ACCOUNTS, purpose, q)]


def status(client, url_name: str, purpose: str) -> int:
    return client.get(reverse(url_name), {"for": purpose}).status_code


@pytest.fixture
def other_county(db):
    county = Organization.objects.add_root(
        {"name": "共青团外县委员会", "code": "X", "kind": OrganizationKind.COUNTY, "sector": Sector.PUBLIC_INSTITUTION}
    )
    branch = add(county, name="外县一村团支部", code="X-1", kind=OrganizationKind.BRANCH, sector=Sector.VILLAGE)
    return {
        "county": county,
        "branch": branch,
        "party": PartyOrganization.objects.create(county=county, name="中共外县一村支部"),
        "secretary": make_user("other_secretary", Role.BRANCH_SECRETARY, organization=branch),
    }


NOT_ACCOUNT_ADMINS = ["township_a_staff", "secretary_a1", "party_a", "system_admin", "audit_admin", "nobody"]


# --- Party organizations ------------------------------------------------------------------------------


def test_a_role_s_party_organizations_are_those_the_actor_may_bind_a_role_to(client, tree, people, login, other_county):
    login(people["county_staff"])
    assert set(parties(client, "roles")) == {"中共甲镇委员会", "中共乙镇委员会"}  # their county's only
    assert parties(client, "roles", "乙镇") == ["中共乙镇委员会"]
    assert parties(client, "roles", "外县") == []
    login(people["security_admin"])  # binds roles anywhere
    assert parties(client, "roles", "外县") == ["中共外县一村支部"]
    assert results(client, PARTIES, "roles", "外县") == [
        {
            "value": str(other_county["party"].pk),
            "text": "中共外县一村支部（共青团外县委员会）",
            "name": "中共外县一村支部",
        }
    ]
    for persona in NOT_ACCOUNT_ADMINS:
        assert status(login(people[persona]), PARTIES, "roles") == 403


def test_a_unit_s_pairing_offers_its_county_s_party_organizations(client, tree, people, login, other_county):
    branch = f"pairing:{tree['branch_a1'].pk}"
    for persona in ["county_staff", "township_a_staff"]:  # the whole county's, as the unit's form
        assert set(parties(login(people[persona]), branch)) == {"中共甲镇委员会", "中共乙镇委员会"}
    assert status(client, PARTIES, f"pairing:{tree['branch_b1'].pk}") == 404  # township B is not theirs
    assert status(client, PARTIES, f"pairing:{other_county['branch'].pk}") == 404
    assert status(login(people["secretary_a1"]), PARTIES, branch) == 403  # sees the branch, may not edit it
    assert status(login(people["party_a"]), PARTIES, branch) == 404
    staff = people["county_staff"]
    services.organization_dissolve(actor=staff, organization=tree["branch_b1"], on_date=date.today(), reason="撤并")
    assert status(login(staff), PARTIES, f"pairing:{tree['branch_b1'].pk}") == 403  # nothing to pair any more


# --- accounts -----------------------------------------------------------------------------------------


def test_deputies_are_the_accounts_the_actor_administers(client, tree, people, login, other_county):
    people["secretary_b1"].full_name, people["secretary_b1"].phone = "王小明", "13800001234"
    people["secretary_b1"].save()
    login(people["county_staff"])
    found = accounts(client, "deputy")
    assert "secretary_a1" in found and "party_a" in found
    assert {"county_staff", "security_admin", "other_secretary", "nobody"}.isdisjoint(found)
    for typed in ["小明", "SECRETARY_B", "0000123"]:  # the name, the username, the phone: as the account list
        assert accounts(client, "deputy", typed) == ["secretary_b1"]
    assert results(client, ACCOUNTS, "deputy", "小明")[0]["text"] == "王小明（secretary_b1）"
    assert accounts(client, "deputy", "other") == []
    assert accounts(login(people["security_admin"]), "deputy", "other") == ["other_secretary"]
    for persona in NOT_ACCOUNT_ADMINS:
        assert status(login(people[persona]), ACCOUNTS, "deputy") == 403


@pytest.mark.parametrize("url_name", ["branches:unit-choices", PARTIES, ACCOUNTS])
def test_odd_text_typed_finds_nothing_instead_of_failing_and_no_answer_is_kept(client, tree, people, login, url_name):
    login(people["security_admin"] if url_name == ACCOUNTS else people["county_staff"])
    purpose = "deputy" if url_name == ACCOUNTS else "roles"
    for typed in ["\x00", "甲\x00镇", "甲" * 5000]:  # PostgreSQL refuses NUL in a text parameter
        response = client.get(reverse(url_name), {"for": purpose, "q": typed})
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]


def test_successors_are_the_enabled_accounts_administered_but_the_holder(client, tree, people, login, other_county):
    User.objects.filter(pk=people["secretary_b1"].pk).update(is_active=False)
    purpose = f"successor:{people['secretary_a1'].pk}"
    login(people["county_staff"])
    assert "secretary_b1" in accounts(client, "deputy", "secretary")  # a deputy may be any of them
    assert accounts(client, purpose, "secretary") == []  # not the holder, not a disabled account
    assert accounts(client, purpose, "a1") == ["deputy_a1"]
    assert status(client, ACCOUNTS, f"successor:{other_county['secretary'].pk}") == 404  # not theirs
    assert status(client, ACCOUNTS, f"successor:{people['security_admin'].pk}") == 404
    for persona in NOT_ACCOUNT_ADMINS:
        assert status(login(people[persona]), ACCOUNTS, purpose) == 403


@pytest.mark.parametrize(
    ("url_name", "purpose"),
    [
        *[(PARTIES, p) for p in ["", "Roles", "roles:1", "pairing:", "pairing:x", "pairing:1:2", "deputy", "records"]],
        *[(ACCOUNTS, p) for p in ["", "Deputy", "deputy:1", "successor:", "successor:-1", "roles", "pairing:1"]],
    ],
)
def test_an_unknown_purpose_is_not_found(client, tree, people, login, url_name, purpose):
    """Another kind's purposes included: a purpose names one kind's rows."""
    assert status(login(people["county_staff"]), url_name, purpose) == 404


@pytest.mark.parametrize("url_name", [PARTIES, ACCOUNTS])
def test_anonymous_visitors_are_sent_to_sign_in(client, tree, url_name):
    response = client.get(reverse(url_name), {"for": "roles"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def add_parties_and_accounts(tree, count: int = 30) -> None:
    for i in range(count):
        PartyOrganization.objects.create(county=tree["county"], name=f"中共新{i:02d}村支部")
        make_user(f"new{i:02d}", Role.BRANCH_SECRETARY, organization=tree["branch_b1"])


@pytest.mark.parametrize(
    ("url_name", "purpose", "typed", "limit"),
    [
        # The session, the user, their roles, the rows (the counties managed within their query); and
        # the pairing's unit, or the holder.
        (PARTIES, "roles", "新", 4),
        (PARTIES, "pairing", "新", 5),
        (ACCOUNTS, "deputy", "new", 4),
        (ACCOUNTS, "successor", "new", 5),
    ],
)
def test_each_purpose_needs_a_bounded_number_of_queries(
    client, tree, people, login, django_assert_max_num_queries, url_name, purpose, typed, limit
):
    add_parties_and_accounts(tree)
    if purpose == "pairing":
        purpose = f"pairing:{tree['branch_a1'].pk}"
    elif purpose == "successor":
        purpose = f"successor:{people['secretary_a1'].pk}"
    login(people["county_staff"])
    results(client, url_name, purpose)  # warm the session
    with django_assert_max_num_queries(limit):
        assert len(results(client, url_name, purpose, typed)) == 20


# --- the pages: only the row chosen, and a refusal with a message ------------------------------------


def grant_url(people) -> str:
    return reverse("branches:role-grant", kwargs={"pk": people["secretary_b1"].pk})


def test_the_role_grant_page_renders_only_the_chosen_party_organization_and_deputy(
    client, tree, people, login, django_assert_max_num_queries
):
    login(people["county_staff"])
    response = client.get(grant_url(people))
    for name, url_name, purpose in [("party_organization", PARTIES, "roles"), ("deputy_for", ACCOUNTS, "deputy")]:
        select = picker(response, name)
        assert select.count("<option") == 1 and reverse(url_name) in select and f'data-unit-for="{purpose}"' in select
    size = len(response.content)
    add_parties_and_accounts(tree)
    # The session, the user and their roles, the account, the shell's unread notifications: no row of
    # the pickers, none being chosen.
    with django_assert_max_num_queries(5):
        assert len(client.get(grant_url(people)).content) == size  # the page does not grow with them
    # Refused for another reason (no start date), the chosen rows stay chosen.
    response = client.post(
        grant_url(people),
        {"role": Role.PARTY_ORGANIZER, "party_organization": tree["party_b"].pk, "deputy_for": people["party_a"].pk},
    )
    form = response.context["form"]
    assert list(form.errors) == ["starts_on"]
    party, deputy = picker(response, "party_organization"), picker(response, "deputy_for")
    assert party.count("<option") == 2 and f'value="{tree["party_b"].pk}" selected' in party
    assert "中共乙镇委员会（共青团测试县委员会）" in party
    assert deputy.count("<option") == 2 and f'value="{people["party_a"].pk}" selected' in deputy


def test_a_role_s_party_organization_or_deputy_outside_the_remit_is_refused(client, tree, people, login, other_county):
    login(people["county_staff"])
    response = client.post(
        grant_url(people),
        {
            "role": Role.PARTY_ORGANIZER,
            "party_organization": other_county["party"].pk,
            "deputy_for": other_county["secretary"].pk,
            "starts_on": "2026-01-01",
        },
    )
    errors = response.context["form"].errors
    assert errors["party_organization"] == [REFUSED_PARTY] and errors["deputy_for"] == [REFUSED_ACCOUNT]
    assert "外县" not in picker(response, "party_organization") and "other" not in picker(response, "deputy_for")
    assert people["secretary_b1"].roles.count() == 1
    # The same ids are the security administrator's to give.
    response = login(people["security_admin"]).post(
        grant_url(people),
        {"role": Role.PARTY_ORGANIZER, "party_organization": other_county["party"].pk, "starts_on": "2026-01-01"},
    )
    assert response.status_code == 302
    assert people["secretary_b1"].roles.filter(party_organization=other_county["party"]).exists()


def test_a_deputy_is_granted_through_the_picker(client, tree, people, login):
    login(people["county_staff"])
    response = client.post(
        grant_url(people),
        {
            "role": Role.BRANCH_SECRETARY,
            "organization": tree["branch_a1"].pk,
            "deputy_for": people["secretary_a1"].pk,
            "starts_on": "2026-01-01",
        },
    )
    assert response.status_code == 302
    assert people["secretary_b1"].roles.get(organization=tree["branch_a1"]).deputy_for == people["secretary_a1"]


def test_the_hand_over_page_renders_only_the_chosen_successor(client, tree, people, login):
    role = people["secretary_a1"].roles.get()
    url = reverse("branches:role-hand-over", kwargs={"pk": role.pk})
    login(people["county_staff"])
    select = picker(client.get(url), "successor")
    assert select.count("<option") == 1 and reverse(ACCOUNTS) in select
    assert f'data-unit-for="successor:{people["secretary_a1"].pk}"' in select
    response = client.post(url, {"successor": people["secretary_b1"].pk})  # no date
    select = picker(response, "successor")
    assert select.count("<option") == 2 and f'value="{people["secretary_b1"].pk}" selected' in select


@pytest.mark.parametrize("successor", ["secretary_a1", "disabled", "other_secretary", "security_admin"])
def test_a_successor_the_form_does_not_offer_is_refused(client, tree, people, login, other_county, successor):
    """The holder themself, a disabled account, another county's, an administrator's."""
    User.objects.filter(pk=people["secretary_b1"].pk).update(is_active=False)
    chosen = {**people, "disabled": people["secretary_b1"], "other_secretary": other_county["secretary"]}[successor]
    role = people["secretary_a1"].roles.get()
    roles = RoleAssignment.objects.count()
    login(people["county_staff"])
    response = client.post(
        reverse("branches:role-hand-over", kwargs={"pk": role.pk}), {"successor": chosen.pk, "on_date": "2026-01-01"}
    )
    assert response.context["form"].errors["successor"] == [REFUSED_ACCOUNT]
    assert RoleAssignment.objects.get(pk=role.pk).ends_on is None and RoleAssignment.objects.count() == roles


def test_a_new_unit_starts_paired_like_its_parent_with_only_that_choice_rendered(client, tree, people, login):
    login(people["county_staff"])
    url = reverse("branches:unit-create", kwargs={"parent_pk": tree["township_a"].pk})
    response = client.get(url)
    select = picker(response, "party_organization")
    assert select.count("<option") == 2 and f'value="{tree["party_a"].pk}" selected' in select
    assert f'data-unit-for="pairing:{tree["township_a"].pk}"' in select
    assert "js/unit-search.js" in response.content.decode()
    size = len(response.content)
    add_parties_and_accounts(tree)
    assert len(client.get(url).content) == size
    edit = client.get(reverse("branches:unit-edit", kwargs={"pk": tree["township_b"].pk}))
    select = picker(edit, "party_organization")
    assert select.count("<option") == 2 and f'value="{tree["party_b"].pk}" selected' in select
    assert f'data-unit-for="pairing:{tree["township_b"].pk}"' in select


def test_a_unit_paired_with_another_county_s_party_organization_is_refused(client, tree, people, login, other_county):
    unit = tree["township_b"]
    login(people["county_staff"])
    response = client.post(
        reverse("branches:unit-edit", kwargs={"pk": unit.pk}),
        {"name": "乙镇团委", "code": unit.code, "sector": unit.sector, "party_organization": other_county["party"].pk},
    )
    assert response.context["form"].errors["party_organization"] == [REFUSED_PARTY]
    unit.refresh_from_db()
    assert (unit.name, unit.party_organization) == ("共青团乙镇委员会", tree["party_b"])
    response = client.post(
        reverse("branches:unit-edit", kwargs={"pk": unit.pk}),
        {"name": unit.name, "code": unit.code, "sector": unit.sector, "party_organization": tree["party_a"].pk},
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.party_organization == tree["party_a"]


@pytest.mark.parametrize("value", ["x", "999999999", "-1"])
def test_an_unknown_value_is_refused_with_the_same_message(client, tree, people, login, value):
    login(people["county_staff"])
    posts = [
        (grant_url(people), {"party_organization": value, "deputy_for": value}),
        (
            reverse("branches:role-hand-over", kwargs={"pk": people["secretary_a1"].roles.get().pk}),
            {"successor": value},
        ),
        (reverse("branches:unit-edit", kwargs={"pk": tree["township_b"].pk}), {"party_organization": value}),
    ]
    for url, data in posts:
        errors = client.post(url, data).context["form"].errors
        for name in data:
            assert errors[name] == [REFUSED_ACCOUNT if name in {"deputy_for", "successor"} else REFUSED_PARTY]
