"""Who may open which report page (reports/access.py), through the test client: out of scope is a 404,
the same as a unit that does not exist.

- a secretary reads their branch (a general-branch secretary: its subtree), never the units above;
- township staff their township's subtree, county staff the county;
- a Party organizer only their Party organization's monthly report: no unit page, no other organization;
- instance-wide administrators and accounts with no role read nothing.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from branches.models import Role
from reports.access import home_scopes
from tests.conftest import make_user
from tests.reports.test_views import built  # noqa: F401  (the fake builder, a fixture)

PERSONAS = [
    "county_staff",
    "township_a_staff",
    "township_b_staff",
    "secretary_a1",
    "deputy_a1",
    "secretary_b1",
    "party_a",
    "system_admin",
    "security_admin",
    "audit_admin",
    "nobody",
]

# Unit → the personas who may read its dashboard and monthly report; everyone else gets a 404.
UNIT_READERS = {
    "county": {"county_staff"},
    "township_a": {"county_staff", "township_a_staff"},
    "township_b": {"county_staff", "township_b_staff"},
    "branch_a1": {"county_staff", "township_a_staff", "secretary_a1", "deputy_a1"},
    "branch_ag1": {"county_staff", "township_a_staff"},
    "branch_b1": {"county_staff", "township_b_staff", "secretary_b1"},
}
PARTY_READERS = {"party_a": {"county_staff", "party_a"}, "party_b": {"county_staff"}}


# One test per page and scope, every persona in it: the fixtures' tree is built once, not per persona.
@pytest.mark.usefixtures("built")
@pytest.mark.parametrize("unit", list(UNIT_READERS))
@pytest.mark.parametrize("page", ["reports:unit", "reports:unit-monthly"])
def test_unit_pages_open_only_inside_the_user_s_scope(login, tree, people, unit, page):
    url = reverse(page, args=[tree[unit].pk])
    statuses = {persona: login(people[persona]).get(url).status_code for persona in PERSONAS}
    assert statuses == {persona: 200 if persona in UNIT_READERS[unit] else 404 for persona in PERSONAS}


@pytest.mark.usefixtures("built")
@pytest.mark.parametrize("party_organization", list(PARTY_READERS))
def test_party_pages_open_for_their_organizer_and_the_county_staff(login, tree, people, party_organization):
    url = reverse("reports:party", args=[tree[party_organization].pk])
    statuses = {persona: login(people[persona]).get(url).status_code for persona in PERSONAS}
    assert statuses == {persona: 200 if persona in PARTY_READERS[party_organization] else 404 for persona in PERSONAS}


@pytest.mark.usefixtures("built")
def test_a_general_branch_secretary_reads_its_subtree_and_nothing_beside_it(login, tree):
    secretary = make_user("secretary_ag", Role.BRANCH_SECRETARY, organization=tree["general_ag"])
    client = login(secretary)
    for unit, expected in [
        ("general_ag", 200),
        ("branch_ag1", 200),
        ("branch_a1", 404),
        ("township_a", 404),
        ("county", 404),
    ]:
        assert client.get(reverse("reports:unit", args=[tree[unit].pk])).status_code == expected, unit


@pytest.mark.usefixtures("built")
def test_a_party_organizer_cannot_open_the_units_paired_with_their_organization(login, tree, people):
    # Township A is paired with Party organization A: its organizer still reads only the Party's report.
    client = login(people["party_a"])
    assert tree["township_a"].party_organization_id == tree["party_a"].pk
    assert client.get(reverse("reports:unit", args=[tree["township_a"].pk])).status_code == 404
    assert client.get(reverse("reports:unit-monthly", args=[tree["township_a"].pk])).status_code == 404


@pytest.mark.usefixtures("built")
def test_a_staff_member_of_another_county_reads_neither_its_units_nor_its_party_organizations(login, tree, people):
    from branches.models import Organization, OrganizationKind, PartyOrganization, Sector

    other = Organization.objects.add_root(
        dict(name="共青团邻县委员会", code="D", kind=OrganizationKind.COUNTY, sector=Sector.PUBLIC_INSTITUTION)
    )
    other_party = PartyOrganization.objects.create(county=other, name="中共邻县某镇委员会")
    client = login(people["county_staff"])
    assert client.get(reverse("reports:unit", args=[other.pk])).status_code == 404
    assert client.get(reverse("reports:party", args=[other_party.pk])).status_code == 404
    assert other_party not in client.get(reverse("reports:home")).context["county_parties"]


@pytest.mark.parametrize("page", ["reports:unit", "reports:unit-monthly", "reports:party"])
def test_a_missing_scope_is_a_404(login, people, page):
    assert login(people["county_staff"]).get(reverse(page, args=[999999])).status_code == 404


@pytest.mark.parametrize("page", ["reports:unit", "reports:unit-monthly"])
def test_pages_need_a_sign_in(client, tree, page):
    response = client.get(reverse(page, args=[tree["branch_a1"].pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.usefixtures("built")
def test_pages_are_read_only(login, tree, people):
    response = login(people["county_staff"]).post(reverse("reports:unit", args=[tree["county"].pk]))
    assert response.status_code == 405


@pytest.mark.usefixtures("built")
def test_a_deputy_loses_the_branch_when_the_principal_s_role_ends(login, tree, people):
    from branches.models import RoleAssignment

    RoleAssignment.objects.filter(user=people["secretary_a1"]).update(ends_on="2024-06-30")
    assert login(people["deputy_a1"]).get(reverse("reports:unit", args=[tree["branch_a1"].pk])).status_code == 404


def test_home_scopes_are_the_user_s_own_units_and_party_organizations(tree, people):
    assert home_scopes(people["secretary_a1"]) == ([tree["branch_a1"]], [])
    assert home_scopes(people["party_a"]) == ([], [tree["party_a"]])
    assert home_scopes(people["system_admin"]) == ([], [])


@pytest.mark.parametrize(
    ("persona", "shown"),
    [
        ("county_staff", True),
        ("township_a_staff", True),
        ("secretary_a1", True),
        ("party_a", True),
        ("system_admin", False),
        ("security_admin", False),
        ("audit_admin", False),
        ("nobody", False),
    ],
)
def test_the_navigation_offers_reports_to_league_roles_and_party_organizers(login, people, persona, shown):
    body = login(people[persona]).get(reverse("home")).content.decode()
    assert ('data-testid="nav-reports"' in body) is shown
    assert (f'href="{reverse("reports:home")}"' in body) is shown
