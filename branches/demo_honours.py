"""Demo honours for a demo county: a few dozen members and a few units honoured over the last three
years, at every level, recorded by the county committee and audited like real ones (so they show on
the members' timelines). Deterministic for a county; inserted in bulk; added once."""

from __future__ import annotations

import random

from auditlog.models import LogEntry
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from branches.audit import audit_events_bulk
from branches.models import Honour, HonourLevel, HonourTitle, Organization, OrganizationKind, Role, User
from members.models import LeaguePost, Member

MEMBER_HONOURS = 40
# Title → (awarded to people, awarded to units), as branches/migrations/0011 creates them.
DEMO_TITLES = {
    "优秀共青团员": (True, False),
    "优秀共青团干部": (True, False),
    "青年岗位能手": (True, False),
    "五四奖章": (True, True),
    "五四红旗团支部": (False, True),
    "五四红旗团委": (False, True),
}
LEVEL_WEIGHTS = {HonourLevel.COUNTY: 60, HonourLevel.CITY: 25, HonourLevel.PROVINCE: 12, HonourLevel.NATIONAL: 3}


def _issuers(county: Organization) -> dict[str, str]:
    return {
        HonourLevel.COUNTY: county.name,
        HonourLevel.CITY: "共青团贵阳市委员会",
        HonourLevel.PROVINCE: "共青团贵州省委员会",
        HonourLevel.NATIONAL: "共青团中央",
    }


@transaction.atomic
def seed_honours(county: Organization) -> int:
    """Honours for the county's members and units, unless it has some already (idempotent)."""
    in_county = Q(member__branch__path__startswith=county.path) | Q(organization__path__startswith=county.path)
    recorder = User.objects.filter(roles__role=Role.COUNTY_STAFF, roles__organization=county).first()
    if recorder is None or Honour.objects.filter(in_county).exists():
        return 0
    # The titles come with a data migration; tests that flush the database remove them, so make sure.
    titles = {
        name: HonourTitle.objects.get_or_create(name=name, defaults={"for_members": people, "for_units": units})[0]
        for name, (people, units) in DEMO_TITLES.items()
    }
    rng = random.Random(f"honours-{county.code}")
    this_year = timezone.localdate().year
    years = [this_year - 3, this_year - 2, this_year - 1]
    issuers = _issuers(county)
    honours: dict[tuple, Honour] = {}  # keyed like the unique constraints: no duplicate is drawn

    def level() -> str:
        return rng.choices(list(LEVEL_WEIGHTS), list(LEVEL_WEIGHTS.values()))[0]

    members = list(
        Member.objects.active()
        .filter(branch__path__startswith=county.path)
        .order_by("pk")
        .values_list("pk", "league_post")
    )
    for pk, post in rng.sample(members, min(MEMBER_HONOURS, len(members))):
        if post == LeaguePost.SECRETARY:
            name = "优秀共青团干部"
        else:
            name = rng.choices(["优秀共青团员", "青年岗位能手", "五四奖章"], [80, 15, 5])[0]
        chosen = HonourLevel.CITY if name == "五四奖章" else level()
        honour = Honour(
            title=titles[name],
            level=chosen,
            year=rng.choice(years),
            issuer=issuers[chosen],
            member_id=pk,
            recorded_by=recorder,
        )
        honours[(name, chosen, honour.year, "member", pk)] = honour
    units = Organization.objects.filter(path__startswith=county.path).active().order_by("code")
    branches = list(units.branches())
    townships = list(units.filter(kind=OrganizationKind.TOWNSHIP))
    unit_draws = [("五四红旗团支部", branches, 6), ("五四红旗团委", townships, 2)]
    for name, candidates, count in unit_draws:
        for unit in rng.sample(candidates, min(count, len(candidates))):
            chosen = rng.choice([HonourLevel.COUNTY, HonourLevel.COUNTY, HonourLevel.CITY])
            honour = Honour(
                title=titles[name],
                level=chosen,
                year=rng.choice(years),
                issuer=issuers[chosen],
                organization=unit,
                recorded_by=recorder,
            )
            honours[(name, chosen, honour.year, "unit", unit.pk)] = honour
    created = Honour.objects.bulk_create(honours.values())
    # The creation entries a recording through the service would leave (str() of a related object,
    # as AUDITLOG_USE_FK_STRING_REPRESENTATION stores it), so timelines show the demo's honours.
    created = Honour.objects.filter(pk__in=[h.pk for h in created]).select_related("title", "member", "organization")
    audit_events_bulk(
        [
            (
                honour,
                {
                    "title": [None, honour.title],
                    "level": [None, honour.level],
                    "year": [None, honour.year],
                    "issuer": [None, honour.issuer],
                    "member" if honour.member_id else "organization": [None, honour.recipient],
                },
            )
            for honour in created
        ],
        actor=recorder,
        action=LogEntry.Action.CREATE,
    )
    return len(honours)
