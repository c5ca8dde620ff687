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

from datetime import date, datetime, time, timedelta
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


def hand_over(at: date) -> tuple[str, str, str, datetime]:
    return ("hand_over", Stage.APPROVED, Stage.RECOMMENDED, moment(at))


def reports(case: PromotionCase, *filed: tuple[date, date], recorder: User) -> None:
    """Follow-up reports: (month reported on, day filed)."""
    for month, filed_on in filed:
        report = FollowUpReport.objects.create(
            case=case, month=month, thinking="思想稳定", work="工作积极", study="学习认真", filed_by=recorder
        )
        FollowUpReport.objects.filter(pk=report.pk).update(filed_at=moment(filed_on, 16))


def monthly(case: PromotionCase, first: date, last: date, *, recorder: User) -> None:
    """A report on every month from `first` to `last`, each filed on the 5th of the month after."""
    months, month = [], first
    while month <= last:
        months.append((month, next_month_start(month).replace(day=5)))
        month = next_month_start(month)
    reports(case, *months, recorder=recorder)


def talk(case: PromotionCase, held_on: date, held_by: str, *, recorder: User) -> Talk:
    return Talk.objects.create(case=case, held_on=held_on, held_by=held_by, summary="谈心谈话", recorded_by=recorder)


def handed(
    branch: Organization,
    name: str,
    party: PartyOrganization,
    recommended_on: date,
    stage: str,
    *steps: tuple[str, str, str, datetime],
    recorder: User,
    **fields,
) -> PromotionCase:
    fields.setdefault("created_at", moment(recommended_on - timedelta(days=60)))
    case = handed_over_case(
        branch, name, recorder=recorder, party=party, stage=stage, recommended_on=recommended_on, **fields
    )
    history(case, hand_over(recommended_on), *steps)
    return case


def county_cases(tree: dict, recorder: User) -> dict[str, PromotionCase]:
    a1, ag1, b1 = tree["branch_a1"], tree["branch_ag1"], tree["branch_b1"]
    party_a, party_b = tree["party_a"], tree["party_b"]
    cases = {}
    cases["王一"] = handed(
        a1,
        "王一",
        party_a,
        date(2026, 3, 2),
        Stage.ACTIVIST,
        ("move", Stage.RECOMMENDED, Stage.RECOMMENDED, moment(date(2026, 5, 15))),
        ("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, moment(date(2026, 6, 3))),
        recorder=recorder,
        activist_since=date(2026, 6, 3),
    )
    reports(
        cases["王一"],
        (date(2026, 3, 1), date(2026, 4, 8)),
        (date(2026, 4, 1), date(2026, 5, 8)),
        (date(2026, 5, 1), date(2026, 6, 5)),
        recorder=recorder,
    )
    for held_on, held_by in [
        (date(2026, 4, 15), "团支部书记"),
        (date(2026, 5, 12), "李书记"),
        (date(2026, 5, 20), "团支部书记"),
    ]:
        talk(cases["王一"], held_on, held_by, recorder=recorder)

    cases["李二"] = handed(
        a1,
        "李二",
        party_a,
        date(2025, 12, 1),
        Stage.DEVELOPMENT,
        ("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, moment(date(2026, 1, 10))),
        ("party_names_development_candidate", Stage.ACTIVIST, Stage.DEVELOPMENT, moment(date(2026, 6, 5))),
        recorder=recorder,
        activist_since=date(2026, 1, 8),
        development_on=date(2026, 6, 5),
    )
    monthly(cases["李二"], date(2025, 12, 1), date(2026, 3, 1), recorder=recorder)

    cases["张三"] = handed(
        ag1,
        "张三",
        party_a,
        date(2026, 2, 2),
        Stage.DEVELOPMENT,
        ("party_names_development_candidate", Stage.RECOMMENDED, Stage.DEVELOPMENT, moment(date(2026, 5, 18))),
        recorder=recorder,
        track=Track.DEVELOPMENT,
        activist_since=date(2024, 3, 1),
        development_on=date(2026, 5, 15),
    )
    reports(
        cases["张三"],
        (date(2026, 2, 1), date(2026, 3, 5)),
        (date(2026, 3, 1), date(2026, 4, 5)),
        (date(2026, 4, 1), date(2026, 5, 14)),
        recorder=recorder,
    )

    cases["赵四"] = handed(a1, "赵四", party_a, date(2024, 7, 16), Stage.RECOMMENDED, recorder=recorder)
    monthly(cases["赵四"], date(2024, 7, 1), date(2026, 5, 1), recorder=recorder)

    cases["钱五"] = handed(
        ag1,
        "钱五",
        party_a,
        date(2023, 9, 4),
        Stage.FULL_MEMBER,
        ("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, moment(date(2023, 10, 9))),
        ("party_names_development_candidate", Stage.ACTIVIST, Stage.DEVELOPMENT, moment(date(2024, 10, 14))),
        ("party_admits_probationary", Stage.DEVELOPMENT, Stage.PROBATIONARY, moment(date(2025, 4, 20))),
        ("party_confirms_full_member", Stage.PROBATIONARY, Stage.FULL_MEMBER, moment(date(2026, 4, 12))),
        recorder=recorder,
        activist_since=date(2023, 10, 9),
        development_on=date(2024, 10, 14),
        probationary_on=date(2025, 4, 20),
        full_member_on=date(2026, 4, 10),
        closed_on=date(2026, 4, 10),
    )

    cases["孙六"] = handed(a1, "孙六", party_a, date(2026, 5, 20), Stage.RECOMMENDED, recorder=recorder)
    talk(cases["孙六"], date(2026, 5, 10), "团支部书记", recorder=recorder)
    talk(cases["孙六"], date(2026, 5, 25), "李书记", recorder=recorder)

    cases["郑九"] = handed(
        a1,
        "郑九",
        party_a,
        date(2026, 1, 5),
        Stage.WITHDRAWN,
        ("withdraw", Stage.RECOMMENDED, Stage.WITHDRAWN, moment(date(2026, 5, 6))),
        recorder=recorder,
        closed_on=date(2026, 5, 6),
    )
    monthly(cases["郑九"], date(2026, 1, 1), date(2026, 3, 1), recorder=recorder)

    cases["冯十"] = handed(
        a1,
        "冯十",
        party_a,
        date(2024, 4, 1),
        Stage.LAPSED,
        ("lapse", Stage.RECOMMENDED, Stage.LAPSED, moment(date(2026, 4, 1), hour=2)),
        recorder=recorder,
        closed_on=date(2026, 4, 1),
    )

    approved = make_case(eligible_member(a1, "周七", recorder=recorder), recorder=recorder)
    history(approved, ("approve", Stage.IN_REVIEW, Stage.APPROVED, moment(date(2026, 5, 10))))
    cases["周七"] = at_stage(approved, Stage.APPROVED)

    cases["陈十一"] = handed(ag1, "陈十一", party_b, date(2026, 4, 1), Stage.RECOMMENDED, recorder=recorder)
    reports(cases["陈十一"], (date(2026, 4, 1), date(2026, 5, 6)), recorder=recorder)

    cases["吴八"] = handed(b1, "吴八", party_b, date(2026, 3, 2), Stage.RECOMMENDED, recorder=recorder)
    reports(
        cases["吴八"], (date(2026, 3, 1), date(2026, 4, 5)), (date(2026, 4, 1), date(2026, 5, 5)), recorder=recorder
    )
    talk(cases["吴八"], date(2026, 5, 6), "团支部书记", recorder=recorder)
    return cases


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
        case = handed(
            branches[-1],
            f"测试{n:02d}",
            tree["party_a"],
            date(2026, 1, 5),
            Stage.ACTIVIST,
            ("party_names_activist", Stage.RECOMMENDED, Stage.ACTIVIST, moment(date(2026, 5, 11))),
            recorder=recorder,
            activist_since=date(2026, 5, 11),
        )
        monthly(case, date(2026, 1, 1), date(2026, 4, 1), recorder=recorder)
        talk(case, date(2026, 5, 21), "团支部书记", recorder=recorder)
