"""A small county's handed-over cases with a history, for the monthly progress report's tests.

The clock stands at NOW (8 June 2026). Party organization A (paired with township A) holds:

    person  branch  handed over   history (recorded at)                          follow-up reports filed
    王一    A1      2026-03-02    activist 2026-06-03; a 'move' step in May      Mar (04-08), Apr (05-08), May (06-05)
    李二    A1      2025-12-01    activist 2026-01-10 (since 01-08);             Dec–Mar; April and May missing
                                  development 2026-06-05 (under a year)
    张三    AG1     2026-02-02    development track (activist since 2024-03-01); Feb, Mar; Apr late (05-14)
                                  development 2026-05-18 (decided 05-15)
    赵四    A1      2024-07-16    valid until 2026-07-15                         every month to May
    钱五    AG1     2023-09-04    … probationary 2025-04-20; full 2026-04-12      —
                                  (decided 04-10: probation under a year)
    孙六    A1      2026-05-20    talks 05-10 (before the hand-over), 05-25      —
    郑九    A1      2026-01-05    withdrawn 2026-05-06                           Jan–Mar
    冯十    A1      2024-04-01    lapsed 2026-04-01 02:00                        —

and talks with 王一 on 04-15, 05-12 and 05-20. Outside it: 周七 (A1, approved, not handed over), 陈十一
(AG1, handed to Party organization B on 2026-04-01, April's report filed 05-06) and 吴八 (B1, handed to
B on 2026-03-02, reports for March and April, a talk on 05-06).

Every handed-over case was opened (created_at) 60 days before its hand-over, as the services would
have written it: a case's stage at a past moment is read from its transitions only once it existed
(reports/quarterly/history.py, case_stage_at).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from branches.models import Organization, OrganizationKind, PartyOrganization, Sector, User
from promotion.models import CaseTransition, FollowUpReport, PromotionCase, Stage, Talk, Track
from promotion.workdays import next_month_start
from tests.conftest import add
from tests.promotion.helpers import at_stage, eligible_member, make_case
from tests.promotion.staff_helpers import handed_over_case

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 8, 9, 0, tzinfo=ZONE)
TODAY = NOW.date()


def moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE)


def history(case: PromotionCase, *steps: tuple[str, str, str, datetime]) -> None:
    """The case's transitions, as the services would have written them."""
    CaseTransition.objects.bulk_create(
        CaseTransition(case=case, action=action, from_stage=source, to_stage=target, at=at)
        for action, source, target, at in steps
    )


def step(action: str, source: str, target: str, day: date, hour: int = 10) -> tuple[str, str, str, datetime]:
    """A transition recorded at `hour` o'clock on `day`."""
    return (action, source, target, moment(day, hour))


def hand_over(at: date) -> tuple[str, str, str, datetime]:
    return step("hand_over", Stage.APPROVED, Stage.RECOMMENDED, at)


def reports(case: PromotionCase, *filed: tuple[date, date], recorder: User) -> None:
    """Follow-up reports: (month reported on, day filed)."""
    for month, filed_on in filed:
        report = FollowUpReport.objects.create(
            case=case, month=month, thinking="思想稳定", work="工作积极", study="学习认真", filed_by=recorder
        )
        FollowUpReport.objects.filter(pk=report.pk).update(filed_at=moment(filed_on, 16))


def every_month(first: date, last: date) -> list[tuple[date, date]]:
    """Reports on every month from `first` to `last`, each filed on the 5th of the month after."""
    months, month = [], first
    while month <= last:
        months.append((month, next_month_start(month).replace(day=5)))
        month = next_month_start(month)
    return months


def talk(case: PromotionCase, held_on: date, held_by: str, *, recorder: User) -> Talk:
    return Talk.objects.create(case=case, held_on=held_on, held_by=held_by, summary="谈心谈话", recorded_by=recorder)


def handed(
    branch: Organization,
    name: str,
    recommended_on: date,
    stage: str,
    *steps: tuple[str, str, str, datetime],
    party: PartyOrganization,
    recorder: User,
    filed: Iterable[tuple[date, date]] = (),
    talks: Iterable[tuple[date, str]] = (),
    **fields,
) -> PromotionCase:
    """A case handed over to `party` on `recommended_on`, at `stage` now: its transitions after the
    hand-over, its follow-up reports `filed` ((month reported on, day filed)) and its `talks`
    ((held on, held by)); opened 60 days before the hand-over unless `created_at` says otherwise."""
    fields.setdefault("created_at", moment(recommended_on - timedelta(days=60)))
    case = handed_over_case(
        branch, name, recorder=recorder, party=party, stage=stage, recommended_on=recommended_on, **fields
    )
    history(case, hand_over(recommended_on), *steps)
    reports(case, *filed, recorder=recorder)
    for held_on, held_by in talks:
        talk(case, held_on, held_by, recorder=recorder)
    return case


def approved(branch: Organization, name: str, day: date, *, recorder: User) -> PromotionCase:
    """A case approved on `day` and not handed over."""
    case = make_case(eligible_member(branch, name, recorder=recorder), recorder=recorder)
    history(case, step("approve", Stage.IN_REVIEW, Stage.APPROVED, day))
    return at_stage(case, Stage.APPROVED)


def county_cases(tree: dict, recorder: User) -> dict[str, PromotionCase]:
    a1, ag1, b1 = tree["branch_a1"], tree["branch_ag1"], tree["branch_b1"]
    to_a = partial(handed, party=tree["party_a"], recorder=recorder)
    to_b = partial(handed, party=tree["party_b"], recorder=recorder)
    cases = [
        to_a(
            a1,
            "王一",
            date(2026, 3, 2),
            Stage.ACTIVIST,
            step("move", Stage.RECOMMENDED, Stage.RECOMMENDED, date(2026, 5, 15)),
            step("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, date(2026, 6, 3)),
            activist_since=date(2026, 6, 3),
            filed=[
                (date(2026, 3, 1), date(2026, 4, 8)),
                (date(2026, 4, 1), date(2026, 5, 8)),
                (date(2026, 5, 1), date(2026, 6, 5)),
            ],
            talks=[(date(2026, 4, 15), "团支部书记"), (date(2026, 5, 12), "李书记"), (date(2026, 5, 20), "团支部书记")],
        ),
        to_a(
            a1,
            "李二",
            date(2025, 12, 1),
            Stage.DEVELOPMENT,
            step("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, date(2026, 1, 10)),
            step("party_names_development_candidate", Stage.ACTIVIST, Stage.DEVELOPMENT, date(2026, 6, 5)),
            activist_since=date(2026, 1, 8),
            development_on=date(2026, 6, 5),
            filed=every_month(date(2025, 12, 1), date(2026, 3, 1)),
        ),
        to_a(
            ag1,
            "张三",
            date(2026, 2, 2),
            Stage.DEVELOPMENT,
            step("party_names_development_candidate", Stage.RECOMMENDED, Stage.DEVELOPMENT, date(2026, 5, 18)),
            track=Track.DEVELOPMENT,
            activist_since=date(2024, 3, 1),
            development_on=date(2026, 5, 15),
            filed=[
                (date(2026, 2, 1), date(2026, 3, 5)),
                (date(2026, 3, 1), date(2026, 4, 5)),
                (date(2026, 4, 1), date(2026, 5, 14)),
            ],
        ),
        to_a(a1, "赵四", date(2024, 7, 16), Stage.RECOMMENDED, filed=every_month(date(2024, 7, 1), date(2026, 5, 1))),
        to_a(
            ag1,
            "钱五",
            date(2023, 9, 4),
            Stage.FULL_MEMBER,
            step("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, date(2023, 10, 9)),
            step("party_names_development_candidate", Stage.ACTIVIST, Stage.DEVELOPMENT, date(2024, 10, 14)),
            step("party_admits_probationary", Stage.DEVELOPMENT, Stage.PROBATIONARY, date(2025, 4, 20)),
            step("party_confirms_full_member", Stage.PROBATIONARY, Stage.FULL_MEMBER, date(2026, 4, 12)),
            activist_since=date(2023, 10, 9),
            development_on=date(2024, 10, 14),
            probationary_on=date(2025, 4, 20),
            full_member_on=date(2026, 4, 10),
            closed_on=date(2026, 4, 10),
        ),
        to_a(
            a1,
            "孙六",
            date(2026, 5, 20),
            Stage.RECOMMENDED,
            talks=[(date(2026, 5, 10), "团支部书记"), (date(2026, 5, 25), "李书记")],
        ),
        to_a(
            a1,
            "郑九",
            date(2026, 1, 5),
            Stage.WITHDRAWN,
            step("withdraw", Stage.RECOMMENDED, Stage.WITHDRAWN, date(2026, 5, 6)),
            closed_on=date(2026, 5, 6),
            filed=every_month(date(2026, 1, 1), date(2026, 3, 1)),
        ),
        to_a(
            a1,
            "冯十",
            date(2024, 4, 1),
            Stage.LAPSED,
            step("lapse", Stage.RECOMMENDED, Stage.LAPSED, date(2026, 4, 1), hour=2),
            closed_on=date(2026, 4, 1),
        ),
        approved(a1, "周七", date(2026, 5, 10), recorder=recorder),
        to_b(ag1, "陈十一", date(2026, 4, 1), Stage.RECOMMENDED, filed=[(date(2026, 4, 1), date(2026, 5, 6))]),
        to_b(
            b1,
            "吴八",
            date(2026, 3, 2),
            Stage.RECOMMENDED,
            filed=[(date(2026, 3, 1), date(2026, 4, 5)), (date(2026, 4, 1), date(2026, 5, 5))],
            talks=[(date(2026, 5, 6), "团支部书记")],
        ),
    ]
    return {case.member.name: case for case in cases}


def more_cases(tree: dict, recorder: User, count: int) -> None:
    """`count` more people handed over to Party organization A, each with a decision, reports and a
    talk in May 2026, in new branches of township A (two people each, the first one in branch A1):
    for query counts at a second size, with more cases and more branches."""
    branches = [tree["branch_a1"]]
    for n in range(count):
        if n % 2:
            branches.append(
                add(
                    tree["township_a"],
                    name=f"测试{n:02d}村团支部",
                    code=f"C-A-T{n:02d}",
                    kind=OrganizationKind.BRANCH,
                    sector=Sector.VILLAGE,
                )
            )
        handed(
            branches[-1],
            f"测试{n:02d}",
            date(2026, 1, 5),
            Stage.ACTIVIST,
            step("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, date(2026, 5, 11)),
            party=tree["party_a"],
            recorder=recorder,
            activist_since=date(2026, 5, 11),
            filed=every_month(date(2026, 1, 1), date(2026, 4, 1)),
            talks=[(date(2026, 5, 21), "团支部书记")],
        )
