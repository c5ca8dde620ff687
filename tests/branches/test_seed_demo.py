"""The demo county: its shape, determinism, idempotence, and that each demo account sees its part."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from branches.demo import DEMO_PASSWORD, plan_county
from branches.models import BRANCH_KINDS, COMMITTEE_KINDS, Organization, OrganizationKind, Role, User
from branches.scope import user_scope
from tests.conftest import TEST_SETTINGS


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """One demo county (500 members, a few seconds) for the checks of the class, which only read it (or
    roll back what they write), rolled back after the last of them."""
    with django_db_blocker.unblock(), override_settings(**TEST_SETTINGS), transaction.atomic():
        call_command("seed_demo", members=500)
        yield
        transaction.set_rollback(True)


def _flatten(plan):
    return [(plan.code, plan.name, plan.kind), *(row for child in plan.children for row in _flatten(child))]


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")
class TestTheDemoCounty:
    def test_the_demo_county_has_the_real_county_shape(self):
        kinds = Counter(Organization.objects.values_list("kind", flat=True))
        assert kinds[OrganizationKind.COUNTY] == 1
        assert kinds[OrganizationKind.TOWNSHIP] + kinds[OrganizationKind.STREET] == 10
        assert kinds[OrganizationKind.GENERAL_BRANCH] == 18
        assert sum(kinds[k] for k in BRANCH_KINDS) == 132
        sectors = set(Organization.objects.values_list("sector", flat=True))
        assert {"village", "community", "school", "enterprise", "social", "public"} <= sectors
        assert Organization.objects.find_problems() == ([], [], [], [], [])

    def test_running_it_twice_duplicates_nothing(self):
        counts = (Organization.objects.count(), User.objects.count())
        call_command("seed_demo")
        assert (Organization.objects.count(), User.objects.count()) == counts

    def test_it_is_deterministic(self):
        planned = _flatten(plan_county(1))
        assert planned == _flatten(plan_county(1))
        assert set(Organization.objects.values_list("code", "name", "kind")) == set(planned)

    def test_demo_accounts_see_exactly_their_scope(self):
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

    def test_the_demo_county_has_members_with_a_year_of_records(self):
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

    def test_the_demo_keeps_the_league_s_rules(self):
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


def test_more_counties_for_benchmarks(db):
    call_command("seed_demo", counties=3, members=300)
    assert Organization.objects.filter(kind=OrganizationKind.COUNTY).count() == 3
    assert Organization.objects.count() == 3 * Organization.objects.filter(code__startswith="C001").count()
    third = User.objects.get(username="county_c003")
    assert Organization.objects.visible_to(third).count() == Organization.objects.count() // 3
