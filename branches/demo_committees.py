"""Demo committees for a demo county: a current term for the county committee, every township
committee and most general branches and branches (some overdue, some due soon, a few never
recorded), some with their previous term, and their cadres: realistic ages (students in school
branches, a few over 35 without an exception, one with), mixed full-time / part-time and inside /
outside the establishment, branch officers linked to their member records. Most committees keep
the norms; a few break them, so that the warnings have something to show.

Deterministic for a county; inserted in bulk; added once."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from branches.committee_selectors import default_term_years, notice_days
from branches.models import (
    BRANCH_KINDS,
    Cadre,
    CommitteePost,
    CommitteeSeat,
    CommitteeTerm,
    Education,
    Employment,
    Establishment,
    Organization,
    OrganizationKind,
    Role,
    Sector,
    User,
    add_years,
)
from members.demo import GIVEN, SURNAMES
from members.models import LeaguePost, Member

P = CommitteePost
# The committee each kind of unit elects when it keeps the norms (domain.md §2.3 and §0's 1+1+3).
SHAPES = {
    OrganizationKind.COUNTY: [P.SECRETARY, P.DEPUTY_SECRETARY, P.DEPUTY_SECRETARY, *[P.COMMITTEE] * 4],
    OrganizationKind.TOWNSHIP: [P.SECRETARY, P.DEPUTY_SECRETARY, P.ORGANIZATION, P.PUBLICITY, P.COMMITTEE],
    OrganizationKind.GRASSROOTS: [P.SECRETARY, P.DEPUTY_SECRETARY, P.ORGANIZATION, P.PUBLICITY, *[P.COMMITTEE] * 3],
    OrganizationKind.GENERAL_BRANCH: [P.SECRETARY, P.DEPUTY_SECRETARY, P.ORGANIZATION, P.PUBLICITY, P.COMMITTEE],
}
SHAPES[OrganizationKind.STREET] = SHAPES[OrganizationKind.TOWNSHIP]
BRANCH_COMMITTEE = [P.SECRETARY, P.ORGANIZATION, P.PUBLICITY]
WITHOUT_TERM = 0.08  # branches and general branches never recorded
OVERDUE, DUE_SOON = 0.12, 0.10  # shares of terms overdue and due within the notice period
WITH_HISTORY = 0.3  # terms whose previous term is recorded too


@dataclass
class PlannedTerm:
    unit: Organization
    starts_on: date
    length: int
    ended_on: date | None = None
    seats: list[tuple[Cadre, str, date, date | None]] = field(default_factory=list)


class _People:
    """Draws cadres: names, ages and backgrounds fitting the unit."""

    def __init__(self, rng: random.Random, today: date):
        self.rng, self.today = rng, today
        self.over_age_left = 6  # over 35 without an exception: the warnings have work
        self.exception_left = 1  # and one with a recorded exception

    def _born(self, low: float, high: float) -> date:
        return self.today - timedelta(days=int(self.rng.uniform(low, high) * 365.25))

    def new(self, unit: Organization, post: str) -> Cadre:
        rng = self.rng
        student = unit.sector == Sector.SCHOOL and unit.kind in BRANCH_KINDS
        committee = unit.kind in SHAPES and unit.kind != OrganizationKind.GENERAL_BRANCH
        age_exception = ""
        if student:
            born = self._born(14.5, 18)
        elif self.exception_left and committee and post == P.SECRETARY:
            born, age_exception = self._born(37, 39), "县委组织部批准：工作需要，暂缓调整（2025年）"
            self.exception_left -= 1
        elif self.over_age_left and rng.random() < 0.05:
            born = self._born(35.5, 38.5)
            self.over_age_left -= 1
        else:
            born = self._born(24, 34.5) if committee else self._born(20, 32)
        # A committee's secretary is mostly full-time, its deputy mostly part-time (the 1+1+3).
        full_time = committee and rng.random() < {P.SECRETARY: 0.7, P.DEPUTY_SECRETARY: 0.1}.get(post, 0)
        # A committee's secretary comes from the civil service, most others from outside it.
        inside = (post == P.SECRETARY or rng.random() < 0.2) if committee else unit.sector == Sector.PUBLIC_INSTITUTION
        if student:
            education = Education.JUNIOR if "中学" in unit.name and "年级" in unit.name else Education.SENIOR
        elif committee:
            education = rng.choices([Education.COLLEGE, Education.BACHELOR, Education.MASTER], [25, 65, 10])[0]
        else:
            education = rng.choices([Education.SENIOR, Education.COLLEGE, Education.BACHELOR], [35, 40, 25])[0]
        return Cadre(
            organization=unit,
            name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2]))),
            sex=rng.choice("MF"),
            birth_date=born,
            education=education,
            employment=Employment.FULL_TIME if full_time else Employment.PART_TIME,
            establishment=Establishment.INSIDE if inside else Establishment.OUTSIDE,
            phone=f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}",
            age_exception=age_exception,
        )

    @staticmethod
    def from_member(unit: Organization, member: Member) -> Cadre:
        return Cadre(
            organization=unit,
            member=member,
            name=member.name,
            sex=member.sex,
            birth_date=member.birth_date,
            education=member.education,
            employment=Employment.PART_TIME,
            establishment=Establishment.OUTSIDE,
            phone=member.phone,
        )


def _due_on(rng: random.Random, today: date, length: int) -> date:
    roll = rng.random()
    if roll < OVERDUE:
        return today - timedelta(days=rng.randint(5, 300))
    if roll < OVERDUE + DUE_SOON:
        return today + timedelta(days=rng.randint(0, notice_days()))
    return today + timedelta(days=rng.randint(notice_days() + 1, length * 365 - 30))


def _shape(rng: random.Random, unit: Organization, members: int) -> list[str]:
    """The posts of the unit's committee: mostly by the norms, now and then not."""
    if unit.kind in BRANCH_KINDS:
        if members < 7:
            return [P.SECRETARY]
        if rng.random() < 0.1:
            return [P.SECRETARY]  # a branch that never elected its committee: a warning
        return BRANCH_COMMITTEE + ([P.COMMITTEE, P.COMMITTEE] if members > 40 and rng.random() < 0.5 else [])
    shape = list(SHAPES[unit.kind])
    if unit.kind == OrganizationKind.GENERAL_BRANCH and rng.random() < 0.2:
        return shape[:3]  # too small for a general branch: a warning
    if unit.kind in (OrganizationKind.TOWNSHIP, OrganizationKind.STREET) and rng.random() < 0.15:
        return shape[:4]  # a member short of the 1+1+3
    return shape


@transaction.atomic
def seed_committees(county: Organization) -> int:
    """Terms and cadres for the county's units, unless it has some already (idempotent). Returns the
    number of terms added."""
    units = list(Organization.objects.subtree_of([county.path]).active().order_by("path"))
    recorder = User.objects.filter(roles__role=Role.COUNTY_STAFF, roles__organization=county).first()
    if recorder is None or CommitteeTerm.objects.filter(organization__in=units).exists():
        return 0
    rng = random.Random(f"committees-{county.code}")
    today = timezone.localdate()
    people = _People(rng, today)
    members = {
        unit_id: n
        for unit_id, n in Member.objects.active()
        .filter(branch__in=units)
        .order_by()
        .values_list("branch")
        .annotate(n=Count("pk"))
    }
    officers: dict[tuple[int, str], Member] = {
        (m.branch_id, m.league_post): m
        for m in Member.objects.active().filter(
            branch__in=units, league_post__in=[LeaguePost.SECRETARY, LeaguePost.ORGANIZATION]
        )
    }
    plans: list[PlannedTerm] = []
    for unit in units:
        recorded_always = unit.kind in SHAPES and unit.kind != OrganizationKind.GENERAL_BRANCH
        if not recorded_always and rng.random() < WITHOUT_TERM:
            continue
        length = default_term_years(unit)
        # A unit founded since was elected when it was founded (and may be overdue since).
        starts_on = max(add_years(_due_on(rng, today, length), -length), unit.founded_on or date.min)
        current = PlannedTerm(unit, starts_on, length)
        for post in _shape(rng, unit, members.get(unit.pk, 0)):
            member = officers.get((unit.pk, post)) if post in (P.SECRETARY, P.ORGANIZATION) else None
            cadre = people.from_member(unit, member) if member else people.new(unit, post)
            current.seats.append((cadre, post, starts_on, None))
        previous_start = add_years(starts_on, -length)
        if rng.random() < WITH_HISTORY and previous_start >= (unit.founded_on or date.min):
            previous = PlannedTerm(unit, previous_start, length, ended_on=starts_on)
            for cadre, post, _since, _until in current.seats[:2]:  # re-elected
                previous.seats.append((cadre, post, previous.starts_on, starts_on))
            left = people.new(unit, P.PUBLICITY)
            previous.seats.append((left, P.PUBLICITY, previous.starts_on, starts_on))
            plans.append(previous)
        plans.append(current)
    _insert(plans, recorder)
    return len(plans)


def _insert(plans: list[PlannedTerm], recorder: User) -> None:
    """Cadres, terms and seats in three bulk inserts (bulk_create skips save(): due_on is set here)."""
    cadres = list({id(cadre): cadre for plan in plans for cadre, *_ in plan.seats}.values())
    Cadre.objects.bulk_create(cadres, batch_size=1000)
    terms = [
        CommitteeTerm(
            organization=plan.unit,
            starts_on=plan.starts_on,
            length_years=plan.length,
            due_on=add_years(plan.starts_on, plan.length),
            ended_on=plan.ended_on,
            recorded_by=recorder,
        )
        for plan in plans
    ]
    CommitteeTerm.objects.bulk_create(terms, batch_size=1000)
    CommitteeSeat.objects.bulk_create(
        [
            CommitteeSeat(term=term, cadre=cadre, post=post, since=since, until=until)
            for plan, term in zip(plans, terms, strict=True)
            for cadre, post, since, until in plan.seats
        ],
        batch_size=1000,
    )
