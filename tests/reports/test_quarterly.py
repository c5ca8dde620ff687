"""The quarterly report's sections against figures worked out by hand on tests/reports/quarterly_data.py
(the second quarter of 2026, generated on 15 August 2026). Labels are read in English."""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine
from django.utils import translation

from members.models import MemberStatus
from reports.document import ReportDocument
from reports.models import PartyIntake
from reports.periods import Period
from reports.quarterly import build_quarterly
from tests.conftest import make_member
from tests.reports import quarterly_data
from tests.reports.quarterly_data import NOW, Q2, K


@pytest.fixture
def quarter(tree):
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        data = quarterly_data.build(tree)
        yield {**tree, **data}


def build(unit, period=Q2, **kwargs):
    return build_quarterly(unit, period, **kwargs)


def figures(section):
    return {figure.label: figure.value for figure in section.figures}


def table(section, title):
    return next(t for t in section.tables if t.title == title)


def test_organizations(quarter):
    section = build(quarter["county"]).section("organizations")
    assert figures(section) == {
        "Units at the end of the period": 8,  # the county, 2 townships, AG, A1, AG1, B1, B2
        "Branches": 4,
        "Founded in the period": 1,  # B2
        "Dissolved in the period": 1,  # A2
        "Branches with fewer than 3 members": 2,  # AG1 (2), B2 (1)
        "Branches with more than 50 members": 1,  # B1 (52)
    }
    assert table(section, "Units by kind").rows == [
        ["County committee (团县委)", 1],
        ["Township committee (乡镇团委)", 2],
        ["General branch (团总支)", 1],
        ["Branch (团支部)", 4],
    ]
    assert table(section, "Units by sector").rows == [
        ["Village", 3, 3],
        ["School", 2, 1],
        ["Government or public institution", 3, 0],
    ]
    changed = table(section, "Units founded or dissolved in the period")
    assert changed.rows == [
        ["甲二村团支部", "Branch (团支部)", "2020-01-01", "2026-06-01"],
        ["乙二村团支部", "Branch (团支部)", "2026-05-10", None],
    ]
    assert changed.row_units == [quarter["a2"].pk, quarter["b2"].pk]
    sizes = table(section, "Branches with fewer than 3 or more than 50 members")
    assert sizes.rows == [["乙二村团支部", 1], ["甲镇中学九年级团支部", 2], ["乙一村团支部", 52]]
    assert sizes.row_units == [quarter["b2"].pk, quarter["branch_ag1"].pk, quarter["branch_b1"].pk]


def test_members(quarter):
    section = build(quarter["county"]).section("members")
    assert figures(section) == {
        "Members at the end of the period": 58,
        "Joined in the period": 2,
        "Left in the period": 2,  # over age (A1) and lapsed (A2); the move out of the county is a transfer
        "Transferred in": 0,
        "Transferred out": 1,  # out of the county; A1 → B1 stays inside
    }
    assert section.figures[4].note == "1 of them out of the county"
    assert table(section, "Left in the period, by reason").rows == [
        ["Left: over age (超龄离团)", 1],
        ["Left: withdrew (退团)", 0],
        ["Left: lapsed (脱团)", 1],
        ["Left: removed (除名)", 0],
    ]
    assert table(section, "By age at the end of the period").rows == [
        ["14–17", 3, 5.2],
        ["18–22", 51, 87.9],
        ["23–25", 2, 3.4],
        ["26–28", 1, 1.7],
        ["Over 28", 1, 1.7],  # 29 on the quarter's last day
    ]
    assert table(section, "By sex").rows == [["Male", 54, 93.1], ["Female", 4, 6.9]]
    assert table(section, "By ethnicity").rows == [
        ["汉族", 52, 89.7],
        ["回族", 1, 1.7],
        ["苗族", 1, 1.7],
        ["彝族", 1, 1.7],
        ["壮族", 1, 1.7],
        ["Other ethnic groups", 2, 3.4],
    ]
    assert [row[1] for row in table(section, "By education").rows] == [0, 2, 52, 1, 2, 1, 0]
    assert [row[1] for row in table(section, "By occupation").rows] == [3, 51, 1, 1, 1, 1, 0, 0, 0, 0]
    ages, months = section.charts
    assert ages.series[0].values == [3, 51, 2, 1, 1]
    assert months.labels == ["4/2026", "5/2026", "6/2026"]
    assert [(s.name, s.values) for s in months.series] == [("Joined", [1, 0, 1]), ("Left", [0, 2, 0])]


def test_transfers_count_across_the_units_boundary(quarter):
    township_a = figures(build(quarter["township_a"]).section("members"))
    township_b = figures(build(quarter["township_b"]).section("members"))
    # A1 → B1 in May leaves A and enters B; AG1 → B1 in July is after the quarter.
    assert (township_a["Transferred in"], township_a["Transferred out"]) == (0, 2)
    assert (township_b["Transferred in"], township_b["Transferred out"]) == (1, 0)
    # The member moved to B1 in July is counted in AG1 (township A) at the quarter's end.
    assert township_a["Members at the end of the period"] == 5
    assert township_b["Members at the end of the period"] == 53


def test_branch_life(quarter):
    # The general branch gives how many attended (no roster): counted, as on the branch pages.
    quarterly_data.held(
        quarter["general_ag"], K.OTHER, date(2026, 5, 18), quarter["recorder"], present_count=5, absent_count=1
    )
    section = build(quarter["county"]).section("branch_life")
    assert figures(section) == {
        "Required meetings": 24,
        "Required meetings held": 9,
        "Required meetings not held": 15,
        "Required meetings held (%)": 37.5,
        "Activities held": 10,  # branches' only, the voided one left out
        # 2 of 3 at A1's general meeting, 5 of 6 at the general branch's; the voided and July's left out
        "Attendance (%)": 77.8,
        "Silent branches": 1,
    }
    assert table(section, "Meetings by month").rows == [
        ["4/2026", 4, 6, 4, 2, 66.7],
        ["5/2026", 2, 6, 1, 5, 16.7],
        ["6/2026", 4, 12, 4, 8, 33.3],
    ]
    silent = table(section, "Silent branches")
    assert silent.rows == [["乙一村团支部", 52]]
    assert silent.row_units == [quarter["branch_b1"].pk]
    chart = section.charts[0]
    assert [(s.name, s.values) for s in chart.series] == [("Required", [6, 6, 12]), ("Held", [4, 1, 4])]


def test_cadres(quarter):
    section = build(quarter["county"]).section("cadres")
    # Serving on 30 June: A1's secretary, deputy and a member whose seat ended in July; township B's
    # secretary. Not: a seat from July, one ended in May, the old term's secretary.
    assert figures(section) == {
        "Cadres serving": 4,
        "Average age": 30.9,  # 29, 26.5, 36.5, 31.5
        "Over the age norm": 1,
        "Civil servants (%)": 75.0,
    }
    assert table(section, "By sex").rows == [["Male", 2, 50.0], ["Female", 2, 50.0]]
    assert [row[1] for row in table(section, "By education").rows] == [0, 0, 0, 1, 2, 1, 0]
    assert [row[1] for row in table(section, "Full-time or part-time").rows] == [2, 2]
    assert [row[1] for row in table(section, "By establishment").rows] == [3, 1]


def test_promotion_funnel_counts_people(quarter):
    PartyIntake.objects.create(
        organization=quarter["county"], year=2026, quarter=2, new_members=10, new_young_members=4,
        entered_by=quarter["recorder"],
    )  # fmt: skip
    section = build(quarter["county"]).section("promotion")
    assert figures(section) == {
        "Party applications": 3,
        "Recommended to the Party": 1,  # one person handed over twice
        "Named Party activists": 1,
        "Development candidates": 1,
        "Probationary Party members": 1,
        "Full Party members": 1,
        "New Party members (the Party's total)": 10,
        "of whom young people": 4,
        "Young people among new Party members (%)": 40.0,
        "New young Party members who came through 推优 (%)": 25.0,
    }
    period, year = section.tables
    assert period.columns == ["Step", "People", "Ratio to the step before (%)"]
    assert [row[1:] for row in period.rows] == [
        [3, None],
        [1, 33.3],
        [1, 100.0],
        [1, 100.0],
        [1, 100.0],
        [1, 100.0],
    ]
    assert year.title == "The year to date (2026-01-01 to 2026-06-30)"
    # No ratio for the year: a same-period ratio is not a conversion (2 candidates after 1 activist).
    assert year.columns == ["Step", "People"]
    assert [row[1:] for row in year.rows] == [[4], [4], [1], [2], [1], [1]]
    assert section.charts[0].kind == "funnel"
    assert section.charts[0].series[0].values == [3, 1, 1, 1, 1, 1]


def test_promotion_without_the_partys_totals(quarter):
    section = build(quarter["township_b"]).section("promotion")
    assert "Probationary Party members" in figures(section)
    assert "New young Party members who came through 推优 (%)" not in figures(section)
    assert any("not entered" in note for note in section.notes)


def test_late_items(quarter):
    section = build(quarter["county"]).section("late")
    assert figures(section) == {
        "Follow-up reports missing": 2,  # A1's activist: April's filed in July, May's never
        "Cultivation reports missing": 1,  # AG1's Q1 report
        "Required meetings not held": 15,
        "Committee terms overdue": 1,  # township B's; AG1's falls due on 1 July
        "Cases waiting for review": 1,  # B2's, since 10 June
        "Late items in all": 20,
    }
    top = table(section, "Units with the most late items")
    assert top.rows == [
        ["乙一村团支部", 0, 0, 8, 0, 0, 8],
        ["甲镇中学九年级团支部", 0, 1, 4, 0, 0, 5],
        ["甲一村团支部", 2, 0, 2, 0, 0, 4],
        ["甲二村团支部", 0, 0, 1, 0, 0, 1],
        ["共青团乙镇委员会", 0, 0, 0, 1, 0, 1],
        ["乙二村团支部", 0, 0, 0, 0, 1, 1],
    ]
    q = quarter
    assert top.row_units == [
        q["branch_b1"].pk, q["branch_ag1"].pk, q["branch_a1"].pk, q["a2"].pk, q["township_b"].pk, q["b2"].pk
    ]  # fmt: skip


def test_units_drill_down(quarter):
    section = build(quarter["county"]).section("units")
    (units,) = section.tables
    assert units.columns[1:] == [
        "Members at the end",
        "Joined",
        "Left",
        "Branches",
        "Required meetings",
        "Required meetings held",
        "Recommended to the Party",
        "Late items",
    ]
    # Township X, dissolved before the quarter, has no row.
    assert units.rows == [
        ["共青团甲镇委员会", 5, 1, 2, 2, 15, 8, 0, 10],
        ["共青团乙镇委员会", 53, 1, 0, 2, 9, 1, 1, 10],
    ]
    assert units.row_units == [quarter["township_a"].pk, quarter["township_b"].pk]
    assert units.footer == ["Total", 58, 2, 2, 4, 24, 9, 1, 20]


def test_units_of_a_township(quarter):
    (units,) = build(quarter["township_a"]).section("units").tables
    # A2, dissolved in the quarter, still has its row; the general branch holds AG1.
    assert units.rows == [
        ["甲一村团支部", 3, 1, 1, 1, 8, 6, 0, 4],
        ["甲二村团支部", 0, 0, 1, 0, 2, 1, 0, 1],
        ["甲镇中学团总支", 2, 0, 0, 1, 5, 1, 0, 5],
    ]
    assert units.footer == ["Total", 5, 1, 2, 2, 15, 8, 0, 10]


def test_a_branchs_report_has_no_units_under_it(quarter):
    document = build(quarter["branch_b1"])
    assert [s.key for s in document.sections] == [
        "organizations",
        "members",
        "branch_life",
        "cadres",
        "promotion",
        "late",
        "units",
    ]
    assert document.section("units").tables == []
    assert figures(document.section("members"))["Members at the end of the period"] == 52
    assert figures(document.section("organizations"))["Units at the end of the period"] == 1


def test_progress_after_each_section(quarter):
    calls = []
    build(quarter["county"], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 7) for n in range(1, 8)]


def test_a_past_quarter_ignores_later_joiners_and_counts_later_leavers(quarter):
    before = build(quarter["county"]).section("members")
    # After the quarter: someone joins, a member of the quarter's end leaves.
    make_member(quarter["branch_b1"], "八月新", joined_on=date(2026, 8, 1))
    filler = quarter["fillers"][5]
    filler.status, filler.left_on = MemberStatus.LEFT_WITHDRAWN, date(2026, 8, 2)
    filler.save()
    after = build(quarter["county"]).section("members")
    assert figures(after) == figures(before)
    assert [t.rows for t in after.tables] == [t.rows for t in before.tables]
    # The next quarter sees both.
    q3 = figures(build(quarter["county"], Q2.next()).section("members"))
    assert (q3["Joined in the period"], q3["Left in the period"]) == (2, 2)  # July's joiner too; July's leaver


def test_the_document_is_plain_data(quarter):
    document = build(quarter["county"])
    data = json.loads(json.dumps(document.to_dict()))
    assert data["kind"] == "quarterly"
    assert (data["period_key"], data["scope_label"]) == ("2026-Q2", "共青团测试县委员会")
    assert ReportDocument.from_dict(data) == ReportDocument.from_dict(document.to_dict())
    for section in document.sections:
        for t in section.tables:
            for row in t.rows:
                assert all(isinstance(cell, int | float | str | type(None)) for cell in row)


def test_a_month_is_refused(tree):
    with pytest.raises(ValueError):
        build_quarterly(tree["county"], Period.parse("2026-05"))
