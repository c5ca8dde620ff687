"""The demo county: its shape, determinism, idempotence, and that each demo account sees its part."""

from collections import Counter

import pytest
from django.core.management import call_command

from branches.demo import DEMO_PASSWORD, plan_county
from branches.models import BRANCH_KINDS, COMMITTEE_KINDS, Organization, OrganizationKind, Role, User
from branches.scope import user_scope


@pytest.fixture
def demo(db):
    call_command("seed_demo", members=500)


def test_the_demo_county_has_the_real_county_shape(demo):
    kinds = Counter(Organization.objects.values_list("kind", flat=True))
    assert kinds[OrganizationKind.COUNTY] == 1
    assert kinds[OrganizationKind.TOWNSHIP] + kinds[OrganizationKind.STREET] == 10
    assert kinds[OrganizationKind.GENERAL_BRANCH] == 18
    assert sum(kinds[k] for k in BRANCH_KINDS) == 132
    sectors = set(Organization.objects.values_list("sector", flat=True))
    assert {"village", "community", "school", "enterprise", "social", "public"} <= sectors
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_running_it_twice_duplicates_nothing(demo):
    counts = (Organization.objects.count(), User.objects.count())
    call_command("seed_demo")
    assert (Organization.objects.count(), User.objects.count()) == counts


def _flatten(plan):
    return [(plan.code, plan.name, plan.kind), *(row for child in plan.children for row in _flatten(child))]


def test_it_is_deterministic(demo):
    planned = _flatten(plan_county(1))
    assert planned == _flatten(plan_county(1))
    assert set(Organization.objects.values_list("code", "name", "kind")) == set(planned)


def test_demo_accounts_see_exactly_their_scope(demo):
    total = Organization.objects.count()
    county = User.objects.get(username="county")
    assert Organization.objects.visible_to(county).count() == total
    township = User.objects.get(username="township01")
    (committee,) = [a.organization for a in user_scope(township).assignments]
    assert committee.kind in COMMITTEE_KINDS
    visible = Organization.objects.visible_to(township)
    assert set(visible.values_list("pk", flat=True)) == set(
        Organization.objects.filter(path__startswith=committee.path).values_list("pk", flat=True)
    )
    secretary = User.objects.get(username="branch001")
    assert Organization.objects.visible_to(secretary).count() == 1
    assert User.objects.get(username="deputy001").check_password(DEMO_PASSWORD)
    party = User.objects.get(username="party01")
    paired = Organization.objects.filter(party_organization__role_assignments__user=party)
    assert list(Organization.objects.visible_to(party)) == list(paired)  # exactly the paired units
    assert user_scope(User.objects.get(username="sysadmin")).has_role(Role.SYSTEM_ADMIN)


def test_more_counties_for_benchmarks(db):
    call_command("seed_demo", counties=3, members=300)
    assert Organization.objects.filter(kind=OrganizationKind.COUNTY).count() == 3
    assert Organization.objects.count() == 3 * Organization.objects.filter(code__startswith="C001").count()
    third = User.objects.get(username="county_c003")
    assert Organization.objects.visible_to(third).count() == Organization.objects.count() // 3


def test_the_demo_county_has_members_with_a_year_of_records(demo):
    from members import idnumbers
    from members.models import Evaluation, Member, Registration, Transfer

    members = Member.objects.all()
    assert 480 <= members.count() <= 600  # asked for 500; every branch gets at least three
    assert not Organization.objects.branches().exclude(pk__in=members.values("branch")).exists()
    for member in members.order_by("?")[:20]:
        assert idnumbers.validate_id_number(member.id_number) == member.id_number
        assert idnumbers.birth_date_of(member.id_number) == member.birth_date
    assert Registration.objects.exists() and Evaluation.objects.exists()
    assert Transfer.objects.pending().count() >= 5


def test_the_demo_keeps_the_league_s_rules(demo):
    from django.db.models import Count, Q

    from members.lifecycle import excellent_cap
    from members.models import Member, add_years

    for member in Member.objects.all():
        assert member.joined_on >= add_years(member.birth_date, 14), member
    per_branch = (
        Member.objects.order_by()
        .values("branch")
        .annotate(
            evaluated=Count("evaluations"), excellent=Count("evaluations", filter=Q(evaluations__grade="excellent"))
        )
    )
    for row in per_branch:
        assert row["excellent"] <= excellent_cap(row["evaluated"])
