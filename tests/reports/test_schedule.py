"""The report schedule (issue 6, "Quarterly reporting"; issue 7): once a quarter's and a month's grace
after they close has passed (REPORTS_FREEZE_AFTER_DAYS, 5: from the 6th day), the quarterly reports of
the county and its committees and the monthly reports of the Party organizations with people handed
over are generated, frozen, and their recipients told once — however often it runs."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from branches.models import Notification, NotificationKind, Organization
from reports import services, tasks
from reports.models import Report, ReportKind, ReportStatus
from reports.periods import MONTH, QUARTER, Period
from reports.selectors import freeze_day
from tests.conftest import make_member
from tests.promotion.helpers import make_case
from tests.reports.archive_fixtures import *  # noqa: F403

TZ = ZoneInfo("Asia/Shanghai")
Q3 = Period(QUARTER, 2026, 3)
SEPTEMBER = Period(MONTH, 2026, 9)
FROZEN_FROM = "2026-10-06"  # Q3's and September's figures freeze from the 6th day after they close


@pytest.fixture(autouse=True)
def _clock():
    """Today is after every day these tests run the schedule for (a later day is refused)."""
    with time_machine.travel(datetime(2026, 12, 31, 12, 0, tzinfo=TZ), tick=True):
        yield


@pytest.fixture
def handed_over(tree, people):
    """A member of branch A1 handed over to Party organization A in August."""
    member = make_member(tree["branch_a1"], "移交")
    return make_case(
        member, recorder=people["secretary_a1"], party_organization=tree["party_a"], recommended_on=date(2026, 8, 3)
    )


def run_schedule(django_capture_on_commit_callbacks, day: str) -> dict:
    moment = datetime.fromisoformat(day).replace(hour=2, minute=40, tzinfo=TZ)
    with time_machine.travel(moment, tick=True), django_capture_on_commit_callbacks(execute=True):
        return tasks.generate_period_reports(day)


def scheduled_notes() -> set[tuple[str, str]]:
    return set(Notification.objects.filter(key__endswith=":scheduled").values_list("recipient__username", "key"))


def test_the_closed_quarter_and_month_are_generated_and_recipients_told_once(
    tree, people, handed_over, eager, live_builder, django_capture_on_commit_callbacks
):
    result = run_schedule(django_capture_on_commit_callbacks, FROZEN_FROM)
    assert result == {"quarter": "2026-Q3", "month": "2026-09", "queued": 4, "notified": 0}
    reports = {(r.kind, str(r.scope)): r for r in Report.objects.select_related("organization", "party_organization")}
    assert set(reports) == {
        (ReportKind.QUARTERLY, tree["county"].name),
        (ReportKind.QUARTERLY, tree["township_a"].name),
        (ReportKind.QUARTERLY, tree["township_b"].name),
        (ReportKind.MONTHLY, tree["party_a"].name),
    }
    for report in reports.values():
        assert report.status == ReportStatus.DONE and report.frozen_at is not None and report.requested_by is None
    assert reports[(ReportKind.QUARTERLY, tree["county"].name)].period_start == Q3.start
    assert reports[(ReportKind.MONTHLY, tree["party_a"].name)].period_start == SEPTEMBER.start
    pk = {key[1]: report.pk for key, report in reports.items()}
    assert scheduled_notes() == {
        ("county_staff", f"report:{pk[tree['county'].name]}:scheduled"),
        ("township_a_staff", f"report:{pk[tree['township_a'].name]}:scheduled"),
        ("township_b_staff", f"report:{pk[tree['township_b'].name]}:scheduled"),
        ("party_a", f"report:{pk[tree['party_a'].name]}:scheduled"),
    }
    assert set(Notification.objects.values_list("kind", flat=True)) == {NotificationKind.REPORTS}
    generated = {r.pk: r.generated_at for r in Report.objects.all()}

    # Again the same day, the next day, and by two schedulers: nothing new is made or said.
    with django_capture_on_commit_callbacks() as queued:
        assert tasks.generate_period_reports(FROZEN_FROM)["queued"] == 0
    assert queued == []
    assert run_schedule(django_capture_on_commit_callbacks, "2026-10-07") == {
        "quarter": "2026-Q3",
        "month": "2026-09",
        "queued": 0,
        "notified": 0,
    }
    assert Report.objects.count() == 4 and Notification.objects.count() == 4
    assert {r.pk: r.generated_at for r in Report.objects.all()} == generated
    assert live_builder.calls == 4


def test_a_day_the_scheduler_missed_is_caught_up(
    tree, people, handed_over, live_builder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        result = tasks.generate_period_reports("2026-12-20")  # nothing ran since the quarter closed
    assert result["quarter"] == "2026-Q3" and result["month"] == "2026-11"
    assert len(queued) == 4  # the quarter's three, and November's for Party organization A
    assert Report.objects.filter(kind=ReportKind.QUARTERLY, period_start=Q3.start).count() == 3
    assert Report.objects.get(kind=ReportKind.MONTHLY).period_start == date(2026, 11, 1)


@pytest.mark.parametrize(
    ("asked_on", "made_again"),
    [
        (datetime(2026, 9, 20, 9, 0, tzinfo=TZ), True),  # while the quarter was under way
        (datetime(2026, 10, 3, 9, 0, tzinfo=TZ), True),  # closed, but in its grace: not frozen
        (datetime(2026, 10, 6, 0, 30, tzinfo=TZ), False),  # frozen: kept, and its recipients told
    ],
)
def test_a_report_someone_made_before_the_schedule_ran(
    tree, people, eager, live_builder, django_capture_on_commit_callbacks, asked_on, made_again
):
    with time_machine.travel(asked_on, tick=True), django_capture_on_commit_callbacks(execute=True):
        mine = services.report_request(
            kind=ReportKind.QUARTERLY, scope=tree["township_a"], period=Q3, actor=people["county_staff"]
        )
    mine.refresh_from_db()
    assert mine.status == "done" and (mine.frozen_at is None) == made_again
    make_member(tree["branch_a1"], "九月底入团")  # a joining in September, entered late
    first = run_schedule(django_capture_on_commit_callbacks, "2026-10-07")
    assert first["queued"] == (3 if made_again else 2)  # the county, township B and (not frozen) township A
    assert first["notified"] == (0 if made_again else 1)  # township A's recipients, told of the one ready
    again = Report.objects.get(kind=ReportKind.QUARTERLY, organization=tree["township_a"])
    assert again.pk == mine.pk and again.frozen_at is not None  # the same row
    assert (again.generated_at != mine.generated_at) == made_again
    assert again.document["sections"][0]["figures"][0]["value"] == (1 if made_again else 0)
    assert ("township_a_staff", f"report:{mine.pk}:scheduled") in scheduled_notes()
    assert run_schedule(django_capture_on_commit_callbacks, "2026-10-07")["notified"] == 0


def test_a_failed_report_is_tried_again_on_the_next_run(
    tree, people, eager, live_builder, django_capture_on_commit_callbacks
):
    live_builder.fail_with = RuntimeError("boom")
    run_schedule(django_capture_on_commit_callbacks, FROZEN_FROM)
    assert set(Report.objects.values_list("status", flat=True)) == {ReportStatus.FAILED}
    assert not Notification.objects.exists()
    live_builder.fail_with = None
    assert run_schedule(django_capture_on_commit_callbacks, "2026-10-07")["queued"] == 3
    assert set(Report.objects.values_list("status", flat=True)) == {ReportStatus.DONE}
    assert len(scheduled_notes()) == 3


def test_only_committees_existing_at_the_quarter_s_end_and_party_organizations_with_people_handed_over(
    tree, people, handed_over, live_builder
):
    from tests.conftest import add

    Organization.objects.filter(pk=tree["township_b"].pk).update(dissolved_on=date(2026, 9, 1))
    Organization.objects.filter(pk=tree["township_a"].pk).update(dissolved_on=date(2026, 9, 30))  # Q3's last day
    add(tree["county"], name="新街道团工委", code="C-NEW", kind="street", sector="public", founded_on=date(2026, 10, 1))
    add(
        tree["county"],
        name="九月街道团工委",
        code="C-SEP",
        kind="street",
        sector="public",
        founded_on=date(2026, 9, 30),
    )
    targets = {(kind, scope.name, period.key) for kind, scope, period in services.scheduled_targets(date(2026, 10, 6))}
    assert targets == {
        (ReportKind.QUARTERLY, tree["county"].name, "2026-Q3"),
        (ReportKind.QUARTERLY, tree["township_a"].name, "2026-Q3"),  # existed on the quarter's last day
        (ReportKind.QUARTERLY, "九月街道团工委", "2026-Q3"),
        (ReportKind.MONTHLY, tree["party_a"].name, "2026-09"),
    }
    # Handed over after the month, or closed before it: no monthly report for that month.
    assert {t[0] for t in services.scheduled_targets(date(2026, 8, 6))} == {ReportKind.QUARTERLY}  # July's
    type(handed_over).objects.filter(pk=handed_over.pk).update(closed_on=date(2026, 8, 20))
    assert {t[0] for t in services.scheduled_targets(date(2026, 10, 6))} == {ReportKind.QUARTERLY}


def test_the_schedule_makes_a_period_s_reports_once_its_grace_has_passed(
    tree, people, handed_over, live_builder, settings
):
    def periods(day: date) -> tuple[str, str]:
        quarter, month = services.scheduled_periods(day)
        return quarter.key, month.key

    assert periods(date(2026, 10, 1)) == periods(date(2026, 10, 5)) == ("2026-Q2", "2026-08")
    assert periods(date(2026, 10, 6)) == ("2026-Q3", "2026-09")
    assert periods(date(2026, 12, 31)) == ("2026-Q3", "2026-11")
    settings.REPORTS_FREEZE_AFTER_DAYS = 0
    assert periods(date(2026, 10, 1)) == ("2026-Q3", "2026-09")
    settings.REPORTS_FREEZE_AFTER_DAYS = 5
    # Every period it makes has closed, its grace passed: the figures are frozen when made.
    for day in [date(2026, 10, 1), date(2026, 10, 5), date(2026, 10, 6), date(2026, 11, 30)]:
        for _kind, _scope, period in services.scheduled_targets(day):
            assert freeze_day(period) <= day


def test_a_day_after_today_is_refused(tree, people, handed_over, live_builder):
    with pytest.raises(ValidationError, match="2027-01-01"):
        tasks.generate_period_reports("2027-01-01")
    with pytest.raises(CommandError, match="2027-01-01"):
        call_command("generate_reports", "--date", "2027-01-01", stdout=io.StringIO())
    with pytest.raises(CommandError, match="2027-01-01"):
        call_command("run_reminders", "--rule", "reports", "--date", "2027-01-01", stdout=io.StringIO())
    assert not Report.objects.exists()


def test_the_schedule_s_queries_do_not_grow_with_the_units(
    tree, people, handed_over, live_builder, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from tests.conftest import add

    for i in range(6):
        add(tree["county"], name=f"第{i}街道团工委", code=f"C-S{i}", kind="street", sector="public")
    with django_capture_on_commit_callbacks() as queued, django_assert_max_num_queries(7):
        services.schedule_period_reports(date(2026, 10, 6))
    assert len(queued) == 10


@pytest.mark.parametrize("command", [["generate_reports"], ["run_reminders", "--rule", "reports"]])
def test_the_command_previews_and_runs_the_schedule_for_a_day(
    tree, people, handed_over, live_builder, command, django_capture_on_commit_callbacks
):
    out = io.StringIO()
    call_command(*command, "--date", FROZEN_FROM, "--preview", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "2026-Q3 / 2026-09:"
    assert f"  would generate: quarterly 2026-Q3 {tree['county'].name}" in lines
    assert f"  would generate: monthly 2026-09 {tree['party_a'].name}" in lines
    assert lines[-1] == "4 report(s) to generate, nothing created (preview)"
    assert not Report.objects.exists()
    out = io.StringIO()
    with django_capture_on_commit_callbacks() as queued:
        call_command(*command, "--date", FROZEN_FROM, stdout=out)
    assert out.getvalue().strip() == "2026-Q3 / 2026-09: 4 report(s) queued, 0 notification(s)"
    assert Report.objects.count() == len(queued) == 4


def test_the_daily_schedule_is_in_the_database(db):
    """The data migration's function again (a transactional test elsewhere may have flushed its row):
    it creates the entry once."""
    from importlib import import_module

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from leagueadmin.celery import app

    create_schedule = import_module("reports.migrations.0003_schedule_period_reports").create_schedule
    create_schedule(apps, None)
    create_schedule(apps, None)
    task = PeriodicTask.objects.get(task="reports.generate_period_reports")
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("2", "40")
    assert str(task.crontab.timezone) == "Asia/Shanghai"
    assert "reports.generate_period_reports" in app.tasks
