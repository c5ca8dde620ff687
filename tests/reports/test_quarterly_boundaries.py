"""The quarterly report at its edges, on tests/reports/quarterly_data.py (the second quarter of 2026, seen
on 15 August 2026): members balance from one quarter to the next for every unit; the last day of the
quarter and midnight in the county (Asia/Shanghai); moves out of the county recorded late; units
dissolved on the last day; the 推优 figures staying with the unit a member was in; the reminders'
rule for reports owed; the Party's totals entered below the unit. Labels are read in English."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.utils import translation

from branches.models import CommitteePost, CommitteeTerm, Organization, OrganizationKind, Sector
from members.models import Member, MemberStatus
from promotion.due import cultivation_quarters, follow_up_months
from promotion.models import PromotionCase, Stage, Track
from reports.models import PartyIntake
from reports.quarterly import build_quarterly
from reports.quarterly.late import owes_cultivation, owes_follow_up
from tests.conftest import add
from tests.reports import quarterly_data
from tests.reports.quarterly_data import NOW, Q2, TZ, case, member, moved, seat

S = Stage


@pytest.fixture
def quarter(tree):
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        data = quarterly_data.build(tree)
        yield {**tree, **data}


def figures(unit, period=Q2, key="members"):
    return {f.label: f.value for f in build_quarterly(unit, period).section(key).figures}


def movement(unit, period=Q2) -> tuple[int, int, int, int, int, int]:
    """(members at the start, joined, left, transferred in, transferred out, members at the end)."""
    before, now = figures(unit, period.previous()), figures(unit, period)
    return (
        before["Members at the end of the period"],
        now["Joined in the period"],
        now["Left in the period"],
        now["Transferred in"],
        now["Transferred out"],
        now["Members at the end of the period"],
    )


@pytest.fixture
def edges(quarter):
    """Members at the quarter's edges, on top of the quarter's data."""
    a1, b1, recorder = quarter["branch_a1"], quarter["branch_b1"], quarter["recorder"]
    # Joined A1 in April, moved to B1 in May: joined in township A, then out of it.
    april = member(b1, "四月入", birth_date=date(2008, 1, 1), joined_on=date(2026, 4, 3))
    moved(april, a1, b1, date(2026, 5, 20), recorder)
    # Out of the county on 28 June, recorded on 2 July.
    late = member(a1, "外出", status=MemberStatus.TRANSFERRED_OUT, left_on=date(2026, 6, 28))
    moved(late, a1, None, date(2026, 7, 2), recorder)
    # Moved A1 → B1 one minute before midnight on 30 June, and B1 → A1 at midnight, county time.
    night = moved(member(b1, "夜转"), a1, b1, date(2026, 6, 30), recorder)
    midnight = moved(member(a1, "零点转"), b1, a1, date(2026, 7, 1), recorder)
    night.decided_at = datetime(2026, 6, 30, 23, 59, tzinfo=TZ)
    night.save()
    midnight.decided_at = datetime(2026, 7, 1, 0, 0, tzinfo=TZ)
    midnight.save()
    # Left on the quarter's last day.
    member(b1, "月末离", status=MemberStatus.LEFT_WITHDRAWN, left_on=date(2026, 6, 30))
    return quarter


# (start, joined, left, in, out, end): start + joined − left + in − out = end.
BALANCE = {
    # joined: 甲新, 乙二新, 四月入; left: 甲超龄, 甲二, 月末离; out of the county: 甲外转, 外出 (recorded in July)
    "county": (63, 3, 3, 0, 2, 61),
    # out: 乙转入, 四月入 and 夜转 to B1 (23:59 on 30 June), 甲外转 and 外出 out of the county
    "township_a": (10, 2, 2, 0, 5, 5),
    # in: the three from A1; 零点转 leaves at midnight, in the next quarter
    "township_b": (53, 1, 1, 3, 0, 56),
    "branch_a1": (7, 2, 1, 0, 5, 3),
    "branch_b1": (53, 0, 1, 3, 0, 55),
}


@pytest.mark.parametrize("key", list(BALANCE))
def test_members_balance_from_one_quarter_to_the_next(edges, key):
    start, joined, left, moved_in, moved_out, end = movement(edges[key])
    assert (start, joined, left, moved_in, moved_out, end) == BALANCE[key]
    assert start + joined - left + moved_in - moved_out == end


def test_the_next_quarter_balances_too(edges):
    # Q3 (to 15 August): 零点转 B1 → A1 at midnight, 后转乙 AG1 → B1 on 10 July; 甲退 left in July,
    # 甲后来 joined; 外出 is not counted again.
    assert movement(edges["township_a"], Q2.next()) == (5, 1, 1, 1, 1, 5)
    assert movement(edges["township_b"], Q2.next()) == (56, 0, 0, 1, 1, 56)
    assert movement(edges["county"], Q2.next()) == (61, 1, 1, 0, 0, 61)


def test_a_move_out_of_the_county_counts_once_by_the_day_the_member_left(edges):
    q2 = figures(edges["county"])
    assert (q2["Left in the period"], q2["Transferred out"]) == (3, 2)
    (note,) = [f.note for f in build_quarterly(edges["county"], Q2).section("members").figures if f.note]
    assert note == "2 of them out of the county"
    q3 = figures(edges["county"], Q2.next())
    assert q3["Transferred out"] == 0


def test_a_member_leaving_on_the_last_day_is_not_a_member_at_its_end(quarter):
    before = figures(quarter["branch_b1"])
    member(quarter["branch_b1"], "月末离", status=MemberStatus.LEFT_WITHDRAWN, left_on=date(2026, 6, 30))
    after = figures(quarter["branch_b1"])
    assert after["Members at the end of the period"] == before["Members at the end of the period"] == 52
    assert after["Left in the period"] == before["Left in the period"] + 1 == 1


def test_a_unit_dissolved_on_the_last_day(quarter):
    """Counted as dissolved, not among the units at the end; its row stays in the drill-down (it
    existed during the quarter); its committee's cadres and overdue term no longer count."""
    a3 = add(
        quarter["township_a"], name="甲三村团支部", code="C-A-3", kind=OrganizationKind.BRANCH, sector=Sector.VILLAGE
    )
    Organization.objects.filter(pk=a3.pk).update(founded_on=date(2020, 1, 1), dissolved_on=date(2026, 6, 30))
    term = CommitteeTerm.objects.create(
        organization=a3, starts_on=date(2020, 1, 1), length_years=3, recorded_by=quarter["recorder"]
    )
    seat(term, CommitteePost.SECRETARY, date(2020, 1, 1))
    document = build_quarterly(quarter["county"], Q2)
    organizations = {f.label: f.value for f in document.section("organizations").figures}
    assert (organizations["Units at the end of the period"], organizations["Dissolved in the period"]) == (8, 2)
    assert {f.label: f.value for f in document.section("cadres").figures}["Cadres serving"] == 4
    assert {f.label: f.value for f in document.section("late").figures}["Committee terms overdue"] == 1
    (units,) = build_quarterly(quarter["township_a"], Q2).section("units").tables
    assert [row[0] for row in units.rows] == ["甲一村团支部", "甲二村团支部", "甲三村团支部", "甲镇中学团总支"]


def test_the_promotion_figures_stay_with_the_unit_the_member_was_in(quarter):
    """甲老 (A1) was named an activist on 10 May and owes two follow-up reports at the quarter's end;
    moving to township B in August (the case with her) changes nothing in the second quarter."""

    def promotion(key):
        document = build_quarterly(quarter[key], Q2)
        funnel = {f.label: f.value for f in document.section("promotion").figures}
        late = {f.label: f.value for f in document.section("late").figures}
        return funnel["Named Party activists"], late["Follow-up reports missing"]

    assert (promotion("township_a"), promotion("township_b")) == ((1, 2), (0, 0))
    old = quarter["old"]
    moved(old, quarter["branch_a1"], quarter["branch_b1"], date(2026, 8, 10), quarter["recorder"])
    Member.objects.filter(pk=old.pk).update(branch=quarter["branch_b1"])
    PromotionCase.objects.filter(member=old).update(branch=quarter["branch_b1"])
    assert (promotion("township_a"), promotion("township_b")) == ((1, 2), (0, 0))


def test_a_case_continued_on_the_development_track_is_one_person(quarter):
    a1, recorder = quarter["branch_a1"], quarter["recorder"]
    person = member(a1, "续推", birth_date=date(2000, 1, 1))
    case(
        person, a1, recorder, applied=date(2026, 1, 5), recommended_on=date(2026, 4, 3),
        steps=[(date(2026, 1, 10), S.CULTIVATION), (date(2026, 4, 2), S.APPROVED), (date(2026, 4, 3), S.RECOMMENDED),
               (date(2026, 4, 20), S.ACTIVIST), (date(2026, 5, 2), S.CONTINUED)],
    )  # fmt: skip
    case(
        person, a1, recorder, applied=date(2026, 5, 1), track=Track.DEVELOPMENT, recommended_on=date(2026, 5, 25),
        steps=[(date(2026, 5, 2), S.CULTIVATION), (date(2026, 5, 20), S.APPROVED), (date(2026, 5, 25), S.RECOMMENDED),
               (date(2026, 6, 10), S.DEVELOPMENT)],
    )  # fmt: skip
    section = build_quarterly(quarter["county"], Q2).section("promotion")
    # The quarter's own people were 3, 1, 1, 1, 1, 1: the person adds one at each step reached.
    assert [f.value for f in section.figures[:6]] == [4, 2, 2, 2, 1, 1]


def test_cultivation_reports_are_owed_from_the_quarter_after_the_application(quarter):
    """The reminders' rule (promotion.due): a case opened in February on a January application owes no
    report on the first quarter; one opened in April on an application of 2025 does."""

    def missing():
        return figures(quarter["county"], key="late")["Cultivation reports missing"]

    a1, recorder = quarter["branch_a1"], quarter["recorder"]
    assert missing() == 1  # AG1's
    case(member(a1, "新案"), a1, recorder, applied=date(2026, 1, 10), steps=[(date(2026, 2, 20), S.CULTIVATION)])
    assert missing() == 1
    case(member(a1, "旧申请"), a1, recorder, applied=date(2025, 3, 1), steps=[(date(2026, 4, 2), S.CULTIVATION)])
    assert missing() == 2


def test_the_reports_owed_are_the_reminders(quarter):
    """The late items' query conditions select the cases promotion.due's rule says owe the report."""
    a1, recorder = quarter["branch_a1"], quarter["recorder"]
    days = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 2, 15), date(2026, 3, 31), date(2026, 4, 1)]
    made = [
        case(member(a1, f"规则{n}"), a1, recorder, applied=day, recommended_on=day, steps=[(day, S.CULTIVATION)])
        for n, day in enumerate(days)
    ]
    cases = PromotionCase.objects.filter(pk__in=[c.pk for c in made])
    later = date(2027, 1, 1)
    for year, number in [(2025, 4), (2026, 1), (2026, 2)]:
        owed = {c.pk for c in made if (year, number) in cultivation_quarters(c.party_applied_on, later)}
        assert set(cases.filter(owes_cultivation(year, number)).values_list("pk", flat=True)) == owed
    for month in [date(2025, 12, 1), date(2026, 1, 1), date(2026, 3, 1), date(2026, 4, 1)]:
        owed = {c.pk for c in made if month in follow_up_months(c.recommended_on, later)}
        assert set(cases.filter(owes_follow_up(month)).values_list("pk", flat=True)) == owed


def test_the_partys_totals_entered_below_the_unit_are_summed(quarter):
    def intake(unit, new, young):
        PartyIntake.objects.create(
            organization=quarter[unit], year=2026, quarter=2, new_members=new, new_young_members=young,
            entered_by=quarter["recorder"],
        )  # fmt: skip

    intake("township_a", 10, 4)
    intake("branch_a1", 3, 1)  # inside township A's totals
    intake("township_b", 6, 3)
    section = build_quarterly(quarter["county"], Q2).section("promotion")
    shown = {f.label: f.value for f in section.figures}
    assert shown["New Party members (the Party's total)"] == 16
    assert shown["of whom young people"] == 7
    assert shown["Young people among new Party members (%)"] == 43.8
    assert shown["New young Party members who came through 推优 (%)"] == 14.3  # B1's one of 7
    assert any("(2 units)" in note for note in section.notes)
    with translation.override("zh-hans"):
        notes = build_quarterly(quarter["county"], Q2).section("promotion").notes
    assert any("2 个单位已填报" in note for note in notes)
