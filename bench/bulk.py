"""The bulk of the benchmark data: units, accounts, members, a year of branch life and the 推优 pipeline,
written with COPY (and, for attendance, one INSERT … SELECT per county) so that a province slice of a
million members loads in minutes, not hours.

The rows follow the rules the services keep, so the pages and reports read them as they read real data:
- units hang in the county's materialized-path tree (township committees with a general branch of a
  school and some forty branches, most paired with a Party organization), each branch with a
  secretary's account and each committee with its staff's;
- members carry valid, unique ID numbers (encrypted and hashed as Member.id_number does), realistic
  ages, sexes, education and occupation (members/demo.py draws them), last year's evaluation (优秀 at
  most the configured share per branch) and registrations (some branches late with this year's);
- activities follow each kind's cadence, some branches gone silent, a few hollow; attendance is every
  member on the roll by the day (the branch committee for its meetings);
- each 推优 case (推优, recommending members to the Party) is one story from opening to its stage today,
  with its transitions in order, its round, nomination, votes and opinions, the quarterly cultivation
  and monthly follow-up reports (some missing), talks, and one audit entry per step.

Deterministic for a seed. PostgreSQL only (COPY).
"""

from __future__ import annotations

import io
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from bench.suite import Size, load_average
from branches.activity_selectors import add_months, cadence_of, month_end, month_start, months_between, quarter_start
from branches.committee_selectors import default_term_years
from branches.demo import DEMO_PASSWORD, county_code, seed_county, seed_demo_accounts
from branches.demo_activities import ABSENCE_REASONS, DEFAULT_PLACES, KIND_TOPICS, PLACES, _seed_topics
from branches.models import (
    BRANCH_KINDS,
    COMMITTEE_KINDS,
    Activity,
    ActivityKind,
    Cadence,
    CommitteeTerm,
    Organization,
    OrganizationKind,
    PartyOrganization,
    Role,
    RoleAssignment,
    Sector,
    User,
)
from members import idnumbers
from members.demo import (
    ETHNICITY_WEIGHTS,
    GIVEN,
    REGION_CODES,
    SECTOR_SIZES,
    SURNAMES,
    _birth_date,
    _education,
    _occupation,
)
from members.lifecycle import excellent_cap
from members.models import (
    Evaluation,
    EvaluationGrade,
    LeaguePost,
    Member,
    PoliticalStatus,
    Registration,
    add_years,
)
from promotion.models import (
    CaseTransition,
    CultivationReport,
    FollowUpReport,
    Nomination,
    Opinion,
    OpinionSource,
    PromotionCase,
    PromotionRound,
    RoundStage,
    Stage,
    Talk,
    Track,
)

# --- timing ------------------------------------------------------------------------------------------


class Steps:
    """Seconds per named step, summed over the counties, printed as they finish and at the end."""

    def __init__(self, out: Callable[[str], None] = print):
        self.seconds: dict[str, float] = defaultdict(float)
        self.out = out

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[label] += time.perf_counter() - started

    def report(self) -> None:
        total = sum(self.seconds.values())
        for label, seconds in self.seconds.items():
            self.out(f"  {label:48} {seconds:8.1f} s")
        self.out(f"  {'total':48} {total:8.1f} s")


# --- COPY --------------------------------------------------------------------------------------------


def _text(value: object) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def reserve_ids(model: type[models.Model], count: int) -> int:
    """The first of `count` primary keys taken from the model's sequence (the rest follow)."""
    if count <= 0:
        return 0
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, meta.pk.column])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s)", [sequence])
        (first,) = cursor.fetchone()
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def copy_rows(model: type[models.Model], rows: list[dict], *, chunk: int = 20_000) -> list[dict]:
    """COPY `rows` (dicts by attname) into the model's table; fields left out take their default
    (auto_now and auto_now_add: now). Rows without an `id` get one from the sequence, in order."""
    if not rows:
        return rows
    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    defaults: dict[str, object] = {}
    for f in fields:
        if f.primary_key:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default():
            default = f.get_default()
            defaults[f.attname] = str(default) if isinstance(default, models.Choices) else default
        elif f.null:
            defaults[f.attname] = None
        elif isinstance(f, models.CharField | models.TextField):
            defaults[f.attname] = ""
    pk = model._meta.pk.attname
    missing = [row for row in rows if row.get(pk) is None]
    first = reserve_ids(model, len(missing))
    for offset, row in enumerate(missing):
        row[pk] = first + offset
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            buffer = io.StringIO()
            for row in rows[start : start + chunk]:
                values = (row[name] if name in row else defaults[name] for name in names)
                buffer.write("\t".join(map(_text, values)))
                buffer.write("\n")
            buffer.seek(0)
            cursor.cursor.copy_expert(sql, buffer)
    return rows


# --- the plan of one county --------------------------------------------------------------------------

TOWN_CHARS = "安宁平和兴隆丰泰福康永吉祥瑞华新明光阳春秋金玉龙凤云山河溪桥林松竹梅兰"
VILLAGE_CHARS = "东西南北上下前后大小新老高平长青红金石水"
VILLAGE_ENDINGS = ["家村", "坪村", "坝村", "寨村", "湾村", "岭村", "桥村", "塘村", "沟村", "田村"]
FIRMS = ["宏达电子", "金穗食品", "华兴纺织", "山水旅游", "绿源茶业", "鑫隆建材", "永安物流", "天成机械", "恒通汽修"]
# A township committee (乡镇团委) as the bulk builds it: a middle-school general branch (团总支) with
# four class branches, then villages, firms and communities: 47 units.
SCHOOL_BRANCHES = 4
OTHER_BRANCHES = 41
UNITS_PER_TOWNSHIP = 2 + SCHOOL_BRANCHES + OTHER_BRANCHES
HOLLOW_SHARE, SILENT_SHARE, LATE_REGISTRATION_SHARE = 0.02, 0.10, 0.3
ATTENDANCE_BATCH = 100_000  # activities per INSERT … SELECT


@dataclass
class Branch:
    """A branch the bulk fills: its row's facts, its secretary and the members drawn for it."""

    pk: int
    code: str
    name: str
    path: str
    sector: str
    party_id: int | None
    secretary_id: int | None = None
    reviewer_id: int | None = None
    members: list[dict] = field(default_factory=list)


@dataclass
class County:
    organization: Organization
    staff_id: int
    branches: list[Branch] = field(default_factory=list)  # the branches the bulk fills with members


def _pick_name(rng: random.Random, used: set[str], chars: str, endings: list[str]) -> str:
    for _ in range(200):
        name = rng.choice(chars) + rng.choice(chars) + rng.choice(endings)
        if name not in used:
            used.add(name)
            return name
    name = f"{rng.choice(chars)}{len(used)}{rng.choice(endings)}"
    used.add(name)
    return name


def build_units(county: Organization, townships: int, rng: random.Random) -> list[dict]:
    """Add `townships` township committees, each with its 46 units, under `county`; returns the new
    units' rows (with `_party` the paired Party organization's name, if any)."""
    steplen = Organization.steplen
    existing = set(Organization.objects.filter(path__startswith=county.path).values_list("name", flat=True))
    used_towns: set[str] = set()
    rows: list[dict] = []
    cc = county.code
    founded = date(2005, 1, 1)

    def unit(name, code, kind, sector, path, numchild, party, approved_by):
        rows.append(
            {
                "name": name,
                "code": code,
                "kind": kind,
                "sector": sector,
                "path": path,
                "depth": len(path) // steplen,
                "numchild": numchild,
                "founded_on": founded + timedelta(days=rng.randrange(365 * 18)),
                "approved_by": approved_by,
                "contact_phone": f"0851-{rng.randrange(2000000, 8999999)}",
                "party_organization_id": None,
                "dissolved_on": None,
                "_party": party,
            }
        )

    K, S = OrganizationKind, Sector
    for number in range(1, townships + 1):
        town = _pick_name(rng, used_towns | existing, TOWN_CHARS, ["镇", "乡"])
        town_name = f"共青团{county.name.removeprefix('共青团').removesuffix('委员会')}{town}委员会"
        path = Organization._get_path(county.path, 2, county.numchild + number)
        code = f"{cc}-B{number:03d}"
        unit(
            town_name,
            code,
            K.TOWNSHIP,
            S.PUBLIC_INSTITUTION,
            path,
            1 + OTHER_BRANCHES,
            f"中共{town}委员会",
            county.name,
        )
        school = f"{town}中学"
        school_path = Organization._get_path(path, 3, 1)
        unit(f"{school}团总支", f"{code}-G1", K.GENERAL_BRANCH, S.SCHOOL, school_path, SCHOOL_BRANCHES, None, town_name)
        for grade in range(1, SCHOOL_BRANCHES + 1):
            unit(
                f"{school}{['七', '八', '九', '初三'][grade - 1]}年级{grade}班团支部",
                f"{code}-G1-{grade:02d}",
                K.BRANCH,
                S.SCHOOL,
                Organization._get_path(school_path, 4, grade),
                0,
                f"中共{school}支部委员会",
                f"{school}团总支",
            )
        used_villages: set[str] = set()
        for position in range(1, OTHER_BRANCHES + 1):
            draw = rng.random()
            if draw < 0.7:
                place = _pick_name(rng, used_villages, VILLAGE_CHARS, VILLAGE_ENDINGS)
                name, sector = f"{town}{place}团支部", S.VILLAGE
                party = None if rng.random() < 0.05 else f"中共{town}{place.removesuffix('村')}村支部委员会"
            elif draw < 0.85:
                firm = f"{town}{FIRMS[position % len(FIRMS)]}{position}"
                name, sector, party = f"{firm}有限公司团支部", S.NON_PUBLIC_ENTERPRISE, f"中共{firm}有限公司支部委员会"
            else:
                name, sector = f"{town}第{position}社区团支部", S.COMMUNITY
                party = f"中共{town}第{position}社区支部委员会"
            unit(
                name,
                f"{code}-{position:02d}",
                K.BRANCH,
                sector,
                Organization._get_path(path, 3, 1 + position),
                0,
                party,
                town_name,
            )
    return rows


def insert_units(county: Organization, rows: list[dict]) -> None:
    """The rows' Party organizations, then the rows; the county's child count kept right."""
    parties: dict[str, None] = {row["_party"]: None for row in rows if row["_party"]}
    taken = set(PartyOrganization.objects.filter(county=county, name__in=parties).values_list("name", flat=True))
    party_rows = copy_rows(
        PartyOrganization, [{"county_id": county.pk, "name": name} for name in parties if name not in taken]
    )
    party_ids = {row["name"]: row["id"] for row in party_rows}
    party_ids.update(PartyOrganization.objects.filter(county=county, name__in=taken).values_list("name", "pk"))
    for row in rows:
        row["party_organization_id"] = party_ids.get(row.pop("_party"))
    copy_rows(Organization, rows)
    added = sum(1 for row in rows if row["depth"] == county.depth + 1)
    Organization.objects.filter(pk=county.pk).update(numchild=models.F("numchild") + added)
    county.numchild += added


def ensure_accounts(county: Organization, password_hash: str) -> tuple[dict[int, int], dict[str, int]]:
    """A secretary's account for every branch of the county that has none, a staff account for every
    committee that has none (usernames from the unit's code); returns branch id → secretary id and
    committee path → staff id."""
    units = list(
        Organization.objects.filter(path__startswith=county.path, kind__in=[*BRANCH_KINDS, *COMMITTEE_KINDS])
        .order_by("path")
        .values("pk", "code", "kind", "path")
    )
    holders = {
        (organization_id, role): user_id
        for organization_id, role, user_id in RoleAssignment.objects.filter(
            organization__path__startswith=county.path,
            role__in=[Role.BRANCH_SECRETARY, Role.TOWNSHIP_STAFF],
            deputy_for__isnull=True,
        ).values_list("organization_id", "role", "user_id")
    }
    users, roles = [], []
    today = timezone.localdate()
    for unit in units:
        role = Role.BRANCH_SECRETARY if unit["kind"] in BRANCH_KINDS else Role.TOWNSHIP_STAFF
        if (unit["pk"], role) in holders:
            continue
        prefix = "sec" if role == Role.BRANCH_SECRETARY else "staff"
        users.append(
            {
                "username": f"{prefix}_{unit['code']}".lower(),
                "password": password_hash,
                "full_name": "",
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
                "date_joined": timezone.now(),
                "last_login": None,
            }
        )
    copy_rows(User, users)
    index = 0
    for unit in units:
        role = Role.BRANCH_SECRETARY if unit["kind"] in BRANCH_KINDS else Role.TOWNSHIP_STAFF
        if (unit["pk"], role) in holders:
            continue
        user_id = users[index]["id"]
        index += 1
        holders[(unit["pk"], role)] = user_id
        roles.append(
            {
                "user_id": user_id,
                "role": role,
                "organization_id": unit["pk"],
                "party_organization_id": None,
                "may_export_records": role == Role.TOWNSHIP_STAFF,
                "starts_on": date(today.year - 2, 1, 1),
                "ends_on": None,
                "deputy_for_id": None,
            }
        )
    copy_rows(RoleAssignment, roles)
    secretaries = {
        unit["pk"]: holders[(unit["pk"], Role.BRANCH_SECRETARY)] for unit in units if unit["kind"] in BRANCH_KINDS
    }
    staff = {
        unit["path"]: holders[(unit["pk"], Role.TOWNSHIP_STAFF)] for unit in units if unit["kind"] in COMMITTEE_KINDS
    }
    return secretaries, staff


# --- members ----------------------------------------------------------------------------------------


class IdNumbers:
    """Unique, valid ID numbers: each (region, birth date, sex) gets its own run of sequence numbers,
    skipping any number already held by a record (the demo county's, drawn at random)."""

    def __init__(self, taken: set[str]):
        self.taken = taken
        self.next: dict[tuple[str, date, str], int] = defaultdict(int)

    def draw(self, rng: random.Random, born: date, sex: str) -> str:
        while True:
            region = rng.choice(REGION_CODES)
            key = (region, born, sex)
            k = self.next[key]
            if k >= 500:
                continue
            self.next[key] = k + 1
            number = idnumbers.with_check_character(f"{region}{born:%Y%m%d}{2 * k + (1 if sex == 'M' else 0):03d}")
            if idnumbers.lookup_hash(number) not in self.taken:
                return number


def member_rows(branch: Branch, count: int, rng: random.Random, ids: IdNumbers, today: date) -> list[dict]:
    rows = []
    for position in range(count):
        sex = rng.choice("MF")
        born = _birth_date(rng, today, branch.sector, branch.name)
        age = (today - born).days // 365
        joined = min(add_years(born, 14) + timedelta(days=rng.randrange(0, 900)), today)
        number = ids.draw(rng, born, sex)
        rows.append(
            {
                "branch_id": branch.pk,
                "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2]))),
                "sex": sex,
                "ethnicity": rng.choices(list(ETHNICITY_WEIGHTS), list(ETHNICITY_WEIGHTS.values()))[0],
                "id_number_encrypted": idnumbers.encrypt(number),
                "id_number_hash": idnumbers.lookup_hash(number),
                "id_number_masked": idnumbers.mask(number),
                "id_number_tail": number[-4:],
                "birth_date": born,
                "native_place": "贵州省贵阳市",
                "phone": f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}",
                "education": _education(rng, age, branch.sector),
                "occupation": _occupation(rng, branch.sector),
                "workplace": branch.name.removesuffix("团支部"),
                "joined_on": joined,
                "admission_number": f"{joined.year}{rng.randrange(10**7, 10**8)}",
                "league_post": LeaguePost.SECRETARY.value
                if position == 0
                else (LeaguePost.ORGANIZATION.value if position == 1 else ""),
                "political_status": PoliticalStatus.PROBATIONARY_PARTY.value
                if age >= 22 and rng.random() < 0.03
                else PoliticalStatus.LEAGUE_MEMBER.value,
            }
        )
    return rows


def yearly_rows(branch: Branch, rng: random.Random, today: date) -> tuple[list[dict], list[dict]]:
    """Last year's evaluation and registration of the branch's members who joined before this year,
    and this year's registration unless the branch is late or the grade bars it (as members/demo.py)."""
    last_year, this_year = today.year - 1, today.year
    late = rng.random() < LATE_REGISTRATION_SHARE
    evaluated = [m for m in branch.members if m["joined_on"].year < this_year]
    excellent_left = excellent_cap(len(evaluated))
    grades = list(EvaluationGrade)
    evaluations, registrations = [], []
    for member in evaluated:
        grade = rng.choices(grades, [20, 65, 12, 3])[0]
        if grade == EvaluationGrade.EXCELLENT:
            if excellent_left == 0:
                grade = EvaluationGrade.QUALIFIED
            else:
                excellent_left -= 1
        member["_grade"] = grade
        evaluations.append(
            {
                "member_id": member["id"],
                "year": last_year,
                "grade": grade.value,
                "follow_up_on": date(this_year, 6, 30) if grade == EvaluationGrade.UNQUALIFIED else None,
                "recorded_by_id": branch.secretary_id,
            }
        )
        registrations.append(
            {
                "member_id": member["id"],
                "year": last_year,
                "registered_on": date(last_year, 3, 15),
                "recorded_by_id": branch.secretary_id,
            }
        )
        if grade != EvaluationGrade.UNQUALIFIED and not late and today >= date(this_year, 3, 1):
            registrations.append(
                {
                    "member_id": member["id"],
                    "year": this_year,
                    "registered_on": date(this_year, 3, 10),
                    "recorded_by_id": branch.secretary_id,
                }
            )
    return evaluations, registrations


# --- branch life ------------------------------------------------------------------------------------


def activity_rows(branch: Branch, rng: random.Random, today: date, topics: dict, months: list[date]) -> list[dict]:
    """A year of the branch's activities by cadence (as branches/demo_activities.py); a silent branch
    stops at the last quarter's start, a hollow one has none. Attendance is added afterwards in SQL."""
    draw = rng.random()
    if draw < HOLLOW_SHARE:
        return []
    silent = draw < HOLLOW_SHARE + SILENT_SHARE
    silent_from = min(quarter_start(today), today - timedelta(days=90))
    diligence = rng.uniform(0.6, 1.0)
    now = timezone.now()
    rows = []
    for month in months:
        last_day = min(month_end(month), today)
        for kind in ActivityKind.values:
            cadence = cadence_of(kind)
            if cadence == Cadence.MONTHLY:
                chance = 0.95 * diligence
            elif cadence == Cadence.QUARTERLY:
                if rng.randrange(3) != 0:  # held in one month of the quarter, on average
                    continue
                chance = 0.9 * diligence
            elif kind == ActivityKind.VOLUNTEER:
                chance = 0.25 * diligence
            else:
                chance = 0.03
            if rng.random() >= chance:
                continue
            held_on = month + timedelta(days=rng.randrange((last_day - month).days + 1))
            if silent and held_on >= silent_from:
                continue
            topic = topics.get(month) if kind == ActivityKind.THEMED_DAY else None
            title = topic.title if topic else rng.choice(KIND_TOPICS.get(kind, ["团员活动"]))
            delay = rng.choice([0, 0, 1, 2, 3, 5]) if rng.random() < diligence else rng.randrange(10, 45)
            moment = datetime.combine(min(held_on + timedelta(days=delay), today), clock(20, rng.randrange(60)))
            rows.append(
                {
                    "organization_id": branch.pk,
                    "kind": kind,
                    "held_on": held_on,
                    "place": rng.choice(PLACES.get(branch.sector, DEFAULT_PLACES)),
                    "topic": title,
                    "themed_day_topic_id": topic.pk if topic else None,
                    "chair": "书记",
                    "note_taker": "组织委员",
                    "content": f"会议由支部书记主持，围绕“{title}”进行了学习和讨论，与会团员结合实际谈了体会。",
                    "recorded_by_id": branch.secretary_id,
                    "created_at": min(timezone.make_aware(moment), now),
                }
            )
    return rows


ABSENCE_SQL = "ARRAY[" + ", ".join(f"'{reason}'" for reason in ABSENCE_REASONS) + "]"


def insert_attendance(first_activity: int, last_activity: int) -> int:
    """Every member on the roll by the day (joined by then; for a committee meeting, the branch
    committee), 85 % present, then the activities' counts from it. Pseudo-random by ids: repeatable."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO branches_attendance (activity_id, member_id, present, absence_reason)
            SELECT a.id, m.id, h.draw < 85,
                   CASE WHEN h.draw < 85 THEN '' ELSE ({ABSENCE_SQL})[1 + h.draw %% {len(ABSENCE_REASONS)}] END
            FROM branches_activity a
            JOIN members_member m ON m.branch_id = a.organization_id AND m.joined_on <= a.held_on
            CROSS JOIN LATERAL (SELECT abs(hashint8(a.id::bigint * 1000003 + m.id)) %% 100 AS draw) h
            WHERE a.id BETWEEN %s AND %s AND (a.kind <> 'committee_meeting' OR m.league_post <> '')
            """,
            [first_activity, last_activity],
        )
        added = cursor.rowcount
        cursor.execute(
            """
            UPDATE branches_activity a SET present_count = s.present, absent_count = s.expected - s.present
            FROM (
                SELECT activity_id, count(*) AS expected, count(*) FILTER (WHERE present) AS present
                FROM branches_attendance WHERE activity_id BETWEEN %s AND %s GROUP BY activity_id
            ) s
            WHERE a.id = s.activity_id
            """,
            [first_activity, last_activity],
        )
    return added


# --- 推优 -------------------------------------------------------------------------------------------

# A step: (the fsm transition, from, to, days after the step before (low, high)).
NOMINATE = ("nominate", Stage.CULTIVATION, Stage.NOMINATED, (150, 240))
VOTE = ("pass_vote", Stage.NOMINATED, Stage.VOTED, (10, 20))
PUBLICIZE = ("start_publicity", Stage.VOTED, Stage.PUBLICITY, (1, 3))
SUBMIT = ("submit_for_review", Stage.PUBLICITY, Stage.IN_REVIEW, (7, 9))
APPROVE = ("approve", Stage.IN_REVIEW, Stage.APPROVED, (2, 7))
HAND_OVER = ("hand_over", Stage.APPROVED, Stage.RECOMMENDED, (2, 5))
ROUND = [NOMINATE, VOTE, PUBLICIZE, SUBMIT]
RECOMMENDED = [*ROUND, APPROVE, HAND_OVER]
DEVELOPMENT = [*RECOMMENDED, ("party_names_development_candidate", Stage.RECOMMENDED, Stage.DEVELOPMENT, (30, 120))]
PROBATIONARY = [*DEVELOPMENT, ("party_admits_probationary", Stage.DEVELOPMENT, Stage.PROBATIONARY, (90, 180))]
LAPSE_GAP = (-1, -1)  # the day after the recommendation's validity ends

# Story → (track, steps after opening, days waited in the last stage (low, high), weight).
STORIES: dict[str, tuple[str, list, tuple[int, int], int]] = {
    "cultivation": (Track.ACTIVIST, [], (30, 600), 34),
    "nominated": (Track.ACTIVIST, [NOMINATE], (1, 6), 3),
    "voted": (Track.ACTIVIST, [NOMINATE, VOTE], (1, 4), 2),
    "publicity": (Track.ACTIVIST, ROUND[:3], (0, 4), 2),
    "in_review": (Track.ACTIVIST, ROUND, (1, 25), 6),
    "returned": (Track.ACTIVIST, [*ROUND, ("return_to_branch", Stage.IN_REVIEW, Stage.RETURNED, (3, 10))], (1, 20), 1),
    "approved": (Track.ACTIVIST, [*ROUND, APPROVE], (1, 10), 3),
    "rejected": (Track.ACTIVIST, [*ROUND, ("reject", Stage.IN_REVIEW, Stage.REJECTED, (3, 10))], (5, 300), 1),
    "recommended": (Track.ACTIVIST, RECOMMENDED, (10, 400), 12),
    "activist": (
        Track.ACTIVIST,
        [*RECOMMENDED, ("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, (30, 120))],
        (10, 300),
        10,
    ),
    "development": (Track.DEVELOPMENT, DEVELOPMENT, (10, 300), 6),
    "probationary": (Track.DEVELOPMENT, PROBATIONARY, (10, 300), 5),
    "full_member": (
        Track.DEVELOPMENT,
        [*PROBATIONARY, ("party_confirms_full_member", Stage.PROBATIONARY, Stage.FULL_MEMBER, (366, 380))],
        (1, 200),
        4,
    ),
    "not_adopted": (
        Track.ACTIVIST,
        [*RECOMMENDED, ("party_does_not_adopt", Stage.RECOMMENDED, Stage.NOT_ADOPTED, (60, 150))],
        (5, 300),
        3,
    ),
    "lapsed": (Track.ACTIVIST, [*RECOMMENDED, ("lapse", Stage.RECOMMENDED, Stage.LAPSED, LAPSE_GAP)], (1, 200), 3),
    "withdrawn": (Track.ACTIVIST, [("withdraw", Stage.CULTIVATION, Stage.WITHDRAWN, (60, 200))], (5, 300), 5),
}
OPEN_ROUND_STORIES = {"nominated": RoundStage.OPINIONS, "voted": RoundStage.VOTED, "publicity": RoundStage.PUBLICITY}
REVIEW_ACTIONS = {"approve", "return_to_branch", "reject"}
CLOSING = {
    Stage.FULL_MEMBER: "预备期满，按期转为正式党员。",
    Stage.REJECTED: "材料不符合要求，不予推荐。",
    Stage.NOT_ADOPTED: "党组织研究认为需进一步培养考察，暂不确定。",
    Stage.LAPSED: "推荐有效期届满，党组织未作决定。",
    Stage.WITHDRAWN: "本人申请暂缓推优。",
}
COMMENTS = {
    "approve": "材料齐全，程序规范，同意推荐。",
    "return_to_branch": "团员大会记录缺少缺席人员及原因，请补充后重新报送。",
    "reject": "该同志入党申请书时间与档案记载不符，不予推荐。",
}
OPINION_TEXTS = {
    OpinionSource.PARTY_MEMBERS: "政治立场坚定，工作积极主动，同意推荐。",
    OpinionSource.LEAGUE_MEMBERS: "团员们一致认为该同志表现优秀。",
    OpinionSource.PARTY_ORGANIZATION: "经党支部研究，同意列为推优人选。",
}


def _weekdays_after(start: date, n: int) -> date:
    """The n-th weekday counting from `start` (publicity's five working days, holidays aside)."""
    day, counted = start, 0
    while True:
        if day.weekday() < 5:
            counted += 1
            if counted == n:
                return day
        day += timedelta(days=1)


def _at(day: date, rng: random.Random, hour: int = 10) -> datetime:
    """A moment on `day` (never after now: nothing is recorded in the future)."""
    return min(timezone.make_aware(datetime.combine(day, clock(hour, rng.randrange(60)))), timezone.now())


def _quarter(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _next_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


@dataclass
class Pipeline:
    """The rows of one county's 推优 cases, filled story by story, written by `write`."""

    today: date
    rng: random.Random
    validity_years: int = 2
    cases: list[dict] = field(default_factory=list)
    transitions: list[dict] = field(default_factory=list)
    rounds: list[dict] = field(default_factory=list)
    nominations: list[dict] = field(default_factory=list)
    opinions: list[dict] = field(default_factory=list)
    cultivation: list[dict] = field(default_factory=list)
    follow_ups: list[dict] = field(default_factory=list)
    talks: list[dict] = field(default_factory=list)

    def story(self, branch: Branch, member: dict, name: str) -> None:
        rng, today = self.rng, self.today
        track, steps, waited, _weight = STORIES[name]
        # Days from the opening to each step, then the opening placed so the last step was `waited` ago.
        # A lapse comes the day after the validity ends: its offset is first bounded (a year has at most
        # 366 days), then taken from the real dates once the opening is placed.
        offsets, day, handed_over = [], 0, None
        for action, _from, _to, gap in steps:
            day += 366 * self.validity_years if gap == LAPSE_GAP else rng.randint(*gap)
            if action == "hand_over":
                handed_over = day
            offsets.append(day)
        opened_on = today - timedelta(days=(offsets[-1] if offsets else 0) + rng.randint(*waited))
        if steps and steps[-1][3] == LAPSE_GAP:
            recommended_on = opened_on + timedelta(days=handed_over)
            offsets[-1] = (add_years(recommended_on, self.validity_years) - opened_on).days
        days = [opened_on + timedelta(days=offset) for offset in offsets]

        secretary, reviewer = branch.secretary_id, branch.reviewer_id or branch.secretary_id
        if track == Track.DEVELOPMENT:
            activist_since = add_months(opened_on, -13).replace(day=min(opened_on.day, 28))
            applied_on = add_months(activist_since, -rng.randint(6, 12))
        else:
            activist_since = None
            applied_on = add_months(opened_on, -rng.randint(1, 3))
        applied_on = applied_on.replace(day=min(opened_on.day, 28))
        case = {
            "member_id": member["id"],
            "track": track,
            "branch_id": branch.pk,
            "stage": Stage.CULTIVATION.value,
            "party_applied_on": applied_on,
            "party_applied_month_only": rng.random() < 0.3,
            "activist_since": activist_since,
            "recommended_on": None,
            "valid_until": None,
            "party_organization_id": None,
            "development_on": None,
            "probationary_on": None,
            "full_member_on": None,
            "closed_on": None,
            "closing_reason": "",
            "created_by_id": secretary,
            "created_at": _at(opened_on, rng, 9),
        }
        case["stage_since"] = case["created_at"]
        case["id"] = None
        self.cases.append(case)
        history = [
            {
                "_case": case,
                "action": "open",
                "from_stage": Stage.CULTIVATION.value,
                "to_stage": Stage.CULTIVATION.value,
                "round_id": None,
                "_round": None,
                "actor_id": secretary,
                "comment": "",
                "at": case["created_at"],
            }
        ]
        round_row = nomination = None
        left_cultivation = None
        for (action, _from, to, _gap), day in zip(steps, days, strict=True):
            at = _at(day, rng, 15 if action in REVIEW_ACTIONS else 10)
            if action == "nominate":
                round_row = {
                    "branch_id": branch.pk,
                    "track": track,
                    "title": f"{day.year}年{day.month}月推优（{Track(track).label}）",
                    "stage": OPEN_ROUND_STORIES.get(name, RoundStage.SUBMITTED).value,
                    "created_by_id": secretary,
                    "created_at": at,
                    "updated_at": at,
                    "meeting_id": None,
                    "meeting_on": None,
                    "voting_members": None,
                    "present_members": None,
                    "publicity_starts_on": None,
                    "publicity_ends_on": None,
                }
                nomination = {
                    "_round": round_row,
                    "_case": case,
                    "eligibility": [],
                    "is_priority": False,
                    "created_at": at,
                    "votes_for": None,
                    "votes_against": None,
                    "votes_abstaining": None,
                    "passed": None,
                    "removed_at": None,
                }
                self.rounds.append(round_row)
                self.nominations.append(nomination)
                for offset, source in enumerate(OpinionSource, start=1):
                    if name != "nominated" or offset <= 1:
                        self.opinions.append(
                            {
                                "_nomination": nomination,
                                "source": source.value,
                                "content": OPINION_TEXTS[source],
                                "favourable": True,
                                "recorded_by_id": secretary,
                                "recorded_at": at + timedelta(days=offset),
                            }
                        )
            elif action == "pass_vote":
                voting = max(len(branch.members), 3)
                present = voting - max(1, voting // 6)
                round_row.update(meeting_on=day - timedelta(days=1), voting_members=voting, present_members=present)
                nomination.update(votes_for=present - 1, votes_against=1, votes_abstaining=0, passed=True)
            elif action == "start_publicity":
                round_row.update(publicity_starts_on=day, publicity_ends_on=_weekdays_after(day, 5))
            elif action == "hand_over":
                left_cultivation = day
                case.update(
                    recommended_on=day,
                    valid_until=add_years(day, self.validity_years) - timedelta(days=1),
                    party_organization_id=branch.party_id,
                )
            elif action == "party_names_activist":
                case["activist_since"] = day
            elif action == "party_names_development_candidate":
                case["development_on"] = day
            elif action == "party_admits_probationary":
                case["probationary_on"] = day
                member["political_status"] = PoliticalStatus.PROBATIONARY_PARTY.value
            elif action == "party_confirms_full_member":
                case["full_member_on"] = day
                member["political_status"] = PoliticalStatus.PARTY_MEMBER.value
            if to in CLOSING:
                case.update(closed_on=day, closing_reason=CLOSING[to])
                left_cultivation = left_cultivation or day
            case.update(stage=to.value, stage_since=at)
            history.append(
                {
                    "_case": case,
                    "action": action,
                    "from_stage": _from.value,
                    "to_stage": to.value,
                    "_round": round_row
                    if action in {"nominate", "pass_vote", "start_publicity", "submit_for_review"}
                    else None,
                    "actor_id": None if action == "lapse" else (reviewer if action in REVIEW_ACTIONS else secretary),
                    "comment": COMMENTS.get(action, ""),
                    "at": at,
                }
            )
        self.transitions.extend(history)
        case["updated_at"] = case["stage_since"]
        self._reports(case, left_cultivation, secretary)

    def _reports(self, case: dict, left_cultivation: date | None, filed_by: int) -> None:
        """Quarterly cultivation reports while before the hand-over, monthly follow-up reports and a
        talk a quarter after it; about one in seven not filed (the reminders and reports have work)."""
        rng, today = self.rng, self.today
        end = left_cultivation or today
        year, quarter = _next_quarter(*_quarter(case["party_applied_on"]))
        opened = case["created_at"].date()
        while True:
            filed_on = add_months(date(year, 3 * quarter - 2, 1), 3).replace(day=rng.randint(5, 14))
            if filed_on >= end or filed_on >= today:
                break
            if filed_on >= opened and rng.random() < 0.86:
                self.cultivation.append(
                    {
                        "_case": case,
                        "year": year,
                        "quarter": quarter,
                        "content": "本季度积极参加主题团日活动，主动承担志愿服务任务，学习党的基本知识。",
                        "filed_by_id": filed_by,
                        "filed_at": _at(filed_on, rng, 16),
                    }
                )
            year, quarter = _next_quarter(year, quarter)
        if case["recommended_on"] is None:
            return
        stop = min(d for d in (case["probationary_on"], case["closed_on"], today) if d is not None)
        month = month_start(case["recommended_on"])
        while (filed_on := add_months(month, 1).replace(day=rng.randint(3, 9))) < stop:
            if rng.random() < 0.86:
                self.follow_ups.append(
                    {
                        "_case": case,
                        "month": month,
                        "thinking": "思想积极上进，认真学习党的理论。",
                        "work": "工作认真负责，完成各项任务。",
                        "study": "参加党课学习，完成学习笔记。",
                        "filed_by_id": filed_by,
                        "filed_at": _at(filed_on, rng, 17),
                    }
                )
            if month.month % 3 == 0:
                self.talks.append(
                    {
                        "_case": case,
                        "held_on": filed_on,
                        "held_by": "团支部书记",
                        "summary": "了解近期思想和工作情况，勉励其继续努力，争取早日加入党组织。",
                        "recorded_by_id": filed_by,
                        "recorded_at": _at(filed_on, rng, 19),
                    }
                )
            month = add_months(month, 1)

    def write(self) -> None:
        copy_rows(PromotionCase, self.cases)
        copy_rows(PromotionRound, self.rounds)
        for nomination in self.nominations:
            nomination["round_id"] = nomination.pop("_round")["id"]
            nomination["case_id"] = nomination.pop("_case")["id"]
        copy_rows(Nomination, self.nominations)
        for opinion in self.opinions:
            opinion["nomination_id"] = opinion.pop("_nomination")["id"]
        copy_rows(Opinion, self.opinions)
        for step in self.transitions:
            step["case_id"] = step.pop("_case")["id"]
            round_row = step.pop("_round")
            step["round_id"] = round_row["id"] if round_row else None
        copy_rows(CaseTransition, self.transitions)
        for rows, model in (
            (self.cultivation, CultivationReport),
            (self.follow_ups, FollowUpReport),
            (self.talks, Talk),
        ):
            for row in rows:
                row["case_id"] = row.pop("_case")["id"]
            copy_rows(model, rows)


# Of the units without a term: the share left unrecorded (the committees_unrecorded rule's work) and the
# share whose term has run out without an election (committee_terms_due's); the rest are in term.
UNRECORDED_TERM_SHARE, OVERDUE_TERM_SHARE = 0.05, 0.10


def term_rows(county: Organization, recorder_id: int, rng: random.Random, today: date) -> list[dict]:
    """A current committee term (换届 recorded) for most active units of the county that have none,
    of the unit's configured length, elected at a random day of it."""
    has_term = CommitteeTerm.objects.current().filter(organization=OuterRef("pk"))
    rows = []
    for unit in Organization.objects.filter(path__startswith=county.path).active().exclude(Exists(has_term)):
        draw = rng.random()
        if draw < UNRECORDED_TERM_SHARE:
            continue
        years = default_term_years(unit)
        days_in_term = (add_years(today, years) - today).days
        if draw < UNRECORDED_TERM_SHARE + OVERDUE_TERM_SHARE:
            elected = add_years(today, -years) - timedelta(days=rng.randint(1, 200))
        else:
            elected = today - timedelta(days=rng.randint(0, days_in_term - 1))
        rows.append(
            {
                "organization_id": unit.pk,
                "starts_on": elected,
                "length_years": years,
                "due_on": add_years(elected, years),
                "recorded_by_id": recorder_id,
            }
        )
    return rows


def choose_cases(county: County, pipeline: Pipeline, share: float) -> None:
    """About `share` of each branch's members get a case; candidates are League members of 22 to 27
    with a passing grade (one open round per branch and track: further open-round stories wait in
    cultivation instead)."""
    rng, today = pipeline.rng, pipeline.today
    names = list(STORIES)
    weights = [STORIES[name][3] for name in names]
    oldest, youngest = add_years(today, -27), add_years(today, -22)
    for branch in county.branches:
        candidates = [
            m
            for m in branch.members
            if oldest < m["birth_date"] <= youngest
            and m["political_status"] == PoliticalStatus.LEAGUE_MEMBER
            and m.get("_grade") in (EvaluationGrade.EXCELLENT, EvaluationGrade.QUALIFIED)
        ]
        wanted = len(branch.members) * share
        count = int(wanted) + (rng.random() < wanted - int(wanted))
        open_rounds: set[str] = set()
        for member in rng.sample(candidates, min(count, len(candidates))):
            name = rng.choices(names, weights)[0]
            track = STORIES[name][0]
            if name in OPEN_ROUND_STORIES:
                if track in open_rounds:
                    name = "cultivation"
                open_rounds.add(track)
            pipeline.story(branch, member, name)


# --- audit ------------------------------------------------------------------------------------------


def audit_rows(county_members: list[dict], transitions: list[dict], cases: list[dict]) -> list[dict]:
    """One entry per member created (as the roster import writes it) and per case step (as the 推优
    services write it), by the account that recorded it."""
    member_type = ContentType.objects.get_for_model(Member).pk
    case_type = ContentType.objects.get_for_model(PromotionCase).pk
    rows = []
    for member in county_members:
        rows.append(
            {
                "content_type_id": member_type,
                "object_pk": str(member["id"]),
                "object_id": member["id"],
                "object_repr": member["name"],
                "action": LogEntry.Action.CREATE,
                "changes": {"id_number_masked": ["", member["id_number_masked"]], "name": ["", member["name"]]},
                "actor_id": member["_recorder"],
                "timestamp": member["created_at"],
            }
        )
    by_case = {case["id"]: case for case in cases}
    for step in transitions:
        rows.append(
            {
                "content_type_id": case_type,
                "object_pk": str(step["case_id"]),
                "object_id": step["case_id"],
                "object_repr": str(by_case[step["case_id"]]["member_id"]),
                "action": LogEntry.Action.CREATE if step["action"] == "open" else LogEntry.Action.UPDATE,
                "changes": {"stage": [step["from_stage"], step["to_stage"]]},
                "actor_id": step["actor_id"],
                "timestamp": step["at"],
            }
        )
    return rows


# --- the whole load ---------------------------------------------------------------------------------


def counties_for(size: Size, steps: Steps) -> list[County]:
    """County 1 (the demo county when size.demo) and the others, built by seed_county: their trees,
    Party organizations and the county staff's account (`county`, `county_c002`, …)."""
    counties = []
    for number in range(1, size.counties + 1):
        with steps.step("county trees (seed_county) and staff accounts"):
            county = Organization.objects.filter(code=county_code(number)).first() or seed_county(number)
            if size.demo and number == 1:
                seed_demo_accounts(1)
            elif not RoleAssignment.objects.filter(organization=county, role=Role.COUNTY_STAFF).exists():
                _county_staff(county, number)
            staff_id = RoleAssignment.objects.filter(organization=county, role=Role.COUNTY_STAFF).values_list(
                "user_id", flat=True
            )[0]
        counties.append(County(county, staff_id))
    return counties


def _county_staff(county: Organization, number: int) -> None:
    """The county staff account seed_demo_accounts makes, without its 150 other accounts (the tooling's
    own tests build a county in seconds)."""
    if number != 1:
        seed_demo_accounts(number)
        return
    user = User.objects.create(username="county", full_name="赵文", password=make_password(DEMO_PASSWORD))
    RoleAssignment.objects.create(
        user=user, role=Role.COUNTY_STAFF, organization=county, starts_on=date(2024, 1, 1), may_export_records=True
    )


@contextmanager
def without_triggers(out: Callable[[str], None]) -> Iterator[None]:
    """Foreign-key checks are triggers run row by row; the rows here are consistent by construction
    (tests/bench checks them), so the load skips them where the server lets it (a superuser's
    session_replication_role), as pg_restore does. Without the right, it loads with the checks."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    except Exception:  # noqa: BLE001 — permission denied: load with the checks
        out("  (foreign-key checks kept: session_replication_role needs a superuser)")
        yield
        return
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


def load(size: Size, *, out: Callable[[str], None] = print) -> Steps:
    """Fill the current database (migrated; the demo county already seeded when size.demo) up to `size`."""
    with without_triggers(out):
        return _load(size, out)


def _load(size: Size, out: Callable[[str], None]) -> Steps:
    steps = Steps(out)
    rng = random.Random(size.seed)
    today = timezone.localdate()
    months = months_between(add_months(month_start(today), -11), today)
    password_hash = make_password(DEMO_PASSWORD)
    ids = IdNumbers(set(Member.objects.values_list("id_number_hash", flat=True)))
    validity = settings.PROMOTION_RULES["validity_years"]
    first_activity = last_activity = None
    for county in counties_for(size, steps):
        organization = county.organization
        in_county = Member.objects.filter(branch__path__startswith=organization.path)
        have = in_county.count()
        target = size.members_per_county
        units = Organization.objects.filter(path__startswith=organization.path).count()
        wanted_units = target // size.members_per_unit
        with steps.step("units (COPY)"), transaction.atomic():
            townships = max(0, round((wanted_units - units) / UNITS_PER_TOWNSHIP))
            rows = build_units(organization, townships, rng)
            insert_units(organization, rows)
        with steps.step("accounts: secretaries and township staff (COPY)"), transaction.atomic():
            secretaries, staff = ensure_accounts(organization, password_hash)
        with steps.step("committee terms (COPY)"), transaction.atomic():
            copy_rows(CommitteeTerm, term_rows(organization, county.staff_id, rng, today))
        # The branches to fill: every active branch without members (the demo county's keep theirs).
        filled = set(in_county.values_list("branch_id", flat=True).distinct())
        committees = sorted(staff, key=len, reverse=True)
        for row in (
            Organization.objects.filter(path__startswith=organization.path, kind__in=BRANCH_KINDS)
            .active()
            .order_by("path")
            .values("pk", "code", "name", "path", "sector", "party_organization_id")
        ):
            if row["pk"] in filled:
                continue
            above = next((path for path in committees if row["path"].startswith(path)), None)
            county.branches.append(
                Branch(
                    row["pk"],
                    row["code"],
                    row["name"],
                    row["path"],
                    row["sector"],
                    row["party_organization_id"],
                    secretary_id=secretaries.get(row["pk"], county.staff_id),
                    reviewer_id=staff.get(above) if above else county.staff_id,
                )
            )
        if not county.branches or target <= have:
            continue
        with steps.step("members: draw, encrypt ID numbers"):
            raw = [rng.randint(*SECTOR_SIZES.get(b.sector, (10, 30))) for b in county.branches]
            scale = (target - have) / sum(raw)
            members: list[dict] = []
            now = timezone.now()
            for branch, size_raw in zip(county.branches, raw, strict=True):
                branch.members = member_rows(branch, max(3, round(size_raw * scale)), rng, ids, today)
                for member in branch.members:
                    member["_recorder"] = branch.secretary_id
                    member["created_at"] = now
                members.extend(branch.members)
            first = reserve_ids(Member, len(members))
            for offset, member in enumerate(members):
                member["id"] = first + offset
        with steps.step("registrations and evaluations: draw"):
            evaluations, registrations = [], []
            for branch in county.branches:
                e, r = yearly_rows(branch, rng, today)
                evaluations += e
                registrations += r
        with steps.step("推优 cases: draw"):
            pipeline = Pipeline(today, rng, validity)
            choose_cases(county, pipeline, size.case_share)
        with transaction.atomic():
            with steps.step("members (COPY)"):
                copy_rows(Member, members)  # the drawing's own keys (_grade, _recorder) are no columns
            with steps.step("registrations and evaluations (COPY)"):
                copy_rows(Evaluation, evaluations)
                copy_rows(Registration, registrations)
            with steps.step("推优 cases, rounds, transitions, reports (COPY)"):
                pipeline.write()
            with steps.step("audit entries (COPY)"):
                copy_rows(LogEntry, audit_rows(members, pipeline.transitions, pipeline.cases))
        with steps.step("activities: draw and COPY"), transaction.atomic():
            topics = _seed_topics(organization, months, county.staff_id)
            activities = []
            for branch in county.branches:
                activities += activity_rows(branch, rng, today, topics, months)
            copy_rows(Activity, activities)
            if activities:
                first_activity = first_activity or activities[0]["id"]
                last_activity = activities[-1]["id"]
        out(
            f"  county {organization.code}: {units + len(rows):,} units, {have + len(members):,} members, "
            f"{len(pipeline.cases):,} new cases, {len(activities):,} new activities "
            f"(load average {load_average()})"
        )
    if first_activity is not None:
        added = 0
        with steps.step("attendance (INSERT … SELECT)"):
            with connection.cursor() as cursor:  # without statistics the join is planned row by row
                cursor.execute("ANALYZE branches_activity, members_member")
            for start in range(first_activity, last_activity + 1, ATTENDANCE_BATCH):
                with transaction.atomic():
                    added += insert_attendance(start, min(start + ATTENDANCE_BATCH - 1, last_activity))
        out(f"  attendance: {added:,} rows")
    # VACUUM too where it may run (outside a transaction): the visibility map lets index-only scans
    # skip the heap, as they would on a database that has lived a while.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with steps.step(command), connection.cursor() as cursor:
        cursor.execute(command)
    return steps
