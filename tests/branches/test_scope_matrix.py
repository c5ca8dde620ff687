"""Who may open what: every page of the organization tree and of account administration, for every
persona, inside and outside their scope. Out of scope is 404 (the same as missing); in scope but
not allowed is 403. Later apps add their views to this matrix."""

import pytest
from django.urls import reverse

from members import transfers
from tests.conftest import make_member

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


def expect(default: int, **overrides: int) -> dict[str, int]:
    return {persona: overrides.get(persona, default) for persona in PERSONAS}


SEES_ALL = dict(system_admin=200, security_admin=200, audit_admin=200)
ADMINS_FORBIDDEN = dict(system_admin=403, security_admin=403, audit_admin=403)

# (url name, the fixture unit or account it is about, expected status per persona)
MATRIX = [
    ("home", None, expect(200)),
    ("branches:tree", None, expect(200)),
    (
        "branches:unit",
        "branch_a1",
        # party_a is paired with township A only: not with the branch under it
        expect(404, county_staff=200, township_a_staff=200, secretary_a1=200, deputy_a1=200, **SEES_ALL),
    ),
    (
        "branches:unit",
        "township_a",
        expect(404, county_staff=200, township_a_staff=200, party_a=200, **SEES_ALL),
    ),
    (
        "branches:tree-children",
        "township_a",
        expect(404, county_staff=200, township_a_staff=200, party_a=200, **SEES_ALL),
    ),
    (
        "branches:unit-edit",
        "branch_a1",
        expect(
            404,
            county_staff=200,
            township_a_staff=200,
            secretary_a1=403,
            deputy_a1=403,
            **ADMINS_FORBIDDEN,
        ),
    ),
    (
        "branches:unit-create",
        "township_a",
        expect(404, county_staff=200, township_a_staff=200, party_a=403, **ADMINS_FORBIDDEN),
    ),
    (
        "branches:unit-move",
        "branch_a1",
        expect(
            404,
            county_staff=200,
            township_a_staff=200,
            secretary_a1=403,
            deputy_a1=403,
            **ADMINS_FORBIDDEN,
        ),
    ),
    (
        "branches:unit-move",
        "township_a",
        expect(404, county_staff=200, township_a_staff=403, party_a=403, **ADMINS_FORBIDDEN),
    ),
    (
        "branches:unit-dissolve",
        "branch_a1",
        expect(
            404,
            county_staff=200,
            township_a_staff=200,
            secretary_a1=403,
            deputy_a1=403,
            **ADMINS_FORBIDDEN,
        ),
    ),
    (
        "branches:party-organizations",
        None,
        expect(403, county_staff=200, township_a_staff=200, township_b_staff=200, **SEES_ALL),
    ),
    ("branches:party-organization-create", None, expect(403, county_staff=200)),
    ("branches:party-organization-edit", "party_a", expect(403, county_staff=200, nobody=404)),
    ("branches:accounts", None, expect(403, county_staff=200, security_admin=200)),
    ("branches:account-create", None, expect(403, county_staff=200, security_admin=200)),
    ("branches:account", "secretary_b1", expect(403, county_staff=200, security_admin=200)),
    ("branches:account", "audit_admin", expect(403, county_staff=404, security_admin=404)),
    ("branches:account", "county_staff", expect(403, security_admin=200, county_staff=404)),
    ("branches:role-grant", "secretary_b1", expect(403, county_staff=200, security_admin=200)),
    ("branches:sign-ins", None, expect(403, security_admin=200)),
    ("branches:audit", None, expect(403, audit_admin=200)),
]


def _url(name, target, tree, people):
    if target is None:
        return reverse(name)
    obj = tree[target] if target in tree else people[target]
    kwarg = "parent_pk" if name == "branches:unit-create" else "pk"
    return reverse(name, kwargs={kwarg: obj.pk})


@pytest.mark.parametrize(
    ("name", "target", "persona", "status"),
    [(name, target, persona, status) for name, target, table in MATRIX for persona, status in table.items()],
)
def test_scope_matrix(client, tree, people, login, name, target, persona, status):
    login(people[persona])
    response = client.get(_url(name, target, tree, people))
    assert response.status_code == status


@pytest.mark.parametrize(("name", "target", "_table"), MATRIX)
def test_anonymous_visitors_are_sent_to_sign_in(client, tree, people, name, target, _table):
    response = client.get(_url(name, target, tree, people))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


RECORD_ROLES = dict(
    county_staff=200, township_a_staff=200, township_b_staff=200, secretary_a1=200, deputy_a1=200, secretary_b1=200
)


def _table_of(name: str, target: str) -> dict[str, int]:
    return next(table for row_name, row_target, table in MATRIX if (row_name, row_target) == (name, target))


# The unit pickers' search, per purpose (`for`): the same answer as the picker's own page.
UNIT_CHOICES_MATRIX = [
    ("records", expect(403, **RECORD_ROLES)),
    ("branches", expect(403, **RECORD_ROLES)),
    ("roles", _table_of("branches:accounts", None)),
    ("move:branch_a1", _table_of("branches:unit-move", "branch_a1")),
    ("move:township_a", _table_of("branches:unit-move", "township_a")),
    ("anything", expect(404)),
]


def _unit_choices_url(purpose, tree):
    if purpose.startswith("move:"):
        purpose = f"move:{tree[purpose.removeprefix('move:')].pk}"
    return f"{reverse('branches:unit-choices')}?for={purpose}"


@pytest.mark.parametrize(
    ("purpose", "persona", "status"),
    [(purpose, persona, status) for purpose, table in UNIT_CHOICES_MATRIX for persona, status in table.items()],
)
def test_unit_choices_scope_matrix(client, tree, people, login, purpose, persona, status):
    login(people[persona])
    assert client.get(_unit_choices_url(purpose, tree)).status_code == status


@pytest.mark.parametrize(("purpose", "_table"), UNIT_CHOICES_MATRIX)
def test_unit_choices_send_anonymous_visitors_to_sign_in(client, tree, purpose, _table):
    response = client.get(_unit_choices_url(purpose, tree))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# The member pages' pickers whose units depend on the page's object: transfer:<member of branch A1>
# (the member's transfer page) and approve:<its transfer to township B> (placing it in a branch there).
IN_A1 = dict(county_staff=200, township_a_staff=200, secretary_a1=200, deputy_a1=200)
MEMBER_UNIT_CHOICES_MATRIX = [
    ("transfer", expect(404, **IN_A1)),
    (
        "approve",
        expect(404, county_staff=200, township_b_staff=200, township_a_staff=403, secretary_a1=403, deputy_a1=403),
    ),
]


@pytest.fixture
def transfer_to_township_b(tree, people):
    member = make_member(tree["branch_a1"])
    return transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["township_b"])


@pytest.mark.parametrize(
    ("name", "persona", "status"),
    [(name, persona, status) for name, table in MEMBER_UNIT_CHOICES_MATRIX for persona, status in table.items()],
)
def test_member_unit_choices_scope_matrix(client, tree, people, login, transfer_to_township_b, name, persona, status):
    pk = transfer_to_township_b.member_id if name == "transfer" else transfer_to_township_b.pk
    login(people[persona])
    assert client.get(f"{reverse('branches:unit-choices')}?for={name}:{pk}").status_code == status


def test_role_assignment_pages_follow_the_account(client, tree, people, login):
    role = people["secretary_b1"].roles.get()
    for name in ["branches:role-end", "branches:role-hand-over"]:
        url = reverse(name, kwargs={"pk": role.pk})
        assert login(people["county_staff"]).get(url).status_code == 200
        assert login(people["township_b_staff"]).get(url).status_code == 403
    admin_role = people["audit_admin"].roles.get()
    assert (
        login(people["county_staff"]).get(reverse("branches:role-end", kwargs={"pk": admin_role.pk})).status_code == 404
    )


@pytest.mark.parametrize("name", ["branches:account-reset-password", "branches:account-set-active"])
def test_account_actions_are_post_only_and_scoped(client, tree, people, login, name):
    url = reverse(name, kwargs={"pk": people["secretary_a1"].pk})
    assert login(people["county_staff"]).get(url).status_code == 405
    assert login(people["township_a_staff"]).post(url).status_code == 403
    url_out = reverse(name, kwargs={"pk": people["security_admin"].pk})
    assert login(people["county_staff"]).post(url_out).status_code == 404


def test_unlock_is_for_the_security_administrator_only(client, tree, people, login):
    url = reverse("branches:unlock")
    assert login(people["county_staff"]).post(url, {"username": "x"}).status_code == 403
    assert login(people["security_admin"]).get(url).status_code == 405
    assert login(people["security_admin"]).post(url, {"username": "x"}).status_code == 302


def test_the_django_admin_is_for_the_system_administrator(client, tree, people, login):
    assert login(people["system_admin"]).get(reverse("admin:index")).status_code == 200
    for persona in ["security_admin", "audit_admin", "county_staff"]:
        response = login(people[persona]).get(reverse("admin:index"))
        assert response.status_code == 302  # the admin's own sign-in page: not staff


def test_the_system_administrator_cannot_read_accounts_or_the_audit_trail_in_the_admin(client, tree, people, login):
    login(people["system_admin"])
    assert client.get("/admin/branches/user/").status_code == 404  # accounts are not in the admin at all
    assert client.get("/admin/auditlog/logentry/").status_code == 404
    assert client.get(reverse("admin:django_celery_beat_periodictask_changelist")).status_code == 200
