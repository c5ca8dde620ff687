"""The demo county's committees: every committee and most branches have a term, with the mix the
pages and reminders need (overdue, due soon, none; over-age cadres; members as cadres), the same
every time, added once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from branches.committee_selectors import TermStatus, age_on, committee_warnings, term_status, with_norm_data
from branches.demo import seed_county, seed_demo_accounts
from branches.demo_committees import seed_committees
from branches.models import (
    BRANCH_KINDS,
    Cadre,
    CommitteeSeat,
    CommitteeTerm,
    OrganizationKind,
    add_years,
)
from members.demo import seed_members


@pytest.fixture
def county(db):
    county = seed_county(1)
    seed_demo_accounts(1)
    seed_members(county, target=600)
    return county


def _signature() -> list[tuple]:
    return sorted(
        CommitteeSeat.objects.values_list("term__organization__code", "term__starts_on", "post", "cadre__name", "until")
    )


def test_the_demo_county_gets_committees_with_something_to_show(county):
    today = timezone.localdate()
    added = seed_committees(county)
    current = list(with_norm_data(CommitteeTerm.objects.current(), today))
    assert added == CommitteeTerm.objects.count() > len(current)  # some previous terms too
    kinds = Counter(t.organization.kind for t in current)
    assert kinds[OrganizationKind.COUNTY] == 1
    assert kinds[OrganizationKind.TOWNSHIP] + kinds[OrganizationKind.STREET] == 10
    branches = sum(n for kind, n in kinds.items() if kind in BRANCH_KINDS)
    assert 100 < branches < 132  # most branches, not all
    statuses = Counter(term_status(t.due_on, today) for t in current)
    assert statuses[TermStatus.OVERDUE] >= 5 and statuses[TermStatus.SOON] >= 5 and statuses[TermStatus.OK] > 80
    cadres = list(Cadre.objects.all())
    ages = [age_on(c.birth_date, today) for c in cadres]
    assert min(ages) >= 14 and max(ages) <= 40
    over = [c for c, age in zip(cadres, ages, strict=True) if age > 35 and not c.age_exception]
    excepted = [c for c, age in zip(cadres, ages, strict=True) if age > 35 and c.age_exception]
    assert over and len(excepted) == 1
    assert {c.employment for c in cadres} == {"full_time", "part_time"}
    assert {c.establishment for c in cadres} == {"inside", "outside"}
    linked = [c for c in cadres if c.member_id]
    assert linked and all(c.member.branch_id == c.organization_id and c.name == c.member.name for c in linked)
    warned = [t for t in current if committee_warnings(t, today)]
    assert 5 < len(warned) < len(current) / 2  # most keep the norms
    # Every term is consistent: ends when its length says, previous terms ended at the next election.
    for term in CommitteeTerm.objects.all():
        assert term.due_on == add_years(term.starts_on, term.length_years)
        assert term.ended_on is None or term.seats.filter(until=term.ended_on).exists()


def test_seeding_is_deterministic_and_idempotent(county):
    seed_committees(county)
    first = _signature()
    assert seed_committees(county) == 0
    assert _signature() == first
    CommitteeSeat.objects.all().delete()
    CommitteeTerm.objects.all().delete()
    Cadre.objects.all().delete()
    seed_committees(county)
    assert _signature() == first
