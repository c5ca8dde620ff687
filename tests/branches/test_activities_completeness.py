"""The completeness table: cadence arithmetic at month, quarter and year edges, branches founded
mid-period or dissolved, themed-day topics and their deadlines, constant queries at two data sizes,
the .xlsx export, the filters; and the county's topic pages."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from branches import activity_services as services
from branches.activity_selectors import branch_completeness, period_months
from branches.committee_selectors import term_status
from branches.models import (
    Activity,
    ActivityKind,
    Cadre,
    CommitteePost,
    CommitteeSeat,
    CommitteeTerm,
    Organization,
    OrganizationKind,
    Sector,
    ThemedDayTopic,
)
from tests.conftest import add, make_member

K = ActivityKind
TODAY = date(2026, 5, 15)  # the middle of Q2


def held(unit, kind, day, recorder, *, present=0, absent=0, topic=None, recorded_on=None) -> Activity:
    activity = Activity.objects.create(
        organization=unit,
        kind=kind,
        held_on=day,
        topic=str(kind),
        themed_day_topic=topic,
        present_count=present,
        absent_count=absent,
        recorded_by=recorder,
    )
    if recorded_on:
        moment = timezone.make_aware(datetime.combine(recorded_on, datetime.min.time()))
        Activity.objects.filter(pk=activity.pk).update(created_at=moment)
    return activity


def elect_committee(unit, recorder, *, seats: int = 3, starts_on: date = date(2025, 1, 1)) -> CommitteeTerm:
    """A current committee term with `seats` people in office (a branch with a committee holds
    committee meetings, whatever its size: domain.md §2.3)."""
    term = CommitteeTerm.objects.create(organization=unit, starts_on=starts_on, length_years=3, recorded_by=recorder)
    for n in range(seats):
        cadre = Cadre.objects.create(
            organization=unit,
            name=f"委员{n}",
            sex="M",
            birth_date=date(2000, 1, 1),
            education="senior",
            employment="part_time",
            establishment="outside",
        )
        post = CommitteePost.SECRETARY if n == 0 else CommitteePost.COMMITTEE
        CommitteeSeat.objects.create(term=term, cadre=cadre, post=post, since=starts_on)
    return term


def table_for(units, first, last, today=TODAY):
    return {row.unit.code: row for row in branch_completeness(units, first, last, today=today).rows}


@pytest.fixture
def branches(tree, people):
    """The three branches; A1 and B1 have elected committees, so committee meetings are required of
    them (the school branch AG1 has a secretary alone)."""
    for unit in (tree["branch_a1"], tree["branch_b1"]):
        elect_committee(unit, people["county_staff"])
    return Organization.objects.filter(pk__in=[tree["branch_a1"].pk, tree["branch_ag1"].pk, tree["branch_b1"].pk])


def test_committee_meetings_only_where_the_branch_has_a_committee(tree, people):
    """§2.3: a branch of fewer than 7 members has a secretary alone, no committee to meet; one of 7 or
    more, or one that elected a committee of at least 3 anyway, is required to hold its meetings."""
    a1, b1, ag1 = tree["branch_a1"], tree["branch_b1"], tree["branch_ag1"]
    for n in range(6):
        make_member(a1, f"甲{n}")
    make_member(a1, "离团者", status="withdrawn")  # not active: does not count
    term = elect_committee(b1, people["county_staff"], seats=3)
    elect_committee(ag1, people["county_staff"], seats=2)
    units = Organization.objects.filter(pk__in=[a1.pk, b1.pk, ag1.pk])

    def march_missing() -> dict[str, tuple[str, ...]]:
        rows = table_for(units, date(2026, 3, 1), date(2026, 3, 1))
        return {code: row.cells[0].missing for code, row in rows.items()}

    missing = march_missing()
    assert K.COMMITTEE_MEETING not in missing["C-A-1"]  # 6 members, no committee
    assert K.COMMITTEE_MEETING in missing["C-B-1"]  # a committee of 3
    assert K.COMMITTEE_MEETING not in missing["C-A-G-1"]  # 2 seats are no committee
    assert K.THEMED_DAY in missing["C-A-1"] and K.GENERAL_MEETING in missing["C-A-1"]  # the rest still count

    make_member(a1, "甲6")
    leaving = CommitteeSeat.objects.filter(term=term).order_by("pk").first()
    CommitteeSeat.objects.filter(pk=leaving.pk).update(until=date(2026, 1, 31))  # one of B1's three left
    missing = march_missing()
    assert K.COMMITTEE_MEETING in missing["C-A-1"]  # 7 active members
    assert K.COMMITTEE_MEETING not in missing["C-B-1"]
    rows = table_for(units, date(2026, 3, 1), date(2026, 3, 1))
    assert (rows["C-A-1"].has_committee, rows["C-B-1"].has_committee) == (True, False)


def test_only_the_current_term_counts_after_an_election(tree, people):
    """The committee of the term elected last: the earlier term, ended, is history (its seats too)."""
    b1, staff = tree["branch_b1"], people["county_staff"]
    earlier = elect_committee(b1, staff, seats=3, starts_on=date(2022, 1, 1))
    CommitteeTerm.objects.filter(pk=earlier.pk).update(ended_on=date(2025, 1, 1))
    current = elect_committee(b1, staff, seats=2, starts_on=date(2025, 1, 1))
    units = Organization.objects.filter(pk=b1.pk)
    (row,) = branch_completeness(units, date(2026, 3, 1), date(2026, 3, 1), today=TODAY).rows
    assert not row.has_committee  # two seats are no committee
    assert row.term_status == term_status(current.due_on, TODAY)


def test_activities_recorded_late_are_counted_and_shown(tree, people, branches, settings):
    """A record made more than `activity_late_days` after the day held still counts as held, and is
    counted apart: three "past" meetings entered on the quarter's last day show as such."""
    assert settings.LEAGUE_RULES["activity_late_days"] == 30
    a1, staff = tree["branch_a1"], people["county_staff"]
    held(a1, K.COMMITTEE_MEETING, date(2026, 1, 10), staff, recorded_on=date(2026, 3, 31))  # 80 days later
    held(a1, K.THEMED_DAY, date(2026, 1, 12), staff, recorded_on=date(2026, 2, 11))  # 30 days: in time
    held(a1, K.COMMITTEE_MEETING, date(2026, 2, 10), staff, recorded_on=date(2026, 3, 31))  # 49 days
    held(a1, K.COMMITTEE_MEETING, date(2026, 3, 10), staff, recorded_on=date(2026, 3, 31))  # 21 days
    row = table_for(branches, date(2026, 1, 1), date(2026, 3, 1))["C-A-1"]
    jan, feb, mar = row.cells
    assert (jan.late, feb.late, mar.late) == (1, 1, 0)
    assert jan.held == {K.COMMITTEE_MEETING: 1, K.THEMED_DAY: 1} and row.held_total == 4
    assert row.late_total == 2
    settings.LEAGUE_RULES = {**settings.LEAGUE_RULES, "activity_late_days": 60}
    assert table_for(branches, date(2026, 1, 1), date(2026, 3, 1))["C-A-1"].late_total == 1


def test_general_meetings_below_quorum_are_marked(tree, people, branches):
    """§3.1: more than half of the members present. Half is not more than half."""
    a1, b1, staff = tree["branch_a1"], tree["branch_b1"], people["county_staff"]
    held(a1, K.GENERAL_MEETING, date(2026, 2, 5), staff, present=5, absent=5)
    held(a1, K.THEMED_DAY, date(2026, 2, 6), staff, present=1, absent=9)  # not a general meeting
    held(b1, K.GENERAL_MEETING, date(2026, 2, 5), staff, present=6, absent=5)
    rows = table_for(branches, date(2026, 2, 1), date(2026, 2, 1))
    assert rows["C-A-1"].cells[0].below_quorum == 1 and rows["C-A-1"].below_quorum_total == 1
    assert rows["C-B-1"].cells[0].below_quorum == 0
    assert rows["C-A-1"].cells[0].held[K.GENERAL_MEETING] == 1  # still held: marked, not dropped


def test_each_row_carries_its_committee_term_status(tree, people, branches):
    today = timezone.localdate()
    CommitteeTerm.objects.filter(organization=tree["branch_b1"]).update(due_on=today - timedelta(days=1))
    rows = table_for(branches, date(2026, 1, 1), date(2026, 1, 1), today=today)
    assert rows["C-B-1"].term_status == "overdue"
    assert rows["C-A-G-1"].term_status == "none"


def test_monthly_kinds_each_month_quarterly_ones_once_a_quarter(tree, people, branches):
    a1, staff = tree["branch_a1"], people["county_staff"]
    for month in (1, 2, 3):
        held(a1, K.COMMITTEE_MEETING, date(2026, month, 10), staff)
    held(a1, K.THEMED_DAY, date(2026, 2, 4), staff, present=8, absent=2)
    held(a1, K.GENERAL_MEETING, date(2026, 1, 20), staff, present=9, absent=1)  # once in the quarter is enough
    rows = table_for(branches, date(2026, 1, 1), date(2026, 3, 1))
    jan, feb, mar = rows["C-A-1"].cells
    assert jan.held == {K.COMMITTEE_MEETING: 1, K.GENERAL_MEETING: 1}
    assert jan.missing == (K.THEMED_DAY,)
    assert feb.missing == ()
    # The quarter's last month: the League class (quarterly) was never held; the general meeting was.
    assert mar.missing == (K.THEMED_DAY, K.LEAGUE_CLASS)
    assert feb.attendance_rate == 0.8
    assert rows["C-A-1"].attendance_rate == 17 / 20
    assert rows["C-A-1"].missing_total == 3 and not rows["C-A-1"].silent
    assert rows["C-B-1"].silent and rows["C-B-1"].missing_total == 3 * 2 + 2  # two monthly kinds, two quarterly


def test_a_month_counts_each_kind_as_often_as_held_and_sums_attendance_over_kinds(tree, people, branches):
    a1, staff = tree["branch_a1"], people["county_staff"]
    held(a1, K.COMMITTEE_MEETING, date(2026, 2, 3), staff, present=3, absent=0)
    held(a1, K.COMMITTEE_MEETING, date(2026, 2, 24), staff, present=2, absent=1)
    held(a1, K.VOLUNTEER, date(2026, 2, 14), staff, present=5, absent=5)
    mistaken = held(a1, K.THEMED_DAY, date(2026, 2, 10), staff, present=9, absent=0)
    services.activity_void(activity=mistaken, reason="录错了支部", actor=staff)
    held(a1, K.THEMED_DAY, date(2026, 3, 2), staff, present=9, absent=1)  # the next month
    (feb,) = table_for(branches, date(2026, 2, 1), date(2026, 2, 1))["C-A-1"].cells
    assert feb.held == {K.COMMITTEE_MEETING: 2, K.VOLUNTEER: 1} and feb.held_total == 3
    assert (feb.present, feb.expected) == (10, 16)
    assert feb.missing == (K.THEMED_DAY,)


def test_a_quarter_is_counted_whole_even_when_the_period_starts_inside_it(tree, people, branches):
    a1 = tree["branch_a1"]
    held(a1, K.LEAGUE_CLASS, date(2026, 1, 15), people["county_staff"])
    held(a1, K.GENERAL_MEETING, date(2026, 2, 15), people["county_staff"])
    (march,) = table_for(branches, date(2026, 3, 1), date(2026, 3, 1))["C-A-1"].cells
    assert K.LEAGUE_CLASS not in march.missing and K.GENERAL_MEETING not in march.missing
    assert march.held == {}  # but the month itself shows only its own activities


def test_activities_of_the_next_quarter_do_not_count_for_this_one(tree, people, branches):
    held(tree["branch_a1"], K.LEAGUE_CLASS, date(2026, 4, 1), people["county_staff"])  # first day of Q2
    rows = table_for(branches, date(2026, 1, 1), date(2026, 6, 1))
    cells = rows["C-A-1"].cells
    assert K.LEAGUE_CLASS in cells[2].missing  # March: Q1 had none
    assert K.LEAGUE_CLASS not in cells[5].outstanding  # June: Q2 has one


def test_the_current_month_is_still_due_not_missing(tree, people, branches):
    rows = table_for(branches, date(2026, 4, 1), date(2026, 6, 1))
    april, may, june = rows["C-A-1"].cells
    assert april.missing == (K.COMMITTEE_MEETING, K.THEMED_DAY)
    assert may.missing == () and may.due == (K.COMMITTEE_MEETING, K.THEMED_DAY)
    assert june.future and june.outstanding == ()


def test_yearly_kinds_are_checked_in_december(tree, people, branches, settings):
    settings.LEAGUE_RULES = {
        **settings.LEAGUE_RULES,
        "activity_cadence": {"life_meeting": "yearly"},
    }
    held(tree["branch_a1"], K.LIFE_MEETING, date(2025, 3, 3), people["county_staff"])
    rows = table_for(branches, date(2025, 10, 1), date(2025, 12, 1))
    assert [c.missing for c in rows["C-A-1"].cells] == [(), (), ()]
    assert [c.missing for c in rows["C-B-1"].cells] == [(), (), (K.LIFE_MEETING,)]


def test_a_branch_founded_mid_period_owes_nothing_before(tree, people, branches):
    b1 = tree["branch_b1"]
    b1.founded_on = date(2026, 2, 10)
    b1.save()
    rows = table_for(branches, date(2026, 1, 1), date(2026, 3, 1))
    jan, feb, mar = rows["C-B-1"].cells
    assert not jan.applicable
    assert feb.applicable and feb.missing == ()  # founded during the month: not required yet
    assert mar.missing == (K.COMMITTEE_MEETING, K.THEMED_DAY)  # the quarter did not begin with it
    rows = table_for(branches, date(2025, 10, 1), date(2025, 12, 1))
    assert "C-B-1" not in rows  # founded after the period


def test_a_dissolved_branch_is_left_out_after_its_dissolution(tree, people, branches):
    b1 = tree["branch_b1"]
    b1.dissolved_on = date(2026, 2, 20)
    b1.save()
    assert "C-B-1" not in table_for(branches, date(2026, 4, 1), date(2026, 6, 1))
    jan, feb, mar = table_for(branches, date(2026, 1, 1), date(2026, 3, 1))["C-B-1"].cells
    assert jan.missing and not feb.missing and not mar.applicable


def test_themed_day_topics_by_their_deadline(tree, people, branches):
    staff = people["county_staff"]
    topic = ThemedDayTopic.objects.create(
        county=tree["county"], month=date(2026, 3, 1), title="学雷锋", record_by=date(2026, 3, 25), created_by=staff
    )
    later = ThemedDayTopic.objects.create(
        county=tree["county"], month=date(2026, 5, 1), title="五四", record_by=date(2026, 5, 20), created_by=staff
    )
    held(tree["branch_a1"], K.THEMED_DAY, date(2026, 3, 5), staff, topic=topic, recorded_on=date(2026, 3, 25))
    held(tree["branch_ag1"], K.THEMED_DAY, date(2026, 3, 20), staff, topic=topic, recorded_on=date(2026, 3, 26))
    rows = table_for(branches, date(2026, 3, 1), date(2026, 5, 1))
    assert rows["C-A-1"].cells[0].topic_status == "on_time"
    assert rows["C-A-G-1"].cells[0].topic_status == "late"
    assert rows["C-B-1"].cells[0].topic_status == "missing"
    assert rows["C-B-1"].cells[1].topic_status == ""  # no topic in April
    assert rows["C-B-1"].cells[2].topic == later and rows["C-B-1"].cells[2].topic_status == "pending"


def test_period_months():
    assert period_months(2026, 2) == (date(2026, 4, 1), date(2026, 6, 1))
    assert period_months(2026, None) == (date(2026, 1, 1), date(2026, 12, 1))


def _grow(county, people, n_branches: int, per_branch: int) -> None:
    township = add(
        county, name=f"镇{n_branches}", code=f"T{n_branches}", kind=OrganizationKind.TOWNSHIP, sector="public"
    )
    topic = ThemedDayTopic.objects.get_or_create(
        county=county,
        month=date(2026, 4, 1),
        defaults={"title": "t", "record_by": date(2026, 4, 20), "created_by": people["county_staff"]},
    )[0]
    for i in range(n_branches):
        branch = add(
            township,
            name=f"支部{n_branches}-{i}",
            code=f"T{n_branches}-{i}",
            kind=OrganizationKind.BRANCH,
            sector=Sector.VILLAGE,
        )
        for j in range(per_branch):
            held(
                branch,
                K.THEMED_DAY,
                date(2026, 4, 1) + timedelta(days=j),
                people["county_staff"],
                present=5,
                topic=topic,
            )


def test_the_table_takes_the_same_queries_for_any_size(client, tree, people, login, django_assert_max_num_queries):
    url = reverse("branches:activity-completeness")
    login(people["county_staff"])
    # Out of the count: the caches that do not depend on the data (content types…) and the session's first
    # renewal (a write).
    client.get(url)
    _grow(tree["county"], people, 3, 2)
    with django_assert_max_num_queries(9) as small:
        assert client.get(url, {"year": 2026, "quarter": 2}).status_code == 200
    _grow(tree["county"], people, 30, 6)
    with django_assert_max_num_queries(9) as large:
        response = client.get(url, {"year": 2026, "quarter": 2})
    assert len(response.context["table"].rows) == 3 + 3 + 30
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_computation_itself_is_four_queries(tree, people, branches, django_assert_num_queries):
    # With topics, attendance, late records and committees to read: still four.
    _grow(tree["county"], people, 5, 3)
    units = Organization.objects.branches()
    with django_assert_num_queries(4):
        table = branch_completeness(units, date(2026, 1, 1), date(2026, 12, 1), today=TODAY)
        assert len(table.rows) == 8


def test_filters_by_sector_committee_and_silence(client, tree, people, login):
    held(tree["branch_a1"], K.THEMED_DAY, timezone.localdate(), people["county_staff"])
    url = reverse("branches:activity-completeness")
    login(people["county_staff"])
    codes = lambda response: [row.unit.code for row in response.context["page"].object_list]  # noqa: E731
    assert codes(client.get(url)) == ["C-A-1", "C-A-G-1", "C-B-1"]
    assert codes(client.get(url, {"sector": Sector.SCHOOL})) == ["C-A-G-1"]
    assert codes(client.get(url, {"township": tree["township_b"].pk})) == ["C-B-1"]
    assert codes(client.get(url, {"show": "silent"})) == ["C-A-G-1", "C-B-1"]
    # Township staff: their own subtree only, and another committee is not a choice.
    login(people["township_a_staff"])
    assert codes(client.get(url)) == ["C-A-1", "C-A-G-1"]
    response = client.get(url, {"township": tree["township_b"].pk})
    assert "township" in response.context["form"].errors
    assert codes(response) == ["C-A-1", "C-A-G-1"]  # an invalid filter never widens the table


def test_the_default_period_is_the_current_quarter(client, tree, people, login):
    today = timezone.localdate()
    response = login(people["county_staff"]).get(reverse("branches:activity-completeness"))
    first_month = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    assert response.context["table"].months[0] == first_month and len(response.context["table"].months) == 3


def test_the_export_has_numbers_as_numbers(client, tree, people, login):
    held(tree["branch_a1"], K.THEMED_DAY, date(2025, 2, 5), people["county_staff"], present=3, absent=1)
    url = reverse("branches:activity-completeness-export")
    response = login(people["township_a_staff"]).get(url, {"year": 2025, "quarter": 1})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.cell(row=2, column=rows[0].index("2025-02 出席率") + 1).number_format == "0%"
    header, first = rows[0], rows[1]
    assert len(rows) == 3  # township A's two branches
    assert first[0] == tree["branch_a1"].name
    february = header.index("2025-02 活动数")
    assert first[february] == 1 and first[february + 3] == 0.75
    assert "主题团日" in first[february + 1]
    assert first[header.index("活动数")] == 1 and isinstance(first[header.index("规定活动缺项")], int)


# --- topics --------------------------------------------------------------------------------------


def test_county_staff_publish_and_correct_a_topic(client, tree, people, login):
    login(people["county_staff"])
    url = reverse("branches:themed-topics")
    response = client.post(url, {"month": "2026-06", "title": "学习二十大", "record_by": "2026-06-25"})
    assert response.status_code == 302
    topic = ThemedDayTopic.objects.get()
    assert (topic.county, topic.month) == (tree["county"], date(2026, 6, 1))
    response = client.post(url, {"month": "2026-06", "title": "又一个", "record_by": "2026-06-25"})
    assert "已发布 2026-06 的主题" in response.content.decode()
    response = client.post(url, {"month": "2026-07", "title": "太早", "record_by": "2026-06-30"})
    assert "截止日期不能早于主题所在月份" in response.content.decode()
    edit = reverse("branches:themed-topic-edit", kwargs={"pk": topic.pk})
    client.post(edit, {"month": "2026-06", "title": "学习二十大精神", "record_by": "2026-06-28"})
    topic.refresh_from_db()
    assert (topic.title, topic.record_by) == ("学习二十大精神", date(2026, 6, 28))
    entries = LogEntry.objects.get_for_object(topic)
    assert [e.action for e in entries.order_by("pk")] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert entries.order_by("pk").last().changes_dict["title"] == ["学习二十大", "学习二十大精神"]
    assert entries.first().actor == people["county_staff"]
    assert "学习二十大精神" in client.get(edit).content.decode()


def test_the_topic_list_counts_who_recorded_in_time(client, tree, people, login, django_assert_max_num_queries):
    topic = services.themed_day_topic_save(
        actor=people["county_staff"],
        county=tree["county"],
        month=date(2026, 3, 1),
        title="学雷锋",
        record_by=date(2026, 3, 20),
    )
    held(
        tree["branch_a1"],
        K.THEMED_DAY,
        date(2026, 3, 5),
        people["county_staff"],
        topic=topic,
        recorded_on=date(2026, 3, 6),
    )
    held(
        tree["branch_b1"],
        K.THEMED_DAY,
        date(2026, 3, 25),
        people["county_staff"],
        topic=topic,
        recorded_on=date(2026, 3, 26),
    )
    login(people["county_staff"])
    client.get(reverse("branches:themed-topics"))  # the session's first renewal (a write) out of the count
    with django_assert_max_num_queries(8):
        response = client.get(reverse("branches:themed-topics"))
    assert response.context["rows"] == [(topic, 2, 1)]
    assert response.context["branch_count"] == 3


def test_another_countys_topic_is_not_found(client, tree, people, login):
    other = Organization.objects.add_root(
        dict(name="别县", code="X", kind=OrganizationKind.COUNTY, sector=Sector.PUBLIC_INSTITUTION)
    )
    topic = ThemedDayTopic.objects.create(
        county=other, month=date(2026, 1, 1), title="x", record_by=date(2026, 1, 20), created_by=people["county_staff"]
    )
    url = reverse("branches:themed-topic-edit", kwargs={"pk": topic.pk})
    assert login(people["county_staff"]).get(url).status_code == 404


def test_the_page_and_export_show_late_records_quorum_and_overdue_terms(client, tree, people, branches, login):
    a1, staff = tree["branch_a1"], people["county_staff"]
    late = held(a1, K.COMMITTEE_MEETING, date(2025, 1, 10), staff, recorded_on=date(2025, 3, 31))
    held(a1, K.GENERAL_MEETING, date(2025, 2, 5), staff, present=2, absent=3, recorded_on=date(2025, 2, 6))
    CommitteeTerm.objects.filter(organization=a1).update(due_on=date(2025, 6, 1))  # overdue by now
    login(staff)
    response = client.get(reverse("branches:activity-completeness"), {"year": 2025, "quarter": 1})
    row = response.content.decode().split('data-unit="C-A-1"')[1].split("</tr>")[0]
    assert 'data-testid="late"' in row and 'data-testid="below-quorum"' in row
    assert f"{reverse('branches:committee-terms')}?status=overdue" in row
    other = response.content.decode().split('data-unit="C-B-1"')[1].split("</tr>")[0]
    assert 'data-testid="term-status"' not in other  # in term
    detail = client.get(reverse("branches:activity", kwargs={"pk": late.pk}))
    assert detail.context["recorded_late"] and 'data-testid="recorded-late"' in detail.content.decode()

    export = client.get(reverse("branches:activity-completeness-export"), {"year": 2025, "quarter": 1})
    header, first = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))[:2]
    assert first[header.index("2025-01 补录数")] == 1 and first[header.index("2025-02 未达半数")] == 1
    assert first[header.index("补录数")] == 1 and first[header.index("未达半数的团员大会")] == 1
    assert first[header.index("委员会任期")] == "换届逾期"
