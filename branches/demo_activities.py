"""Demo branch life for a demo county: a year of meetings and activities up to today with attendance,
and the county's themed-day topic for every month. Most branches meet regularly (some more
diligently than others), about one in ten has gone silent since the start of the last quarter, and a
few are hollow: nothing at all (domain.md §7.3: the national platform's known weakness).

Deterministic for a county (random.Random with a fixed seed), idempotent (nothing is added to a
county that has activities), and inserted in bulk.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from branches.activity_selectors import (
    COMMITTEE_POSTS,
    add_months,
    cadence_of,
    month_end,
    month_start,
    months_between,
    quarter_start,
)
from branches.models import (
    Activity,
    ActivityKind,
    Attendance,
    Cadence,
    Organization,
    Role,
    RoleAssignment,
    Sector,
    ThemedDayTopic,
)
from members.models import Member, MemberStatus

HOLLOW_BRANCHES = 3
SILENT_SHARE = 0.10

# The county's topic for each calendar month (the themes a county committee actually sets).
THEMED_TOPICS = {
    1: "新春送温暖 青春在行动",
    2: "学习团章 重温入团誓词",
    3: "学雷锋志愿服务月",
    4: "清明缅怀革命先烈",
    5: "弘扬五四精神 争做时代新人",
    6: "学党史 感党恩 跟党走",
    7: "庆祝建党 青年建功",
    8: "暑期实践 服务家乡",
    9: "喜迎国庆 礼赞祖国",
    10: "乡村振兴 青年在行动",
    11: "法治宣传 青年普法",
    12: "团员教育评议动员",
}
KIND_TOPICS = {
    ActivityKind.GENERAL_MEETING: ["团员教育评议", "推荐优秀团员作为入党积极分子人选", "半年工作总结", "团籍注册动员"],
    ActivityKind.COMMITTEE_MEETING: ["研究本月工作安排", "讨论发展团员计划", "研究推优工作", "筹备主题团日活动"],
    ActivityKind.LEAGUE_CLASS: ["团的基本知识", "青年与乡村振兴", "学习新时代青年工作", "团员的权利和义务"],
    ActivityKind.VOLUNTEER: ["环境卫生整治", "关爱留守儿童", "敬老院慰问", "防溺水宣传"],
}
PLACES = {
    Sector.VILLAGE: ["村委会会议室", "村党群服务中心", "新时代文明实践站"],
    Sector.COMMUNITY: ["社区党群服务中心", "社区活动室"],
    Sector.SCHOOL: ["学校团委活动室", "教室", "学校报告厅"],
}
DEFAULT_PLACES = ["单位会议室", "党员活动室"]
ABSENCE_REASONS = ["外出务工", "在外地上学", "生病", "工作冲突", "家中有事", "值班", ""]


def _day_in(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


@transaction.atomic
def seed_activities(county: Organization) -> int:
    """A year of activities for the county's branches, unless it has some already. Returns how many
    activities were added."""
    if Activity.objects.filter(organization__path__startswith=county.path).exists():
        return 0
    staff_id = (
        RoleAssignment.objects.filter(organization=county, role=Role.COUNTY_STAFF)
        .values_list("user_id", flat=True)
        .first()
    )
    if staff_id is None:
        return 0  # no account to have recorded them
    rng = random.Random(f"activities-{county.code}")
    now = timezone.now()
    today = timezone.localdate(now)
    months = months_between(add_months(month_start(today), -11), today)
    topics = _seed_topics(county, months, staff_id)

    branches = list(Organization.objects.subtree_of([county.path]).branches().active().order_by("code"))
    recorders = dict(
        RoleAssignment.objects.filter(
            organization__in=branches, role=Role.BRANCH_SECRETARY, deputy_for__isnull=True
        ).values_list("organization_id", "user_id")
    )
    roster: dict[int, list[tuple[int, date, bool]]] = defaultdict(list)
    for pk, branch_id, joined_on, post in (
        Member.objects.filter(branch__in=branches, status=MemberStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", "branch_id", "joined_on", "league_post")
    ):
        roster[branch_id].append((pk, joined_on, post in COMMITTEE_POSTS))

    hollow = set(rng.sample([b.pk for b in branches], HOLLOW_BRANCHES))
    others = [b.pk for b in branches if b.pk not in hollow]
    silent = set(rng.sample(others, round(len(branches) * SILENT_SHARE)))
    silent_from = min(quarter_start(today), today - timedelta(days=90))

    activities: list[Activity] = []
    recorded_at: list[datetime] = []
    attendance: list[list[tuple[int, bool, str]]] = []
    for branch in branches:
        if branch.pk in hollow:
            continue
        diligence = rng.uniform(0.6, 1.0)
        # Each quarterly kind is held in one month of each quarter, picked per branch.
        quarter_month = {(kind, quarter_start(m)): rng.randrange(3) for kind in ActivityKind.values for m in months}
        for month in months:
            last_day = min(month_end(month), today)
            for kind in ActivityKind.values:
                cadence = cadence_of(kind)
                if cadence == Cadence.MONTHLY:
                    chance = 0.95 * diligence
                elif cadence == Cadence.QUARTERLY:
                    if month.month - quarter_start(month).month != quarter_month[(kind, quarter_start(month))]:
                        continue
                    chance = 0.9 * diligence
                elif kind == ActivityKind.VOLUNTEER:
                    chance = 0.25 * diligence
                else:
                    chance = 0.03
                if rng.random() >= chance:
                    continue
                held_on = _day_in(rng, month, last_day)
                if branch.pk in silent and held_on >= silent_from:
                    continue
                rows = _attendance(rng, roster[branch.pk], kind, held_on, diligence)
                topic = topics.get(month) if kind == ActivityKind.THEMED_DAY else None
                title = topic.title if topic else rng.choice(KIND_TOPICS.get(kind, ["团员活动"]))
                present = sum(1 for _pk, is_present, _reason in rows if is_present)
                activities.append(
                    Activity(
                        organization=branch,
                        kind=kind,
                        held_on=held_on,
                        place=rng.choice(PLACES.get(branch.sector, DEFAULT_PLACES)),
                        topic=title,
                        themed_day_topic=topic,
                        chair="书记",
                        note_taker="组织委员",
                        content=_minutes(title, present, len(rows)),
                        present_count=present,
                        absent_count=len(rows) - present,
                        recorded_by_id=recorders.get(branch.pk, staff_id),
                    )
                )
                # Most record within days; the less diligent sometimes weeks later (past the late limit, some).
                delay = rng.choice([0, 0, 1, 2, 3, 5]) if rng.random() < diligence else rng.randrange(10, 45)
                moment = datetime.combine(min(held_on + timedelta(days=delay), today), time(20, rng.randrange(60)))
                recorded_at.append(min(timezone.make_aware(moment), now))  # tonight's, recorded by now
                attendance.append(rows)

    Activity.objects.bulk_create(activities, batch_size=2000)
    _set_recorded_at((activity.pk, moment) for activity, moment in zip(activities, recorded_at, strict=True))
    _insert_attendance(
        (activity.pk, pk, present, reason)
        for activity, rows in zip(activities, attendance, strict=True)
        for pk, present, reason in rows
    )
    return len(activities)


def _set_recorded_at(moments: Iterable[tuple[int, datetime]], batch: int = 1000) -> None:
    """`created_at` is auto_now_add: the insert made it now. The demo's records were made over the
    year (some of them late), so each gets its own moment afterwards, by one UPDATE … FROM (VALUES …)
    per batch (PostgreSQL and SQLite alike): bulk_update's CASE with a branch per row took 1–2 s for
    the demo county, this takes a tenth of that."""
    qn = connection.ops.quote_name
    table, pk = qn(Activity._meta.db_table), qn(Activity._meta.pk.column)
    column = qn(Activity._meta.get_field("created_at").column)
    adapt = connection.ops.adapt_datetimefield_value
    moments = iter(moments)
    with connection.cursor() as cursor:
        while chunk := list(islice(moments, batch)):
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} SET {column} = v.column2 FROM (VALUES {values}) AS v WHERE {table}.{pk} = v.column1",
                [value for activity_id, moment in chunk for value in (activity_id, adapt(moment))],
            )


def _insert_attendance(rows: Iterable[tuple[int, int, bool, str]], batch: int = 1000) -> None:
    """About 160,000 rows for the demo county: building a model instance for each took most of the
    seeding time, so they go in as plain multi-row INSERTs (the same SQL bulk_create would send)."""
    table = connection.ops.quote_name(Attendance._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(Attendance._meta.get_field(name).column)
        for name in ("activity", "member", "present", "absence_reason")
    )
    rows = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(islice(rows, batch)):
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", [v for row in chunk for v in row])


def _seed_topics(county: Organization, months: list[date], staff_id: int) -> dict[date, ThemedDayTopic]:
    """The county's topic for each month, due by the 25th (the months that have one are kept)."""
    existing = {t.month: t for t in ThemedDayTopic.objects.filter(county=county, month__in=months)}
    new = [
        ThemedDayTopic(
            county=county,
            month=month,
            title=THEMED_TOPICS[month.month],
            description="请各团支部结合实际开展主题团日活动，并按时在系统中录入。",
            record_by=month.replace(day=25),
            created_by_id=staff_id,
        )
        for month in months
        if month not in existing
    ]
    ThemedDayTopic.objects.bulk_create(new)
    return {**existing, **{t.month: t for t in new}}


def _attendance(
    rng: random.Random, members: list[tuple[int, date, bool]], kind: str, day: date, diligence: float
) -> list[tuple[int, bool, str]]:
    """Who was expected (members by then; for a committee meeting, the committee) and who came."""
    expected = [(pk, committee) for pk, joined_on, committee in members if joined_on <= day]
    if kind == ActivityKind.COMMITTEE_MEETING and any(committee for _pk, committee in expected):
        expected = [(pk, committee) for pk, committee in expected if committee]
    chance = 0.7 + 0.25 * diligence
    rows = []
    for pk, _committee in expected:
        present = rng.random() < chance
        rows.append((pk, present, "" if present else rng.choice(ABSENCE_REASONS)))
    return rows


def _minutes(title: str, present: int, expected: int) -> str:
    return f"应到{expected}人，实到{present}人。会议由支部书记主持，围绕“{title}”进行了学习和讨论，与会团员结合实际谈了体会。"
