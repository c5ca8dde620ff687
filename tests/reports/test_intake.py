"""The Party's intake totals (PartyIntake): county staff for every committee of the county, township
staff for their own; young ≤ all, no quarter that has not begun; audited; the frozen quarterly reports of
that unit and the units above get the totals, and only those figures change."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from branches.models import Notification
from promotion.selectors import FUNNEL
from reports.models import PartyIntake, Report, ReportKind, ReportStatus
from reports.periods import QUARTER, Period
from reports.services import report_request
from tests.conftest import make_member
from tests.reports.archive_fixtures import *  # noqa: F403

NOW = datetime(2026, 10, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
Q3 = Period(QUARTER, 2026, 3)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=True):
        yield


def edit_url(unit, year=2026, quarter=3) -> str:
    return reverse("reports:intake-edit", args=[unit.pk, year, quarter])


def test_the_list_shows_the_units_the_user_enters_totals_for(client, tree, people, login):
    PartyIntake.objects.create(
        organization=tree["township_a"],
        year=2026,
        quarter=3,
        new_members=12,
        new_young_members=8,
        entered_by=people["county_staff"],
    )
    page = login(people["county_staff"]).get(reverse("reports:intake-list"))
    assert [unit.name for unit, _cells in page.context["rows"]] == [
        tree["county"].name,
        tree["township_a"].name,
        tree["township_b"].name,
    ]
    assert [q.key for q in page.context["quarters"]] == ["2026-Q4", "2026-Q3", "2026-Q2", "2026-Q1"]
    assert "12 / 8" in page.content.decode()
    page = login(people["township_a_staff"]).get(reverse("reports:intake-list"))
    assert [unit.name for unit, _cells in page.context["rows"]] == [tree["township_a"].name]


@pytest.mark.parametrize("persona", ["secretary_a1", "party_a", "system_admin", "nobody"])
def test_only_staff_enter_the_totals(client, tree, people, login, persona):
    login(people[persona])
    assert client.get(reverse("reports:intake-list")).status_code == 403


@pytest.mark.parametrize(
    ("persona", "unit_key", "status"),
    [
        ("township_a_staff", "township_b", 404),  # another township: out of scope
        ("township_a_staff", "county", 404),
        ("party_a", "township_b", 404),
        ("secretary_a1", "branch_a1", 403),  # their own branch, but not a committee's totals
        ("township_a_staff", "branch_a1", 403),  # a branch has no Party totals of its own
        ("secretary_b1", "township_a", 404),
    ],
)
def test_the_edit_page_refuses_others(client, tree, people, login, persona, unit_key, status):
    login(people[persona])
    assert client.get(edit_url(tree[unit_key])).status_code == status
    assert client.post(edit_url(tree[unit_key]), {"new_members": 5, "new_young_members": 2}).status_code == status
    assert not PartyIntake.objects.exists()


def test_staff_enter_and_correct_the_totals_audited(client, tree, people, login):
    login(people["township_a_staff"])
    assert client.get(edit_url(tree["township_a"])).status_code == 200
    response = client.post(edit_url(tree["township_a"]), {"new_members": 12, "new_young_members": 8})
    assert response.status_code == 302 and response["Location"] == reverse("reports:intake-list")
    intake = PartyIntake.objects.get()
    assert (intake.organization, intake.year, intake.quarter) == (tree["township_a"], 2026, 3)
    assert (intake.new_members, intake.new_young_members, intake.entered_by) == (12, 8, people["township_a_staff"])
    login(people["county_staff"]).post(edit_url(tree["township_a"]), {"new_members": 13, "new_young_members": 8})
    intake.refresh_from_db()
    assert (intake.new_members, intake.entered_by) == (13, people["county_staff"])
    entries = list(LogEntry.objects.get_for_object(intake).order_by("timestamp"))
    assert [(e.action, e.actor) for e in entries] == [
        (LogEntry.Action.CREATE, people["township_a_staff"]),
        (LogEntry.Action.UPDATE, people["county_staff"]),
    ]
    assert entries[1].changes_dict["new_members"] == [12, 13]
    page = client.get(edit_url(tree["township_a"]))
    assert "变更记录" in page.content.decode()  # the history on the page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new_members": 5, "new_young_members": 6}, "其中青年人数不能多于新发展党员总数。"),
        ({"new_members": -1, "new_young_members": 0}, "0"),
        ({"new_members": "十", "new_young_members": 0}, "请填写数字。"),
        ({"new_members": "", "new_young_members": 0}, "请填写新发展党员总数。"),
    ],
)
def test_bad_totals_are_refused_with_a_message(client, tree, people, login, data, message):
    login(people["county_staff"])
    response = client.post(edit_url(tree["county"]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PartyIntake.objects.exists()


def test_a_quarter_that_has_not_begun_is_refused(client, tree, people, login):
    login(people["county_staff"])
    response = client.post(edit_url(tree["county"], 2027, 1), {"new_members": 5, "new_young_members": 2})
    assert response.status_code == 302
    assert "尚未开始" in str(next(iter(response.wsgi_request._messages)))
    assert not PartyIntake.objects.exists()
    assert client.get(edit_url(tree["county"], 2026, 5)).status_code == 404


def intake_values(report) -> list:
    """The values of a quarterly document's Party-intake figures (after the funnel's)."""
    promotion = next(s for s in report.document["sections"] if s["key"] == "promotion")
    return [f["value"] for f in promotion["figures"][len(FUNNEL) :]]


def without_intake(document: dict) -> dict:
    sections = [
        {**s, "figures": s["figures"][: len(FUNNEL)], "notes": s["notes"][:1]} if s["key"] == "promotion" else s
        for s in document["sections"]
    ]
    return {**document, "sections": sections}


def test_totals_entered_after_the_reports_froze_correct_only_their_intake_figures(
    client, tree, people, login, eager, django_capture_on_commit_callbacks
):
    """The real quarterly builder: the township's frozen report and the county's above it (whose
    totals sum those entered below) get the Party's totals; every other figure stays frozen, the
    files are made again, and the people each report went to hear of the corrected version."""
    make_member(tree["branch_a1"], "甲")
    with django_capture_on_commit_callbacks(execute=True):  # as the schedule does, with a worker
        for unit in ("county", "township_a"):
            report_request(kind=ReportKind.QUARTERLY, scope=tree[unit], period=Q3, actor=None)
    frozen = {r.organization_id: r for r in Report.objects.all()}
    county, township = frozen[tree["county"].pk], frozen[tree["township_a"].pk]
    assert county.frozen_at and township.frozen_at and intake_values(township) == []
    make_member(tree["branch_a1"], "乙")  # a later edit: the frozen figures ignore it
    login(people["township_a_staff"])
    assert "冻结" in client.get(edit_url(tree["township_a"])).content.decode()

    def enter(new_members: int, young: int) -> dict[int, Report]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                edit_url(tree["township_a"]), {"new_members": new_members, "new_young_members": young}
            )
        assert response.status_code == 302
        return {r.organization_id: r for r in Report.objects.all()}

    now = enter(12, 8)
    for before in (county, township):
        after = now[before.organization_id]
        assert after.status == "done" and after.frozen_at == before.frozen_at
        assert intake_values(after) == [12, 8, 66.7, 0.0]  # no probationary admission in Q3
        assert without_intake(after.document) == without_intake(before.document)  # the rest as frozen
        assert after.generated_at > before.generated_at and after.xlsx.name != before.xlsx.name
        workbook = load_workbook(io.BytesIO(after.xlsx.read()))
        assert 12 in [row[1] for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]
        assert LogEntry.objects.get_for_object(after).get().actor == people["township_a_staff"]
    assert now[tree["township_a"].pk].requested_by == people["township_a_staff"]
    assert now[tree["county"].pk].requested_by is None  # a report the township's staff may not open
    corrected = Notification.objects.filter(key__contains=":corrected:")
    assert list(corrected.values_list("recipient__username", flat=True)) == ["county_staff"]
    assert Notification.objects.filter(recipient=people["township_a_staff"], key__endswith=":scheduled").exists()

    now = enter(13, 8)  # a second correction: a second version, told again
    assert intake_values(now[tree["county"].pk])[:2] == [13, 8]
    assert corrected.count() == 2 and len(set(corrected.values_list("key", flat=True))) == 2


def test_a_generation_under_way_starts_again_with_the_new_totals(
    client, tree, people, login, django_capture_on_commit_callbacks
):
    report = report_request(kind=ReportKind.QUARTERLY, scope=tree["township_a"], period=Q3, actor=None)
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, started_at=timezone.now())
    login(people["county_staff"])
    with django_capture_on_commit_callbacks() as queued:
        client.post(edit_url(tree["township_a"]), {"new_members": 12, "new_young_members": 8})
    assert Report.objects.get(pk=report.pk).status == ReportStatus.QUEUED and len(queued) == 1
