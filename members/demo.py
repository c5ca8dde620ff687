"""Demo members for a demo county: about 10,000 people with valid ID numbers, realistic ages,
sexes, ethnicities, education and occupations by sector, and a year of registrations and
evaluations. Deterministic for a county number; inserted in bulk, with the audit entries the
services would have left (one per member and change, as the roster import and the branch's
registration and evaluation write them), so that every change to a person's record is in the audit
trail, the demo's too."""

from __future__ import annotations

import random
from datetime import date, timedelta
from itertools import islice

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count, Model
from django.utils import timezone

from branches.models import Organization, RoleAssignment, Sector
from members import idnumbers
from members.lifecycle import excellent_cap
from members.models import (
    Education,
    Evaluation,
    EvaluationGrade,
    LeaguePost,
    Member,
    Occupation,
    PoliticalStatus,
    Registration,
    Transfer,
    add_years,
)

# Region codes of real counties (so that the ID numbers pass the region check), most from "here".
REGION_CODES = ["520123"] * 8 + ["520121", "520122", "520181"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉婷雪琳晨阳欣怡浩宇子涵梓轩雨佳俊博文思"
# Mostly Han, with the groups of a county in the south-west.
ETHNICITY_WEIGHTS = {"01": 80, "06": 6, "09": 6, "12": 3, "15": 3, "07": 2}

# Members per branch by sector: (fewest, most) before scaling to the county's target.
SECTOR_SIZES = {
    Sector.SCHOOL: (35, 50),
    Sector.VILLAGE: (50, 110),
    Sector.COMMUNITY: (40, 90),
    Sector.NON_PUBLIC_ENTERPRISE: (20, 60),
    Sector.PUBLIC_INSTITUTION: (15, 40),
    Sector.SOCIAL_ORGANIZATION: (10, 25),
    Sector.OTHER: (10, 30),
}
TARGET_MEMBERS = 10_000


def _birth_date(rng: random.Random, today: date, sector: str, name: str) -> date:
    if sector == Sector.SCHOOL:
        low, high = (14.1, 16) if "中学" in name and "年级" in name else (15, 19)
    elif rng.random() < 0.04:
        low, high = (27.5, 28.2)  # about to turn 28, or just past it: the over-age list has work
    else:
        low, high = (18, 28)
    age_days = int(rng.uniform(low, high) * 365.25)
    return today - timedelta(days=age_days)


def _id_number(rng: random.Random, born: date, sex: str, used_hashes: set[str]) -> str:
    while True:
        sequence = rng.randrange(0, 100) * 10 + rng.choice([1, 3, 5, 7, 9] if sex == "M" else [0, 2, 4, 6, 8])
        first17 = f"{rng.choice(REGION_CODES)}{born:%Y%m%d}{sequence:03d}"
        number = idnumbers.with_check_character(first17)
        digest = idnumbers.lookup_hash(number)
        if digest not in used_hashes:
            used_hashes.add(digest)
            return number


def _education(rng: random.Random, age: int, sector: str) -> str:
    if sector == Sector.SCHOOL:
        return Education.JUNIOR if age < 16 else Education.SENIOR
    if sector in (Sector.PUBLIC_INSTITUTION,):
        return rng.choice([Education.COLLEGE, Education.BACHELOR, Education.BACHELOR, Education.MASTER])
    weights = {
        Education.JUNIOR: 25,
        Education.SENIOR: 35,
        Education.COLLEGE: 22,
        Education.BACHELOR: 16,
        Education.MASTER: 2,
    }
    return rng.choices(list(weights), list(weights.values()))[0]


def _occupation(rng: random.Random, sector: str) -> str:
    by_sector = {
        Sector.SCHOOL: [Occupation.STUDENT],
        Sector.VILLAGE: [Occupation.FARMER, Occupation.FARMER, Occupation.MIGRANT, Occupation.SELF_EMPLOYED],
        Sector.COMMUNITY: [Occupation.ENTERPRISE, Occupation.SELF_EMPLOYED, Occupation.STUDENT, Occupation.UNEMPLOYED],
        Sector.NON_PUBLIC_ENTERPRISE: [Occupation.ENTERPRISE, Occupation.WORKER],
        Sector.PUBLIC_INSTITUTION: [Occupation.CIVIL_SERVANT, Occupation.PUBLIC_INSTITUTION],
    }
    return rng.choice(by_sector.get(sector, [Occupation.OTHER, Occupation.ENTERPRISE]))


@transaction.atomic
def seed_members(county: Organization, *, target: int = TARGET_MEMBERS) -> int:
    """Members for every active branch of the county, unless it has members already (idempotent)."""
    branches = list(Organization.objects.subtree_of([county.path]).branches().active().order_by("code"))
    if Member.objects.filter(branch__in=branches).exists():
        return 0
    rng = random.Random(f"members-{county.code}")
    today = timezone.localdate()
    raw_sizes = [rng.randint(*SECTOR_SIZES.get(b.sector, (10, 30))) for b in branches]
    scale = target / sum(raw_sizes)
    # Numbers already given in other counties must not come again: one person, one record.
    used_hashes = set(Member.objects.values_list("id_number_hash", flat=True))
    members: list[Member] = []
    for branch, raw in zip(branches, raw_sizes, strict=True):
        for position in range(max(3, round(raw * scale))):
            sex = rng.choice("MF")
            born = _birth_date(rng, today, branch.sector, branch.name)
            age = (today - born).days // 365
            # Joined at 14 to 16 and a half, never before the 14th birthday, never in the future.
            fourteenth = add_years(born, 14)
            joined = min(fourteenth + timedelta(days=rng.randrange(0, 900)), today)
            member = Member(
                branch=branch,
                name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2]))),
                sex=sex,
                ethnicity=rng.choices(list(ETHNICITY_WEIGHTS), list(ETHNICITY_WEIGHTS.values()))[0],
                birth_date=born,
                native_place="贵州省贵阳市",
                phone=f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}",
                education=_education(rng, age, branch.sector),
                occupation=_occupation(rng, branch.sector),
                workplace=branch.name.removesuffix("团支部"),
                joined_on=joined,
                admission_number=f"{joined.year}{rng.randrange(10**7, 10**8)}",
                league_post=LeaguePost.SECRETARY
                if position == 0
                else (LeaguePost.ORGANIZATION if position == 1 else ""),
                political_status=PoliticalStatus.PROBATIONARY_PARTY
                if age >= 22 and rng.random() < 0.03
                else PoliticalStatus.LEAGUE_MEMBER,
            )
            member.id_number = _id_number(rng, born, sex, used_hashes)
            members.append(member)
    Member.objects.bulk_create(members, batch_size=2000)
    recorders = _recorders(branches)
    _audit(
        [
            (recorders.get(m.branch_id), m, {"id_number_masked": ["", m.id_number_masked], "name": ["", m.name]})
            for m in members
        ],
        action=LogEntry.Action.CREATE,
    )
    _seed_registrations_and_evaluations(rng, branches, today, recorders)
    _seed_pending_transfers(rng, branches, today)
    return len(members)


def _recorders(branches: list[Organization]) -> dict[int, int | None]:
    """Branch id → the account that records its members: its secretary, else the county's staff."""
    recorder_by_branch = dict(
        RoleAssignment.objects.filter(organization__in=branches, deputy_for__isnull=True).values_list(
            "organization_id", "user_id"
        )
    )
    county_path = branches[0].path[: Organization.steplen]
    fallback = RoleAssignment.objects.filter(organization__path=county_path).values_list("user_id", flat=True).first()
    return {branch.pk: recorder_by_branch.get(branch.pk, fallback) for branch in branches}


def _audit(
    rows: list[tuple[int | None, Model, dict]], *, action: int = LogEntry.Action.UPDATE, batch: int = 1000
) -> None:
    """One audit entry per (recorder id, instance, changes), as branches.audit.audit_events_bulk writes
    them, but as plain multi-row INSERTs: some 35,000 entries for the demo county, for which building a
    LogEntry instance each took longer than the members themselves."""
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = ["content_type", "object_pk", "object_id", "object_repr", "action", "changes", "changes_text"]
    columns += ["actor", "timestamp"]
    sql_columns = ", ".join(qn(LogEntry._meta.get_field(name).column) for name in columns)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    changes_field = LogEntry._meta.get_field("changes")
    content_types = {}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(islice(rows, batch)):
            values = []
            for actor_id, instance, changes in chunk:
                model = type(instance)
                if model not in content_types:
                    content_types[model] = ContentType.objects.get_for_model(model).pk
                plain = {key: [_plain(old), _plain(new)] for key, (old, new) in changes.items()}
                values += [content_types[model], str(instance.pk), instance.pk, str(instance), action]
                values += [changes_field.get_db_prep_save(plain, connection), "", actor_id, now]
            cursor.execute(
                f"INSERT INTO {qn(LogEntry._meta.db_table)} ({sql_columns}) VALUES "
                + ", ".join([placeholders] * len(chunk)),
                values,
            )


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, bool | int | float) else str(value)


def _seed_pending_transfers(rng: random.Random, branches: list[Organization], today: date) -> None:
    """A few transfers waiting for the receiving side, one of them about to lapse."""
    senders = rng.sample(branches, 8)
    transfers = []
    for number, sender in enumerate(senders):
        member = Member.objects.filter(branch=sender, league_post="").order_by("pk").first()
        receiver = rng.choice([b for b in branches if b.path[:8] != sender.path[:8]])
        requester = RoleAssignment.objects.filter(organization=sender).values_list("user_id", flat=True).first()
        if member is None or requester is None:
            continue
        transfers.append(
            Transfer(
                member=member,
                from_branch=sender,
                to_unit=receiver,
                requested_by_id=requester,
                sending_approved_by_id=requester,
                requested_at=timezone.now() - timedelta(days=3 * number),
                expires_on=today + timedelta(days=2 if number == 0 else 30 - 3 * number),
            )
        )
    Transfer.objects.bulk_create(transfers)
    _audit(
        [
            (
                t.requested_by_id,
                t,
                {
                    "from_branch": [None, t.from_branch],
                    "to_unit": [None, t.to_unit],
                    "status": [None, t.status],
                },
            )
            for t in transfers
        ],
        action=LogEntry.Action.CREATE,
    )


def _seed_registrations_and_evaluations(
    rng: random.Random, branches: list[Organization], today: date, recorders: dict[int, int | None]
) -> None:
    last_year, this_year = today.year - 1, today.year
    grades = list(EvaluationGrade)
    labels = {grade: str(grade.label) for grade in grades}  # as the evaluation's service words its entry
    evaluations, registrations = [], []
    # Some branches are late with this year's registration: the county's reminders have work.
    late = {b.pk for b in branches if rng.random() < 0.3}
    excellent_left: dict[int, int] = {}
    evaluated = Member.objects.filter(branch__in=branches, joined_on__year__lt=this_year)
    for branch_id, count in evaluated.order_by().values_list("branch_id").annotate(n=Count("pk")):
        excellent_left[branch_id] = excellent_cap(count)  # the evaluation's cap holds in the demo too
    audit = []
    for member in evaluated.only("pk", "name", "branch_id", "joined_on"):
        recorder = recorders[member.branch_id]
        grade = rng.choices(grades, [20, 65, 12, 3])[0]
        if grade == EvaluationGrade.EXCELLENT:
            if excellent_left[member.branch_id] == 0:
                grade = EvaluationGrade.QUALIFIED
            else:
                excellent_left[member.branch_id] -= 1
        registrations.append(
            Registration(
                member_id=member.pk, year=last_year, registered_on=date(last_year, 3, 15), recorded_by_id=recorder
            )
        )
        audit.append((recorder, member, {"registration": ["", last_year]}))
        evaluations.append(
            Evaluation(
                member_id=member.pk,
                year=last_year,
                grade=grade,
                follow_up_on=date(this_year, 6, 30) if grade == EvaluationGrade.UNQUALIFIED else None,
                recorded_by_id=recorder,
            )
        )
        audit.append((recorder, member, {"evaluation": ["", f"{last_year} {labels[grade]}"]}))
        if grade != EvaluationGrade.UNQUALIFIED and member.branch_id not in late and today >= date(this_year, 3, 1):
            registrations.append(
                Registration(
                    member_id=member.pk, year=this_year, registered_on=date(this_year, 3, 10), recorded_by_id=recorder
                )
            )
            audit.append((recorder, member, {"registration": ["", this_year]}))
    Evaluation.objects.bulk_create(evaluations, batch_size=2000)
    Registration.objects.bulk_create(registrations, batch_size=2000)
    _audit(audit)
