"""Who may open the member pages. People's records are for League roles only: county and township
staff and secretaries, for their units; Party organizers and the administrators see none."""

import pytest
from django.urls import reverse

from tests.branches.test_scope_matrix import expect
from tests.conftest import make_member

RECORD_ROLES = dict(
    county_staff=200, township_a_staff=200, township_b_staff=200, secretary_a1=200, deputy_a1=200, secretary_b1=200
)
IN_A1 = dict(county_staff=200, township_a_staff=200, secretary_a1=200, deputy_a1=200)

MATRIX = [
    ("members:list", False, expect(403, **RECORD_ROLES)),
    ("members:member-create", False, expect(403, **RECORD_ROLES)),
    ("members:over-age", False, expect(403, **RECORD_ROLES)),
    ("members:registration", False, expect(403, **RECORD_ROLES)),
    ("members:transfers", False, expect(403, **RECORD_ROLES)),
    ("members:transfer-receive", False, expect(403, **RECORD_ROLES)),
    ("members:import-upload", False, expect(403, **RECORD_ROLES)),
    ("members:import-template", False, expect(403, **RECORD_ROLES)),
    ("members:member-transfer", True, expect(404, **IN_A1)),
    ("members:member-leave", True, expect(404, **IN_A1)),
    ("members:member", True, expect(404, **IN_A1)),
    ("members:member-edit", True, expect(404, **IN_A1)),
]


@pytest.mark.parametrize(
    ("name", "about_member", "persona", "status"),
    [(name, about, persona, status) for name, about, table in MATRIX for persona, status in table.items()],
)
def test_member_scope_matrix(client, tree, people, login, name, about_member, persona, status):
    member = make_member(tree["branch_a1"])
    url = reverse(name, kwargs={"pk": member.pk}) if about_member else reverse(name)
    assert login(people[persona]).get(url).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("county_staff", 200),
        ("township_a_staff", 200),
        ("secretary_a1", 403),
        ("township_b_staff", 404),
        ("party_a", 404),
        ("audit_admin", 404),
    ],
)
def test_revealing_the_full_number(client, tree, people, login, persona, status):
    member = make_member(tree["branch_a1"])
    url = reverse("members:member-id", kwargs={"pk": member.pk})
    assert login(people[persona]).get(url).status_code == 405
    assert login(people[persona]).post(url).status_code == status
