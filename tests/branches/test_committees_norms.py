"""The committee norms (warnings, never refusals) at their edges, and the cadre statistics against
direct counts, in a constant number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from statistics import mean

import pytest
from django.db.models import Q

from branches.committee_selectors import (
    cadre_statistics,
    committee_warnings,
    with_norm_data,
)
from branches.models import Cadre, CommitteeSeat, CommitteeTerm, Organization, OrganizationKind, Sector, add_years
from members.models import years_between
from tests.branches.test_committees import make_cadre, make_term
from tests.conftest import add, make_member

DAY = date(2026, 6, 10)
START = date(2025, 1, 1)


def committee(unit: Organization, posts: list[str], **cadre_fields) -> CommitteeTerm:
    """A term whose seats hold the given posts, one new cadre each."""
    cadres = [make_cadre(unit, f"委员{i}", **cadre_fields) for i in range(len(posts))]
    return make_term(unit, START, list(zip(cadres, posts, strict=True)))


def warnings_of(term: CommitteeTerm) -> list[str]:
    return committee_warnings(term, DAY)


def joined(term: CommitteeTerm) -> str:
    return " ".join(warnings_of(term))


SECRETARY_ONLY = ["secretary"]


# --- officers ---------------------------------------------------------------------------------


def test_a_committee_without_a_secretary_or_with_two(tree, people):
    assert "没有书记" in joined(committee(tree["branch_a1"], ["deputy"]))
    assert "2 名书记" in joined(committee(tree["branch_b1"], ["secretary", "secretary"]))
    assert warnings_of(committee(tree["branch_ag1"], SECRETARY_ONLY)) == []  # a small branch: a secretary alone


def test_only_seats_held_on_the_day_count(tree, people):
    term = committee(tree["branch_a1"], SECRETARY_ONLY)
    CommitteeSeat.objects.filter(term=term).update(until=DAY - timedelta(days=1))
    assert "没有书记" in joined(term)
    CommitteeSeat.objects.filter(term=term).update(until=DAY)  # the last day in the post still counts
    assert warnings_of(term) == []


# --- size for the unit's kind (§2.3) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "size", "warned"),
    [(6, 1, False), (7, 1, True), (7, 2, True), (7, 3, False), (30, 7, False), (30, 8, True), (3, 8, True)],
)
def test_a_branch_s_committee_size_depends_on_its_members(tree, people, members, size, warned):
    unit = tree["branch_a1"]
    for i in range(members):
        make_member(unit, f"团员{i}")
    make_member(unit, "已离团", status="over_age", left_on=DAY)  # only active members count
    term = committee(unit, ["secretary"] + ["committee"] * (size - 1))
    size_warnings = [w for w in warnings_of(term) if "人组成" in w or "不超过 7 人" in w]
    assert bool(size_warnings) is warned
    # The same answer when many terms are read at once.
    (loaded,) = with_norm_data(CommitteeTerm.objects.filter(pk=term.pk), DAY)
    assert committee_warnings(loaded, DAY) == warnings_of(term)


@pytest.mark.parametrize(("size", "warned"), [(4, True), (5, False), (7, False), (8, True)])
def test_a_general_branch_committee_has_5_to_7(tree, people, size, warned):
    term = committee(tree["general_ag"], ["secretary", "deputy"] + ["committee"] * (size - 2))
    assert ("团总支委员会应由 5 至 7 人组成" in joined(term)) is warned


@pytest.mark.parametrize(("deputies", "warned"), [(2, False), (3, True)])
def test_a_general_branch_has_at_most_two_deputies(tree, people, deputies, warned):
    term = committee(tree["general_ag"], ["secretary"] + ["deputy"] * deputies + ["committee"] * 2)
    assert ("副书记最多 2 名" in joined(term)) is warned


@pytest.mark.parametrize(("size", "warned"), [(6, True), (7, False), (9, False), (10, True)])
def test_a_grassroots_committee_has_7_to_9(tree, people, size, warned):
    school = add(tree["county"], name="县一中团委", code="C-S", kind=OrganizationKind.GRASSROOTS, sector=Sector.SCHOOL)
    term = committee(school, ["secretary", "deputy"] + ["committee"] * (size - 2))
    assert ("基层团委应由 7 至 9 人组成" in joined(term)) is warned


def test_the_county_committee_has_no_size_norm(tree, people):
    assert warnings_of(committee(tree["county"], ["secretary", "deputy"])) == []


# --- the township's 1+1+3 and the establishment (§0) -----------------------------------------------


def township(tree, seats: list[tuple[str, str, str]]) -> CommitteeTerm:
    """seats: (post, employment, establishment)."""
    unit = tree["township_a"]
    cadres = [
        (make_cadre(unit, f"镇{i}", employment=employment, establishment=establishment), post)
        for i, (post, employment, establishment) in enumerate(seats)
    ]
    return make_term(unit, START, cadres)


ONE_ONE_THREE = [
    ("secretary", "full_time", "inside"),
    ("deputy", "part_time", "outside"),
    ("organization", "part_time", "outside"),
    ("publicity", "part_time", "outside"),
    ("committee", "part_time", "inside"),
]


def test_a_township_committee_on_the_1_1_3_model_is_fine(tree, people):
    assert warnings_of(township(tree, ONE_ONE_THREE)) == []


def test_a_township_committee_needs_a_part_time_deputy(tree, people):
    full_time_deputy = [ONE_ONE_THREE[0], ("deputy", "full_time", "outside"), *ONE_ONE_THREE[2:]]
    assert "兼职副书记" in joined(township(tree, full_time_deputy))


def test_a_township_committee_needs_three_members(tree, people):
    text = joined(township(tree, ONE_ONE_THREE[:4]))
    assert "至少有 3 名委员" in text and "现有 2 名" in text


@pytest.mark.parametrize(("outside", "size", "warned"), [(3, 6, False), (2, 5, True), (1, 5, True)])
def test_half_of_a_township_committee_comes_from_outside_the_establishment(tree, people, outside, size, warned):
    seats = [*ONE_ONE_THREE, ("committee", "part_time", "inside")][:size]
    seats = [
        (post, employment, "outside" if i < outside else "inside") for i, (post, employment, _) in enumerate(seats)
    ]
    text = joined(township(tree, seats))
    assert (f"现为 {size} 人中有 {outside} 人" in text) is warned


# --- ages (§0: ≤ 35, 40 by exception) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "exception", "warned"),
    [
        (add_years(DAY, -36) + timedelta(days=1), "", None),  # 35 until tomorrow
        (add_years(DAY, -36), "", "一般不超过 35 岁"),  # 36 today
        (add_years(DAY, -36), "县委组织部批准", None),
        (add_years(DAY, -41) + timedelta(days=1), "县委组织部批准", None),  # 40
        (add_years(DAY, -41), "县委组织部批准", "即使特殊情况也不超过 40 岁"),
    ],
)
def test_cadres_over_age_at_the_edges(tree, people, born, exception, warned):
    unit = tree["branch_a1"]
    term = make_term(unit, START, [(make_cadre(unit, "书记", birth_date=born, age_exception=exception), "secretary")])
    text = joined(term)
    if warned:
        assert warned in text and "书记现年" in text
    else:
        assert text == ""


def test_reading_many_committees_takes_a_constant_number_of_queries(tree, people, django_assert_num_queries):
    for unit in ("branch_a1", "branch_b1", "general_ag", "township_a", "township_b"):
        committee(tree[unit], ["secretary", "deputy", "committee"])
    with django_assert_num_queries(2):  # terms with their units and member counts; the seats with cadres
        terms = list(with_norm_data(CommitteeTerm.objects.all(), DAY))
        for term in terms:
            committee_warnings(term, DAY)


# --- statistics -----------------------------------------------------------------------------------


def populate(tree, scale: int) -> None:
    """Cadres on current terms, some who left, an ended term, a term that starts after DAY."""
    for u, unit_name in enumerate(("branch_a1", "branch_b1", "general_ag", "township_a", "county")):
        unit = tree[unit_name]
        people = [
            make_cadre(
                unit,
                f"{unit_name}-{i}",
                sex="MF"[i % 2],
                birth_date=add_years(DAY, -(22 + (i * 7 + u) % 20)) - timedelta(days=i),
                education=["senior", "college", "bachelor", "master"][i % 4],
                employment=["part_time", "full_time"][i % 3 == 0],
                establishment=["outside", "inside"][i % 2],
                age_exception="特批" if i % 5 == 0 else "",
            )
            for i in range(scale)
        ]
        old = make_term(unit, date(2020, 1, 1), [(p, "committee") for p in people[:2]])
        CommitteeTerm.objects.filter(pk=old.pk).update(ended_on=START)
        CommitteeSeat.objects.filter(term=old).update(until=START)
        current = make_term(unit, START, [(p, "committee") for p in people[2:]])
        CommitteeSeat.objects.filter(term=current, cadre=people[-1]).update(until=DAY - timedelta(days=1))
    future = make_cadre(tree["branch_a1"], "下届才上任")
    make_term(tree["branch_ag1"], DAY + timedelta(days=1), [(future, "secretary")])
    # Members of branch A1 recorded twice: on their branch's committee and on the township's, where
    # they work full-time (the township's record is the one counted); one of them left the branch
    # committee, and one member sits on the branch committee only.
    branch_term = CommitteeTerm.objects.current().get(organization=tree["branch_a1"])
    township_term = CommitteeTerm.objects.current().get(organization=tree["township_a"])
    for i in range(scale // 2):
        member = make_member(tree["branch_a1"], f"兼任{i}", birth_date=add_years(DAY, -(25 + i)))
        for term, employment in ((branch_term, "part_time"), (township_term, "full_time")):
            cadre = make_cadre(term.organization, member.name, member=member, employment=employment, sex="F")
            CommitteeSeat.objects.create(term=term, cadre=cadre, post="committee", since=START)
        if i == 0:
            CommitteeSeat.objects.filter(term=branch_term, cadre__member=member).update(until=START)
    only_branch = make_member(tree["branch_a1"], "只在支部")
    cadre = make_cadre(tree["branch_a1"], only_branch.name, member=only_branch, employment="part_time")
    CommitteeSeat.objects.create(term=branch_term, cadre=cadre, post="committee", since=START)


def expected(units, day: date) -> list[Cadre]:
    """The cadres counted, found the slow way: each person once (a member through the record of the
    highest unit, then the oldest; anyone else through their record)."""
    held = []
    seats = CommitteeSeat.objects.select_related("term", "cadre__organization").filter(term__organization__in=units)
    for seat in seats:
        term = seat.term
        current = term.starts_on <= day and (term.ended_on is None or term.ended_on > day)
        if current and seat.since <= day and (seat.until is None or seat.until >= day):
            held.append(seat.cadre)
    people: dict[tuple, Cadre] = {}
    for cadre in sorted(held, key=lambda c: (c.organization.depth, c.pk)):
        people.setdefault(("member", cadre.member_id) if cadre.member_id else ("cadre", cadre.pk), cadre)
    return list(people.values())


@pytest.mark.parametrize("scale", [4, 12])
def test_statistics_agree_with_direct_counts_in_one_query(tree, people, django_assert_num_queries, scale):
    populate(tree, scale)
    units = Organization.objects.filter(path__startswith=tree["county"].path)
    with django_assert_num_queries(1):
        stats = cadre_statistics(units, DAY)
    cadres = expected(units, DAY)
    assert stats.count == len(cadres) == 5 * (scale - 3) + scale // 2 + 1
    counted = {c.pk: c for c in cadres}
    assert all(c.employment == "full_time" for c in counted.values() if c.name.startswith("兼任"))
    assert stats.average_age == pytest.approx(mean((DAY - c.birth_date).days / 365.2425 for c in cadres), abs=0.01)
    assert abs(stats.average_age - mean(years_between(c.birth_date, DAY) for c in cadres)) < 1
    splits = {
        "sex": stats.sex,
        "education": stats.education,
        "employment": stats.employment,
        "establishment": stats.establishment,
    }
    for field, rows in splits.items():
        direct = {}
        for cadre in cadres:
            label = str(dict(Cadre._meta.get_field(field).choices)[getattr(cadre, field)])
            direct[label] = direct.get(label, 0) + 1
        assert {row.label: row.count for row in rows if row.count} == direct
        assert sum(row.share for row in rows) == pytest.approx(1)
    over = [
        c
        for c in cadres
        if years_between(c.birth_date, DAY) > 40 or (years_between(c.birth_date, DAY) > 35 and not c.age_exception)
    ]
    assert stats.over_age == len(over) > 0
    township_only = Organization.objects.filter(path__startswith=tree["township_a"].path)
    assert cadre_statistics(township_only, DAY).count == len(expected(township_only, DAY))


def test_each_person_counts_once_and_the_new_committee_counts_on_its_election_day(tree, people):
    unit = tree["branch_a1"]
    both = make_cadre(unit, "连任")
    old = make_term(unit, date(2022, 1, 1), [(both, "secretary"), (make_cadre(unit, "卸任"), "deputy")])
    CommitteeTerm.objects.filter(pk=old.pk).update(ended_on=DAY)
    CommitteeSeat.objects.filter(term=old).update(until=DAY)
    make_term(unit, DAY, [(both, "secretary"), (make_cadre(unit, "新任"), "deputy")])
    units = Organization.objects.filter(pk=unit.pk)
    assert cadre_statistics(units, DAY).count == 2  # 连任 and 新任: not 卸任, and 连任 once
    assert cadre_statistics(units, DAY - timedelta(days=1)).count == 2  # 连任 and 卸任
    empty = cadre_statistics(Organization.objects.filter(pk=tree["branch_b1"].pk), DAY)
    assert (empty.count, empty.average_age, empty.over_age) == (0, None, 0)
    assert all(row.share == 0 for row in empty.sex)
    assert not Cadre.objects.filter(Q(name="卸任"), Q(seats__until__isnull=True)).exists()
