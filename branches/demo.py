"""The demo county: a realistic, deterministic organization tree with Party pairings and accounts.

Shape (domain.md §0 describes a real county of 10 township committees, 18 general branches and
132 branches across villages, schools, enterprises and public bodies): a county committee with
8 township committees and 2 street working committees, 4 county-level grassroots committees
(two schools, the hospital, the county organs), 18 general branches and 132 branches, including a
mobile-member branch, joint and temporary branches.

The tree is inserted in bulk with precomputed materialized paths, so that `--counties 100` for
benchmarks stays fast; the same random seed always builds the same county.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction

from branches.models import (
    BRANCH_KINDS,
    Organization,
    OrganizationKind,
    PartyOrganization,
    Role,
    RoleAssignment,
    Sector,
    User,
)

DEMO_PASSWORD = "Tuanwei@2026demo"

COUNTY_NAMES = ["青山县", "白水县", "石门县", "云台县", "龙泉县", "桃源县", "清河县", "凤鸣县", "长岭县", "平川县"]
TOWNSHIP_NAMES = ["城关镇", "青石镇", "柳溪乡", "白云乡", "龙潭镇", "花桥镇", "三合乡", "新田镇"]
STREET_NAMES = ["东城街道", "西城街道"]
VILLAGE_PREFIXES = "东西南北上下前后大小新老高平长青红金石水"
VILLAGE_SUFFIXES = ["家村", "坪村", "坝村", "寨村", "湾村", "岭村", "桥村", "塘村", "沟村", "田村"]
COMMUNITY_NAMES = ["和平", "幸福", "阳光", "锦绣", "文化", "建设", "人民", "花园"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
ENTERPRISE_NAMES = ["宏达电子", "金穗食品", "华兴纺织", "山水旅游", "绿源茶业", "鑫隆建材", "永安物流", "天成机械"]
ORGANS = ["县教育局", "县卫生健康局", "县公安局", "县交通运输局", "县农业农村局"]

BRANCHES_PER_COUNTY = 132


@dataclass
class PlannedUnit:
    name: str
    code: str
    kind: str
    sector: str
    party: str | None  # the name of the paired Party organization, if any
    children: list[PlannedUnit] = field(default_factory=list)

    def add(self, *units: PlannedUnit) -> PlannedUnit:
        self.children.extend(units)
        return self


def county_code(number: int) -> str:
    return f"C{number:03d}"


def county_name(number: int) -> str:
    base = COUNTY_NAMES[(number - 1) % len(COUNTY_NAMES)]
    return base if number <= len(COUNTY_NAMES) else f"{base[:-1]}{number}县"


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_NAMES) for _ in range(rng.choice([1, 2])))


def plan_county(number: int) -> PlannedUnit:
    """The county's tree as nested plans: pure data, no database."""
    rng = random.Random(number)
    county = county_name(number)
    cc = county_code(number)

    def unit(name, code, kind, sector, party=None):
        return PlannedUnit(name, code, kind, sector, party)

    K, S = OrganizationKind, Sector
    root = unit(f"共青团{county}委员会", cc, K.COUNTY, S.PUBLIC_INSTITUTION, f"中共{county}委员会组织部")

    # County-level grassroots committees.
    school = unit(f"共青团{county}第一中学委员会", f"{cc}-S1", K.GRASSROOTS, S.SCHOOL, f"中共{county}第一中学委员会")
    for g, grade in enumerate(["高一", "高二", "高三"], start=1):
        general = unit(f"{county}第一中学{grade}年级团总支", f"{cc}-S1-G{g}", K.GENERAL_BRANCH, S.SCHOOL, school.party)
        general.add(
            *[
                unit(f"{grade}({c})班团支部", f"{cc}-S1-G{g}-{c:02d}", K.BRANCH, S.SCHOOL, school.party)
                for c in range(1, 5)
            ]
        )
        school.add(general)
    vocational = unit(
        f"共青团{county}职业技术学校委员会", f"{cc}-S2", K.GRASSROOTS, S.SCHOOL, f"中共{county}职业技术学校支部委员会"
    )
    for g, major in enumerate(["机电", "护理"], start=1):
        general = unit(f"{major}专业部团总支", f"{cc}-S2-G{g}", K.GENERAL_BRANCH, S.SCHOOL, vocational.party)
        general.add(
            *[
                unit(f"{major}{c}班团支部", f"{cc}-S2-G{g}-{c:02d}", K.BRANCH, S.SCHOOL, vocational.party)
                for c in range(1, 4)
            ]
        )
        vocational.add(general)
    hospital = unit(
        f"共青团{county}人民医院委员会", f"{cc}-H1", K.GRASSROOTS, S.PUBLIC_INSTITUTION, f"中共{county}人民医院委员会"
    )
    hospital.add(
        *[
            unit(f"{ward}团支部", f"{cc}-H1-{i:02d}", K.BRANCH, S.PUBLIC_INSTITUTION, hospital.party)
            for i, ward in enumerate(["内科", "外科", "护理部"], start=1)
        ]
    )
    organs = unit(
        f"共青团{county}直属机关工作委员会",
        f"{cc}-J1",
        K.GRASSROOTS,
        S.PUBLIC_INSTITUTION,
        f"中共{county}直属机关工作委员会",
    )
    organs.add(
        *[
            unit(f"{organ}团支部", f"{cc}-J1-{i:02d}", K.BRANCH, S.PUBLIC_INSTITUTION, f"中共{organ}机关支部委员会")
            for i, organ in enumerate(ORGANS, start=1)
        ]
    )
    mobile = unit(f"{county}流动团员团支部", f"{cc}-M1", K.MOBILE_BRANCH, S.OTHER, None)
    root.add(school, vocational, hospital, organs, mobile)

    # Township committees and street working committees.
    townships = []
    for t, name in enumerate(TOWNSHIP_NAMES + STREET_NAMES, start=1):
        is_street = name in STREET_NAMES
        kind = K.STREET if is_street else K.TOWNSHIP
        party = f"中共{county}{name}{'工作委员会' if is_street else '委员会'}"
        committee = unit(
            f"共青团{county}{name}{'工作委员会' if is_street else '委员会'}",
            f"{cc}-T{t:02d}",
            kind,
            S.PUBLIC_INSTITUTION,
            party,
        )
        townships.append(committee)
        root.add(committee)

    for t, committee in enumerate(townships, start=1):
        tc = committee.code
        place = committee.name.removeprefix(f"共青团{county}").removesuffix("工作委员会").removesuffix("委员会")
        if committee.kind == K.STREET:
            for c in range(1, 7):
                cname = COMMUNITY_NAMES[(c + t) % len(COMMUNITY_NAMES)]
                committee.add(
                    unit(f"{cname}社区团支部", f"{tc}-C{c:02d}", K.BRANCH, S.COMMUNITY, f"中共{cname}社区支部委员会")
                )
            park = unit(f"{place}工业园区非公企业团总支", f"{tc}-G1", K.GENERAL_BRANCH, S.NON_PUBLIC_ENTERPRISE, None)
            for e in range(1, 5):
                firm = ENTERPRISE_NAMES[(e + t) % len(ENTERPRISE_NAMES)]
                park.add(
                    unit(
                        f"{firm}有限公司团支部",
                        f"{tc}-G1-{e:02d}",
                        K.BRANCH,
                        S.NON_PUBLIC_ENTERPRISE,
                        f"中共{firm}有限公司支部委员会",
                    )
                )
            committee.add(
                park,
                unit(f"{place}学社衔接临时团支部", f"{tc}-X1", K.TEMPORARY_BRANCH, S.COMMUNITY, committee.party),
            )
            if t == len(townships):
                committee.add(
                    unit(f"{place}青年志愿者协会团支部", f"{tc}-N1", K.BRANCH, S.SOCIAL_ORGANIZATION, None),
                    unit(
                        f"{place}小微企业联合团支部",
                        f"{tc}-L1",
                        K.JOINT_BRANCH,
                        S.NON_PUBLIC_ENTERPRISE,
                        committee.party,
                    ),
                )
            continue
        school_gb = unit(f"{place}中学团总支", f"{tc}-G1", K.GENERAL_BRANCH, S.SCHOOL, f"中共{place}中学支部委员会")
        school_gb.add(
            *[
                unit(f"{place}中学{grade}年级团支部", f"{tc}-G1-{i:02d}", K.BRANCH, S.SCHOOL, school_gb.party)
                for i, grade in enumerate(["八", "九"], start=1)
            ]
        )
        committee.add(
            school_gb,
            unit(f"{place}卫生院团支部", f"{tc}-W1", K.BRANCH, S.PUBLIC_INSTITUTION, f"中共{place}卫生院支部委员会"),
        )
        if t <= 4:
            firm = ENTERPRISE_NAMES[t]
            committee.add(
                unit(
                    f"{firm}有限公司团支部",
                    f"{tc}-E1",
                    K.BRANCH,
                    S.NON_PUBLIC_ENTERPRISE,
                    f"中共{firm}有限公司支部委员会",
                )
            )
        if t <= 3:
            farm = unit(f"{place}农业园区团总支", f"{tc}-G2", K.GENERAL_BRANCH, S.NON_PUBLIC_ENTERPRISE, None)
            farm.add(
                *[
                    unit(f"{place}{crop}合作社团支部", f"{tc}-G2-{i:02d}", K.BRANCH, S.NON_PUBLIC_ENTERPRISE, None)
                    for i, crop in enumerate(["茶叶", "果蔬"], start=1)
                ]
            )
            committee.add(farm)
    # Villages fill the county up to its 132 branches, spread evenly over the townships.
    branch_count = sum(1 for _ in _walk_branches(root))
    villages_needed = BRANCHES_PER_COUNTY - branch_count
    rural = [c for c in townships if c.kind == K.TOWNSHIP]
    used_names: set[str] = set()
    for v in range(villages_needed):
        committee = rural[v % len(rural)]
        while True:
            vname = rng.choice(VILLAGE_PREFIXES) + rng.choice(VILLAGE_PREFIXES) + rng.choice(VILLAGE_SUFFIXES)
            if vname not in used_names:
                used_names.add(vname)
                break
        # Two villages are left unpaired so that the demo has something on the county's to-do list.
        party = None if v in (5, 17) else f"中共{vname.removesuffix('村')}村支部委员会"
        committee.add(
            unit(f"{vname}团支部", f"{committee.code}-V{v // len(rural) + 1:02d}", K.BRANCH, S.VILLAGE, party)
        )
    return root


def _walk(unit: PlannedUnit):
    yield unit
    for child in unit.children:
        yield from _walk(child)


def _walk_branches(unit: PlannedUnit):
    return (u for u in _walk(unit) if u.kind in BRANCH_KINDS)


@transaction.atomic
def seed_county(number: int) -> Organization | None:
    """Insert county `number` with its Party organizations, unless its code exists (idempotent)."""
    plan = plan_county(number)
    if Organization.objects.filter(code=plan.code).exists():
        return None
    rng = random.Random(10_000 + number)
    last_root = Organization.objects.get_last_root_node()
    root_path = last_root._inc_path() if last_root else Organization._get_path(None, 1, 1)

    rows: list[Organization] = []
    party_names: dict[str, None] = {}

    def place(unit: PlannedUnit, path: str, parent_name: str) -> None:
        founded = date(2005, 1, 1) + timedelta(days=rng.randrange(0, 365 * 18))
        rows.append(
            Organization(
                name=unit.name,
                code=unit.code,
                kind=unit.kind,
                sector=unit.sector,
                path=path,
                depth=len(path) // Organization.steplen,
                numchild=len(unit.children),
                founded_on=founded,
                approved_by=parent_name,
                contact_phone=f"0851-{rng.randrange(2000000, 8999999)}",
            )
        )
        rows[-1]._planned_party = unit.party
        if unit.party:
            party_names[unit.party] = None
        for position, child in enumerate(sorted(unit.children, key=lambda c: c.code), start=1):
            place(child, Organization._get_path(path, len(path) // Organization.steplen + 1, position), unit.name)

    place(plan, root_path, f"共青团{county_name(number)[:-1]}市委员会")
    county = rows[0]
    county.save()  # the county first: Party organizations belong to it
    parties = PartyOrganization.objects.bulk_create(
        [
            PartyOrganization(
                county=county, name=name, contact_name=_person(rng), contact_phone=f"139{rng.randrange(10**7, 10**8)}"
            )
            for name in party_names
        ]
    )
    party_by_name = {p.name: p for p in parties}
    for row in rows:
        row.party_organization = party_by_name.get(row._planned_party)
    county.party_organization = party_by_name.get(county._planned_party)
    county.save(update_fields=["party_organization"])
    Organization.objects.bulk_create(rows[1:])
    return county


def seed_demo_accounts(number: int = 1) -> list[tuple[str, str]]:
    """Demo accounts for county `number`: every role, documented in the README. Idempotent."""
    county = Organization.objects.get(code=county_code(number))
    created: list[tuple[str, str]] = []
    # Hashed once: 150 separate hashes would take most of a minute, and these are demo accounts.
    demo_password_hash = make_password(DEMO_PASSWORD)

    def account(username: str, full_name: str, role: str, *, may_export_records: bool = False, **binding) -> User:
        user, made = User.objects.get_or_create(
            username=username, defaults={"full_name": full_name, "password": demo_password_hash}
        )
        if made:
            created.append((username, str(Role(role).label)))
        RoleAssignment.objects.get_or_create(
            user=user,
            role=role,
            defaults={"starts_on": date(2024, 1, 1), "may_export_records": may_export_records, **binding},
            **binding,
        )
        return user

    people = random.Random(f"accounts-{number}")
    suffix = "" if number == 1 else f"_c{number:03d}"
    account(f"county{suffix}", "赵文", Role.COUNTY_STAFF, organization=county, may_export_records=True)
    if number != 1:
        return created
    committees = list(
        Organization.objects.filter(
            path__startswith=county.path, kind__in=[OrganizationKind.TOWNSHIP, OrganizationKind.STREET]
        )
    )
    for i, committee in enumerate(sorted(committees, key=lambda c: c.code), start=1):
        account(
            f"township{i:02d}", _person(people), Role.TOWNSHIP_STAFF, organization=committee, may_export_records=True
        )
    branches = Organization.objects.subtree_of([county.path]).branches().order_by("code")
    secretaries = {}
    for i, branch in enumerate(branches, start=1):
        secretaries[i] = account(f"branch{i:03d}", _person(people), Role.BRANCH_SECRETARY, organization=branch)
    first_branch = branches.first()
    account(
        "deputy001",
        _person(people),
        Role.BRANCH_SECRETARY,
        organization=first_branch,
        deputy_for=secretaries[1],
    )
    township_party = Organization.objects.get(code=f"{county.code}-T01").party_organization
    account("party01", township_party.contact_name, Role.PARTY_ORGANIZER, party_organization=township_party)
    account("sysadmin", "系统管理员", Role.SYSTEM_ADMIN)
    account("secadmin", "安全管理员", Role.SECURITY_ADMIN)
    account("auditadmin", "审计管理员", Role.AUDIT_ADMIN)
    return created
