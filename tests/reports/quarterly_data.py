"""A small county's second quarter of 2026 for the quarterly report, built on the `tree` fixture, with
what each section should show worked out by hand in tests/reports/test_quarterly.py.

The report is generated on 15 August 2026 (the quarter has closed; things happen after it too):

county C ── township A ── branch A1 (committee elected), branch A2 (dissolved 1 June),
         │              general branch AG ── branch AG1
         ├── township B ── branch B1 (52 members, silent), branch B2 (founded 10 May),
         │                 branch B3 (founded 15 July)
         └── township X (dissolved at the end of 2025)
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from branches.models import (
    Activity,
    ActivityKind,
    Attendance,
    Cadre,
    CommitteePost,
    CommitteeSeat,
    CommitteeTerm,
    Organization,
    OrganizationKind,
    Sector,
    User,
)
from members.models import Member, MemberStatus, Transfer, TransferStatus
from promotion.models import CaseTransition, CultivationReport, FollowUpReport, PromotionCase, Stage, Track
from reports.periods import Period
from tests.conftest import add, make_member, make_user

TZ = ZoneInfo("Asia/Shanghai")
Q2 = Period.parse("2026-Q2")
NOW = datetime(2026, 8, 15, 10, 0, tzinfo=TZ)
FILLERS = 51  # B1's ordinary members: 22 years old at the quarter's end, male, senior secondary, farmers

K = ActivityKind
S = Stage


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def member(branch: Organization, name: str, **fields) -> Member:
    return make_member(branch, name, **fields)


def moved(
    member: Member, from_branch: Organization, to_branch: Organization | None, day: date, recorder: User
) -> Transfer:
    """A completed transfer decided on `day` (to_branch None: out of the county)."""
    return Transfer.objects.create(
        member=member,
        from_branch=from_branch,
        to_unit=to_branch,
        to_branch=to_branch,
        destination="" if to_branch else "外省某县",
        status=TransferStatus.COMPLETED,
        requested_by=recorder,
        requested_at=at(day, 9),
        expires_on=day + timedelta(days=30),
        decided_at=at(day),
    )


def held(unit: Organization, kind: str, day: date, recorder: User, **fields) -> Activity:
    return Activity.objects.create(
        organization=unit, kind=kind, held_on=day, topic=str(kind), recorded_by=recorder, **fields
    )


def case(
    member: Member,
    branch: Organization,
    recorder: User,
    *,
    applied: date,
    steps: list[tuple[date, str]],
    track: str = Track.ACTIVIST,
    **dates,
) -> PromotionCase:
    """A case with its history: opened on the first step's day (in cultivation), then each (day, stage)."""
    created = PromotionCase.objects.create(
        member=member, branch=branch, track=track, party_applied_on=applied, created_by=recorder, **dates
    )
    opened = steps[0][0]
    stage = S.CULTIVATION
    CaseTransition.objects.create(
        case=created, action="open", from_stage=stage, to_stage=stage, actor=recorder, at=at(opened, 9)
    )
    for day, to_stage in steps[1:]:
        CaseTransition.objects.create(
            case=created, action="step", from_stage=stage, to_stage=to_stage, actor=recorder, at=at(day)
        )
        stage = to_stage
    PromotionCase.objects.filter(pk=created.pk).update(stage=stage, created_at=at(opened, 9))
    return PromotionCase.objects.get(pk=created.pk)


def follow_up(case: PromotionCase, month: date, filed_on: date, recorder: User) -> None:
    report = FollowUpReport.objects.create(
        case=case, month=month, thinking="好", work="好", study="好", filed_by=recorder
    )
    FollowUpReport.objects.filter(pk=report.pk).update(filed_at=at(filed_on))


def cultivation(case: PromotionCase, year: int, quarter: int, filed_on: date, recorder: User) -> None:
    report = CultivationReport.objects.create(case=case, year=year, quarter=quarter, content="好", filed_by=recorder)
    CultivationReport.objects.filter(pk=report.pk).update(filed_at=at(filed_on))


def seat(term: CommitteeTerm, post: str, since: date, until: date | None = None, **cadre) -> CommitteeSeat:
    defaults = dict(sex="M", birth_date=date(2000, 1, 1), education="college", employment="part_time")
    defaults.update(cadre)
    defaults.setdefault("establishment", "outside")
    person = Cadre.objects.create(organization=term.organization, name=f"干部{Cadre.objects.count()}", **defaults)
    return CommitteeSeat.objects.create(term=term, cadre=person, post=post, since=since, until=until)


def build(tree) -> dict:
    """The quarter's data; returns the units and people the tests name."""
    recorder = make_user("recorder")
    county, township_a, township_b = tree["county"], tree["township_a"], tree["township_b"]
    a1, ag1, b1 = tree["branch_a1"], tree["branch_ag1"], tree["branch_b1"]
    a2 = add(township_a, name="甲二村团支部", code="C-A-2", kind=OrganizationKind.BRANCH, sector=Sector.VILLAGE)
    Organization.objects.filter(pk=a2.pk).update(founded_on=date(2020, 1, 1), dissolved_on=date(2026, 6, 1))
    b2 = add(township_b, name="乙二村团支部", code="C-B-2", kind=OrganizationKind.BRANCH, sector=Sector.VILLAGE)
    Organization.objects.filter(pk=b2.pk).update(founded_on=date(2026, 5, 10))
    b3 = add(township_b, name="乙三村团支部", code="C-B-3", kind=OrganizationKind.BRANCH, sector=Sector.VILLAGE)
    Organization.objects.filter(pk=b3.pk).update(founded_on=date(2026, 7, 15))
    township_x = add(
        county, name="共青团丙镇委员会", code="C-X", kind=OrganizationKind.TOWNSHIP, sector=Sector.PUBLIC_INSTITUTION
    )
    Organization.objects.filter(pk=township_x.pk).update(dissolved_on=date(2025, 12, 31))
    for unit in (a2, b2, b3, township_x):
        unit.refresh_from_db()

    # --- members ---------------------------------------------------------------------------------
    # A1: at the end of June 29 years old that very day (over 28), joined in April, left after the end.
    old = member(
        a1, "甲老", birth_date=date(1997, 6, 30), sex="F", education="bachelor", occupation="enterprise", ethnicity="03"
    )
    joined = member(
        a1, "甲新", birth_date=date(2010, 1, 10), education="junior", occupation="student", ethnicity="10",
        joined_on=date(2026, 4, 20),
    )  # fmt: skip
    over_age = member(
        a1, "甲超龄", birth_date=date(1997, 2, 1), status=MemberStatus.LEFT_OVER_AGE, left_on=date(2026, 5, 15)
    )
    left_later = member(
        a1, "甲退", birth_date=date(2001, 7, 1), sex="F", education="college", occupation="worker", ethnicity="08",
        status=MemberStatus.LEFT_WITHDRAWN, left_on=date(2026, 7, 20),
    )  # fmt: skip
    member(a1, "甲后来", birth_date=date(2009, 3, 3), joined_on=date(2026, 7, 5))
    out_of_county = member(
        a1, "甲外转", birth_date=date(2003, 3, 3), status=MemberStatus.TRANSFERRED_OUT, left_on=date(2026, 6, 10)
    )
    moved(out_of_county, a1, None, date(2026, 6, 10), recorder)
    # AG1: one member; another moved to B1 after the quarter (counted in AG1 at its end), 17 on 30 June.
    ag_member = member(
        ag1, "中学生", birth_date=date(2009, 9, 1), sex="F", education="junior", occupation="student", ethnicity="06",
        joined_on=date(2024, 5, 4),
    )  # fmt: skip
    moved_later = member(b1, "后转乙", birth_date=date(2008, 7, 1), occupation="student", joined_on=date(2023, 5, 4))
    moved(moved_later, ag1, b1, date(2026, 7, 10), recorder)
    # B1: moved in from A1 in May (inside the county: neither in nor out for the county), 24 on 30 June.
    moved_in = member(
        b1, "乙转入", birth_date=date(2002, 6, 30), education="master", occupation="civil_servant", ethnicity="09",
        joined_on=date(2018, 5, 4),
    )  # fmt: skip
    moved(moved_in, a1, b1, date(2026, 5, 5), recorder)
    fillers = [member(b1, f"乙{n}", birth_date=date(2004, 5, 17)) for n in range(FILLERS)]
    # B2: joined in June, 28 on 30 June.
    b2_member = member(
        b2, "乙二新", birth_date=date(1998, 3, 3), sex="F", education="bachelor", occupation="public", ethnicity="07",
        joined_on=date(2026, 6, 1),
    )  # fmt: skip
    member(a2, "甲二", birth_date=date(2003, 1, 1), status=MemberStatus.LEFT_LAPSED, left_on=date(2026, 5, 31))

    # --- branch life -----------------------------------------------------------------------------
    held(a1, K.COMMITTEE_MEETING, date(2026, 4, 8), recorder)
    held(a1, K.THEMED_DAY, date(2026, 4, 20), recorder)
    held(a1, K.THEMED_DAY, date(2026, 5, 4), recorder)
    voided = held(a1, K.COMMITTEE_MEETING, date(2026, 5, 12), recorder, voided_at=at(date(2026, 5, 13)))
    Attendance.objects.create(activity=voided, member=old, present=True)
    held(a1, K.COMMITTEE_MEETING, date(2026, 6, 3), recorder)
    held(a1, K.THEMED_DAY, date(2026, 6, 15), recorder)
    meeting = held(a1, K.GENERAL_MEETING, date(2026, 6, 20), recorder, present_count=2, absent_count=1)
    Attendance.objects.create(activity=meeting, member=old, present=True)
    Attendance.objects.create(activity=meeting, member=joined, present=True)
    Attendance.objects.create(activity=meeting, member=left_later, present=False, absence_reason="出差")
    july = held(a1, K.GENERAL_MEETING, date(2026, 7, 2), recorder)
    Attendance.objects.create(activity=july, member=old, present=False)
    held(ag1, K.THEMED_DAY, date(2026, 4, 25), recorder)
    held(ag1, K.VOLUNTEER, date(2026, 5, 30), recorder)
    held(a2, K.THEMED_DAY, date(2026, 4, 26), recorder)
    held(b2, K.THEMED_DAY, date(2026, 6, 28), recorder)
    held(township_a, K.OTHER, date(2026, 5, 20), recorder)  # the township's own: not a branch's

    # --- committees and cadres -------------------------------------------------------------------
    old_term = CommitteeTerm.objects.create(
        organization=a1, starts_on=date(2022, 1, 1), length_years=3, ended_on=date(2024, 12, 31), recorded_by=recorder
    )
    seat(old_term, CommitteePost.SECRETARY, date(2022, 1, 1), date(2024, 12, 31))
    a1_term = CommitteeTerm.objects.create(
        organization=a1, starts_on=date(2025, 1, 1), length_years=3, recorded_by=recorder
    )
    seat(
        a1_term, CommitteePost.SECRETARY, date(2025, 1, 1), sex="F", birth_date=date(1997, 6, 30), education="bachelor"
    )
    seat(a1_term, CommitteePost.DEPUTY_SECRETARY, date(2025, 1, 1), establishment="inside")
    seat(
        a1_term, CommitteePost.COMMITTEE, date(2025, 1, 1), date(2026, 7, 31),
        birth_date=date(1990, 1, 1), education="master", employment="full_time", establishment="inside",
    )  # fmt: skip
    seat(a1_term, CommitteePost.COMMITTEE, date(2026, 7, 1))  # after the quarter
    seat(a1_term, CommitteePost.PUBLICITY, date(2025, 1, 1), date(2026, 5, 31))  # ended before its end
    b_term = CommitteeTerm.objects.create(
        organization=township_b, starts_on=date(2020, 1, 1), length_years=5, recorded_by=recorder
    )
    seat(
        b_term, CommitteePost.SECRETARY, date(2020, 1, 1),
        sex="F", birth_date=date(1995, 1, 1), education="bachelor", employment="full_time", establishment="inside",
    )  # fmt: skip
    # Due on 1 July: not yet overdue at the quarter's end (it is by the day the report is made).
    CommitteeTerm.objects.create(organization=ag1, starts_on=date(2025, 7, 1), length_years=1, recorded_by=recorder)

    # --- 推优 -------------------------------------------------------------------------------------
    # The same person handed over earlier in the quarter, not adopted (then recommended again in June):
    # one person recommended.
    case(
        moved_in, b1, recorder, applied=date(2026, 1, 5), recommended_on=date(2026, 4, 5),
        steps=[(date(2026, 1, 10), S.CULTIVATION), (date(2026, 4, 1), S.APPROVED), (date(2026, 4, 5), S.RECOMMENDED),
               (date(2026, 4, 25), S.NOT_ADOPTED)],
    )  # fmt: skip
    case(
        moved_in, b1, recorder, applied=date(2026, 4, 10), recommended_on=date(2026, 6, 1),
        steps=[(date(2026, 4, 15), S.CULTIVATION), (date(2026, 5, 1), S.NOMINATED), (date(2026, 5, 5), S.VOTED),
               (date(2026, 5, 6), S.PUBLICITY), (date(2026, 5, 15), S.IN_REVIEW), (date(2026, 5, 20), S.APPROVED),
               (date(2026, 6, 1), S.RECOMMENDED)],
    )  # fmt: skip
    activist = case(
        old, a1, recorder, applied=date(2025, 6, 1), recommended_on=date(2026, 2, 20),
        steps=[(date(2025, 7, 1), S.CULTIVATION), (date(2026, 2, 10), S.APPROVED), (date(2026, 2, 20), S.RECOMMENDED),
               (date(2026, 5, 10), S.ACTIVIST), (date(2026, 7, 15), S.DEVELOPMENT)],
    )  # fmt: skip
    follow_up(activist, date(2026, 3, 1), date(2026, 4, 8), recorder)  # on time
    follow_up(activist, date(2026, 4, 1), date(2026, 7, 2), recorder)  # after the quarter: missing at its end
    case(
        left_later, a1, recorder, applied=date(2026, 5, 1),
        steps=[(date(2026, 5, 3), S.CULTIVATION), (date(2026, 7, 20), S.WITHDRAWN)],
    )  # fmt: skip
    case(ag_member, ag1, recorder, applied=date(2025, 10, 1), steps=[(date(2025, 11, 1), S.CULTIVATION)])
    case(
        b2_member, b2, recorder, applied=date(2026, 2, 1),
        steps=[(date(2026, 6, 2), S.CULTIVATION), (date(2026, 6, 3), S.NOMINATED), (date(2026, 6, 4), S.VOTED),
               (date(2026, 6, 5), S.PUBLICITY), (date(2026, 6, 10), S.IN_REVIEW)],
    )  # fmt: skip
    short_wait = case(
        moved_later, b1, recorder, applied=date(2026, 6, 15),
        steps=[(date(2026, 3, 10), S.CULTIVATION), (date(2026, 6, 20), S.NOMINATED), (date(2026, 6, 22), S.VOTED),
               (date(2026, 6, 23), S.PUBLICITY), (date(2026, 6, 28), S.IN_REVIEW)],
    )  # fmt: skip
    cultivation(short_wait, 2026, 1, date(2026, 4, 12), recorder)
    development = case(
        fillers[0], b1, recorder, applied=date(2025, 3, 1), track=Track.DEVELOPMENT, recommended_on=date(2026, 3, 15),
        steps=[(date(2025, 9, 1), S.CULTIVATION), (date(2026, 3, 10), S.APPROVED), (date(2026, 3, 15), S.RECOMMENDED),
               (date(2026, 4, 20), S.DEVELOPMENT)],
    )  # fmt: skip
    for month, filed_on in ((3, date(2026, 4, 9)), (4, date(2026, 5, 8)), (5, date(2026, 6, 9))):
        follow_up(development, date(2026, month, 1), filed_on, recorder)
    case(
        fillers[1], b1, recorder, applied=date(2024, 9, 1), track=Track.DEVELOPMENT, recommended_on=date(2025, 6, 1),
        steps=[(date(2025, 1, 1), S.CULTIVATION), (date(2025, 6, 1), S.RECOMMENDED), (date(2026, 1, 10), S.DEVELOPMENT),
               (date(2026, 5, 20), S.PROBATIONARY)],
    )  # fmt: skip
    case(
        fillers[2], b1, recorder, applied=date(2024, 1, 1), track=Track.DEVELOPMENT, recommended_on=date(2024, 6, 1),
        steps=[(date(2024, 2, 1), S.CULTIVATION), (date(2024, 6, 1), S.RECOMMENDED), (date(2025, 5, 1), S.PROBATIONARY),
               (date(2026, 6, 15), S.FULL_MEMBER)],
    )  # fmt: skip
    # Handed over, reports never filed, but the member left in May: no follow-up report is due on them.
    case(
        over_age, a1, recorder, applied=date(2025, 3, 1), recommended_on=date(2026, 1, 20),
        steps=[(date(2025, 4, 1), S.CULTIVATION), (date(2026, 1, 20), S.RECOMMENDED)],
    )  # fmt: skip
    # Sorted insertion (node_order_by) moved some siblings' paths: read every unit afresh.
    for unit in (*(u for u in tree.values() if isinstance(u, Organization)), a2, b2, b3, township_x):
        unit.refresh_from_db()
    return {
        "recorder": recorder,
        "a2": a2,
        "b2": b2,
        "b3": b3,
        "township_x": township_x,
        "old": old,
        "left_later": left_later,
        "fillers": fillers,
    }


def add_branches(tree, recorder: User, count: int, *, tag: str = "extra") -> list[Organization]:
    """More branches under the townships with a quarter of everything in them (fill_branch): for the
    query-count test at two sizes."""
    made = []
    for n in range(count):
        parent = tree["township_a"] if n % 2 else tree["township_b"]
        branch = add(
            parent,
            name=f"{tag}{n}团支部",
            code=f"{parent.code}-{tag}{n}",
            kind=OrganizationKind.BRANCH,
            sector=Sector.SCHOOL,
        )
        fill_branch(branch, recorder, f"{tag}{n}", elsewhere=tree["branch_a1"] if n % 2 else tree["branch_b1"])
        made.append(branch)
    return made


def fill_branch(branch: Organization, recorder: User, tag: str, *, elsewhere: Organization) -> None:
    """A quarter of everything in `branch`: members joining, leaving, moving in from `elsewhere` and
    out to it (one of them after the quarter), meetings with attendance, a committee with an overdue
    term (unless it has one), cases moving through the pipeline with reports missing."""
    people = [member(branch, f"{tag}-{i}", birth_date=date(2003, 1, 1 + i)) for i in range(3)]
    joined = member(branch, f"{tag}-新", joined_on=date(2026, 5, 1))
    member(branch, f"{tag}-离", status=MemberStatus.LEFT_WITHDRAWN, left_on=date(2026, 6, 1))
    member(branch, f"{tag}-外", status=MemberStatus.TRANSFERRED_OUT, left_on=date(2026, 6, 2))
    moved(member(branch, f"{tag}-来", joined_on=date(2020, 5, 4)), elsewhere, branch, date(2026, 4, 9), recorder)
    moved(joined, branch, elsewhere, date(2026, 6, 9), recorder)
    Member.objects.filter(pk=joined.pk).update(branch=elsewhere)
    moved(member(branch, f"{tag}-后来", joined_on=date(2020, 5, 4)), elsewhere, branch, date(2026, 7, 9), recorder)
    meeting = held(branch, K.GENERAL_MEETING, date(2026, 6, 5), recorder, present_count=2, absent_count=1)
    for i, person in enumerate(people):
        Attendance.objects.create(activity=meeting, member=person, present=i < 2)
    held(branch, K.THEMED_DAY, date(2026, 5, 5), recorder)
    if not CommitteeTerm.objects.filter(organization=branch).exists():  # one current term a unit
        term = CommitteeTerm.objects.create(
            organization=branch, starts_on=date(2022, 1, 1), length_years=3, recorded_by=recorder
        )
        seat(term, CommitteePost.SECRETARY, date(2022, 1, 1))
    handed = case(
        people[0], branch, recorder, applied=date(2026, 4, 1), recommended_on=date(2026, 3, 1),
        steps=[(date(2025, 12, 1), S.CULTIVATION), (date(2026, 3, 1), S.RECOMMENDED), (date(2026, 5, 1), S.ACTIVIST)],
    )  # fmt: skip
    follow_up(handed, date(2026, 3, 1), date(2026, 4, 1), recorder)
    case(
        people[1], branch, recorder, applied=date(2025, 6, 1),
        steps=[(date(2025, 12, 1), S.CULTIVATION), (date(2026, 6, 1), S.NOMINATED), (date(2026, 6, 2), S.VOTED),
               (date(2026, 6, 3), S.PUBLICITY), (date(2026, 6, 8), S.IN_REVIEW)],
    )  # fmt: skip
    case(people[2], branch, recorder, applied=date(2025, 8, 1), steps=[(date(2025, 9, 1), S.CULTIVATION)])
