"""The report archive: asking for a report, generating it in the background, regenerating, freezing a
closed period's figures, and the archive's pages (list, report, progress, downloads) with their scope."""

from __future__ import annotations

import io
import pathlib
import posixpath
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from branches.models import Notification, NotificationKind
from reports import services, tasks
from reports.models import Report, ReportKind, ReportStatus
from reports.periods import MONTH, QUARTER, Period
from reports.xlsx import render_xlsx
from tests.conftest import make_member
from tests.reports.archive_fixtures import *  # noqa: F403

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 10, 10, 10, 0, tzinfo=TZ)
Q3 = Period(QUARTER, 2026, 3)  # closed on NOW, and its figures freeze (past the grace of 5 days)
Q4 = Period(QUARTER, 2026, 4)  # under way


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=True):
        yield


def stored_files() -> list[str]:
    """The generated files on disk: in the test's own folder (tests/conftest.py)."""
    root = pathlib.Path(storages["reports"].location)
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def ask(unit, actor, period=Q3, kind=ReportKind.QUARTERLY):
    return services.report_request(kind=kind, scope=unit, period=period, actor=actor)


def generate(django_capture_on_commit_callbacks, unit, actor, period=Q3, kind=ReportKind.QUARTERLY) -> Report:
    """Ask and let the task run (eagerly, after the commit), as the worker would."""
    with django_capture_on_commit_callbacks(execute=True):
        report = ask(unit, actor, period, kind)
    report.refresh_from_db()
    return report


# --- asking -----------------------------------------------------------------------------------------


def test_asking_twice_makes_one_row_and_one_task(tree, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        first = ask(tree["county"], people["county_staff"])
        second = ask(tree["county"], people["county_staff"])
    assert first.pk == second.pk
    assert Report.objects.count() == 1
    assert len(queued) == 1  # one generate_report task
    report = Report.objects.get()
    assert (report.status, report.period_start, report.period_end) == ("queued", Q3.start, Q3.end)
    assert report.requested_by == people["county_staff"]


def test_a_request_is_validated(tree, people):
    staff = people["county_staff"]
    with pytest.raises(ValidationError, match="2026-Q3"):
        ask(tree["county"], staff, Period(MONTH, 2026, 9))  # a quarterly report covers a quarter
    with pytest.raises(ValidationError):
        ask(tree["county"], staff, Period(QUARTER, 2027, 1))  # not begun
    with pytest.raises(ValidationError):
        ask(tree["party_a"], staff, Q3)  # quarterly only for a League unit
    with pytest.raises(PermissionDenied):
        ask(tree["township_b"], people["township_a_staff"])
    with pytest.raises(PermissionDenied):
        ask(tree["township_a"], people["party_a"])  # a Party organizer reads no unit report
    assert not Report.objects.exists()
    # The period under way may be asked for; a monthly report for a Party organization too.
    assert ask(tree["county"], staff, Q4).status == "queued"
    assert ask(tree["party_a"], people["party_a"], Period(MONTH, 2026, 10), ReportKind.MONTHLY).status == "queued"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL")
def test_two_people_asking_at_the_same_moment_get_one_row_and_one_task(transactional_db, tree, people, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.generate_report, "delay_on_commit", lambda pk: queued.append(pk))
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(index, actor):
        from django.db import connections

        try:
            barrier.wait()
            results[index] = ask(tree["county"], actor)
        except Exception as exc:  # pragma: no cover - shown in the assertion
            results[index] = exc
        finally:
            connections.close_all()

    actors = [people["county_staff"], people["county_staff"]]
    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(r, Report) for r in results), results
    assert results[0].pk == results[1].pk
    assert Report.objects.count() == 1
    assert len(queued) == 1


# --- generating ---------------------------------------------------------------------------------------


def test_the_task_makes_the_files_and_tells_the_requester(
    tree, people, eager, live_builder, real_pdf, django_capture_on_commit_callbacks
):
    make_member(tree["branch_a1"], "甲")
    report = generate(django_capture_on_commit_callbacks, tree["county"], people["county_staff"])
    assert (report.status, report.progress, report.message) == ("done", 100, "")
    assert report.generated_at is not None and report.frozen_at is not None  # Q3 has closed
    assert report.document["sections"][0]["figures"][0]["value"] == 1
    assert storages["reports"].exists(report.pdf.name) and storages["reports"].exists(report.xlsx.name)
    assert report.pdf.read().startswith(b"%PDF")
    (note,) = Notification.objects.filter(recipient=people["county_staff"])
    assert note.kind == NotificationKind.REPORTS
    assert note.link == reverse("reports:report", kwargs={"pk": report.pk})
    assert "共青团测试县委员会" in note.subject


def test_an_open_period_is_not_frozen(tree, people, eager, live_builder, django_capture_on_commit_callbacks):
    report = generate(django_capture_on_commit_callbacks, tree["county"], people["county_staff"], Q4)
    assert report.status == "done" and report.frozen_at is None


def test_progress_is_written_in_steps_not_per_section(tree, people, live_builder, monkeypatch):
    written = []
    update = tasks._ProgressWriter.set

    def spy(self, percent):
        before = self.written
        update(self, percent)
        if self.written != before:
            written.append(self.written)

    monkeypatch.setattr(tasks._ProgressWriter, "set", spy)
    report = ask(tree["county"], people["county_staff"])
    assert tasks.generate_report(report.pk) == "done"
    assert len(written) <= 100 // tasks.PROGRESS_STEP  # 20 sections reported, at most one UPDATE per 5 %
    assert written == sorted(written) and written[-1] == tasks.XLSX_UP_TO


def test_regenerating_replaces_the_files_in_the_same_row(
    tree, people, eager, live_builder, django_capture_on_commit_callbacks
):
    first = generate(django_capture_on_commit_callbacks, tree["township_a"], people["township_a_staff"])
    old_pdf, old_xlsx = first.pdf.name, first.xlsx.name
    second = generate(django_capture_on_commit_callbacks, tree["township_a"], people["county_staff"])
    assert second.pk == first.pk and Report.objects.count() == 1
    assert second.pdf.name != old_pdf and second.xlsx.name != old_xlsx
    assert not storages["reports"].exists(old_pdf) and not storages["reports"].exists(old_xlsx)
    assert storages["reports"].exists(second.pdf.name) and storages["reports"].exists(second.xlsx.name)
    assert sorted(stored_files()) == sorted([second.pdf.name, second.xlsx.name])
    assert second.requested_by == people["county_staff"]
    assert live_builder.calls == 1  # Q3 is closed: the second generation re-rendered the frozen figures


def test_a_closed_period_keeps_its_frozen_figures_after_edits(
    tree, people, eager, live_builder, django_capture_on_commit_callbacks
):
    make_member(tree["branch_a1"], "甲")
    closed = generate(django_capture_on_commit_callbacks, tree["county"], people["county_staff"], Q3)
    open_ = generate(django_capture_on_commit_callbacks, tree["county"], people["county_staff"], Q4)
    make_member(tree["branch_b1"], "乙")  # a later edit
    closed = generate(django_capture_on_commit_callbacks, tree["county"], people["county_staff"], Q3)
    open_ = generate(django_capture_on_commit_callbacks, tree["county"], people["county_staff"], Q4)
    assert closed.document["sections"][0]["figures"][0]["value"] == 1  # frozen
    assert open_.document["sections"][0]["figures"][0]["value"] == 2  # live while the quarter is open
    workbook = load_workbook(io.BytesIO(closed.xlsx.read()))
    assert workbook.worksheets[1]["B4"].value == 1  # the files agree with the frozen figures


def test_running_the_task_twice_does_nothing_the_second_time(
    tree, people, eager, live_builder, django_capture_on_commit_callbacks
):
    report = ask(tree["county"], people["county_staff"])
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.generate_report(report.pk) == "done"
    report.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.generate_report(report.pk) == "not queued"
    again = Report.objects.get(pk=report.pk)
    assert (again.generated_at, again.pdf.name, again.status) == (report.generated_at, report.pdf.name, "done")
    assert live_builder.calls == 1
    assert Notification.objects.count() == 1


def test_asking_while_it_is_being_made_starts_nothing_new(
    tree, people, live_builder, django_capture_on_commit_callbacks
):
    report = ask(tree["county"], people["county_staff"])
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, started_at=timezone.now())
    with django_capture_on_commit_callbacks() as queued:
        assert ask(tree["county"], people["county_staff"]).status == "running"
    assert queued == []


def test_a_run_abandoned_by_a_dead_worker_is_taken_up_again(
    tree, people, live_builder, django_capture_on_commit_callbacks
):
    report = ask(tree["county"], people["county_staff"])
    dead = timezone.now() - services.STALE_AFTER - timedelta(minutes=1)
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, started_at=dead)
    with django_capture_on_commit_callbacks() as queued:
        assert ask(tree["county"], people["county_staff"]).status == "queued"
    assert len(queued) == 1
    # A redelivered task claims such a row too.
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, started_at=dead)
    assert tasks.generate_report(report.pk) == "done"


def test_a_failure_ends_failed_with_a_message_and_no_files(tree, people, live_builder):
    live_builder.fail_with = RuntimeError("boom")
    report = ask(tree["county"], people["county_staff"])
    assert tasks.generate_report(report.pk) == "failed"
    report.refresh_from_db()
    assert report.status == "failed"
    assert "无法生成" in report.message  # in Chinese, the site's language
    assert not report.pdf.name and stored_files() == []


def test_a_rendering_failure_leaves_no_file_behind(tree, people, live_builder, monkeypatch):
    monkeypatch.setattr("reports.xlsx.render_xlsx", lambda document: 1 / 0)
    report = ask(tree["county"], people["county_staff"])
    assert tasks.generate_report(report.pk) == "failed"
    assert Report.objects.get(pk=report.pk).status == "failed"
    assert stored_files() == []


def test_a_lost_database_connection_queues_the_report_again_for_the_retry(tree, people, live_builder):
    live_builder.fail_with = OperationalError("server closed the connection")
    report = ask(tree["county"], people["county_staff"])
    with pytest.raises(OperationalError):
        tasks.generate_report(report.pk)
    report.refresh_from_db()
    assert report.status == "queued" and "重试" in report.message  # never left "running"
    live_builder.fail_with = None
    assert tasks.generate_report(report.pk) == "done"


def test_a_database_outage_that_also_stops_marking_the_row_is_retried_on_that_row(
    tree, people, live_builder, monkeypatch
):
    """The build fails for want of a database, and so does marking the row: it stays "running". The
    retry takes that row by the started_at its run set, instead of waiting for it to go stale."""
    from django.db.models import QuerySet

    report = ask(tree["county"], people["county_staff"])
    outage = {"build": True, "mark": True}

    def build(*args, **kwargs):
        if outage.pop("build", False):
            raise OperationalError("server closed the connection")
        return live_builder(*args, **kwargs)

    update = QuerySet.update

    def failing_update(queryset, **fields):
        if fields.get("status") == ReportStatus.QUEUED and "message" in fields and outage.pop("mark", False):
            raise OperationalError("server closed the connection")
        return update(queryset, **fields)

    monkeypatch.setattr("reports.selectors.build_document", build)
    monkeypatch.setattr(QuerySet, "update", failing_update)
    result = tasks.generate_report.apply(args=[report.pk])  # eager, retries included
    assert outage == {}  # both failed once
    assert result.get() == "done"
    report.refresh_from_db()
    assert report.status == "done" and live_builder.calls == 1


@pytest.mark.parametrize("meanwhile", [{"document_title": "更正后"}, {"frozen_at": None}])
def test_frozen_figures_changed_while_their_files_are_rendered_are_rendered_again(
    tree, people, live_builder, monkeypatch, django_capture_on_commit_callbacks, meanwhile
):
    report = done_report(tree, people)  # frozen
    first_files = sorted(stored_files())
    ask(tree["county"], people["county_staff"])  # regenerate: the frozen figures are rendered again

    def correcting(document):
        # What party_intake_save does meanwhile: corrects the frozen figures (or, earlier, unfroze them).
        if "document_title" in meanwhile:
            Report.objects.filter(pk=report.pk).update(document={**report.document, "title": "更正后"})
        else:
            Report.objects.filter(pk=report.pk).update(frozen_at=None)
        return render_xlsx(document)

    monkeypatch.setattr("reports.xlsx.render_xlsx", correcting)
    with django_capture_on_commit_callbacks() as queued:
        assert tasks.generate_report(report.pk) == "superseded"
    row = Report.objects.get(pk=report.pk)
    assert row.status == "queued" and len(queued) == 1  # queued again with its task, not left "running"
    assert sorted(stored_files()) == first_files  # this run's files are gone
    monkeypatch.setattr("reports.xlsx.render_xlsx", render_xlsx)
    assert tasks.generate_report(report.pk) == "done"
    row.refresh_from_db()
    assert row.status == "done" and row.frozen_at is not None
    if "document_title" in meanwhile:
        assert row.document["title"] == "更正后"


def test_files_left_by_a_worker_that_died_before_committing_are_swept_next_time(
    tree, people, live_builder, django_capture_on_commit_callbacks
):
    report = done_report(tree, people)
    folder = posixpath.dirname(report.pdf.name)
    # A worker saved these and died before its commit: the row still names the files before them.
    for name in [f"report-{report.pk}-2026-Q3.pdf", f"report-{report.pk}-2026-Q3_k3Xq9Zs.xlsx"]:
        storages["reports"].save(f"{folder}/{name}", ContentFile(b"orphan"))
    another = storages["reports"].save(f"{folder}/report-{report.pk}0-2026-Q3.pdf", ContentFile(b"another report's"))
    ask(tree["county"], people["county_staff"])
    with django_capture_on_commit_callbacks(execute=True):  # the replaced files go after the commit
        assert tasks.generate_report(report.pk) == "done"
    report.refresh_from_db()
    assert sorted(stored_files()) == sorted([report.pdf.name, report.xlsx.name, another])


# --- freezing after the grace -------------------------------------------------------------------------


def test_a_closed_period_is_frozen_from_the_day_after_its_grace(tree, people, live_builder, settings):
    def generated_on(moment):
        with time_machine.travel(moment, tick=True):
            report = ask(tree["county"], people["county_staff"])
            assert tasks.generate_report(report.pk) == "done"
        report.refresh_from_db()
        return report, report.document["sections"][0]["figures"][0]["value"]

    make_member(tree["branch_a1"], "甲")
    report, members = generated_on(datetime(2026, 10, 5, 18, 0, tzinfo=TZ))  # the 5th day after Q3
    assert report.frozen_at is None and members == 1  # generated live: late entries still count
    make_member(tree["branch_a1"], "补录")  # a joining in September, entered late
    report, members = generated_on(datetime(2026, 10, 6, 0, 5, tzinfo=TZ))  # the 6th day
    assert report.frozen_at is not None and members == 2
    make_member(tree["branch_a1"], "更晚")
    report, members = generated_on(datetime(2026, 10, 7, 9, 0, tzinfo=TZ))
    assert members == 2  # frozen
    settings.REPORTS_FREEZE_AFTER_DAYS = 0
    Report.objects.all().delete()
    report, _members = generated_on(datetime(2026, 10, 1, 8, 0, tzinfo=TZ))
    assert report.frozen_at is not None


def test_whether_figures_freeze_is_decided_by_the_day_the_run_started(tree, people, live_builder, monkeypatch):
    report = ask(tree["county"], people["county_staff"])
    with time_machine.travel(datetime(2026, 10, 5, 23, 59, 58, tzinfo=TZ), tick=False) as clock:

        def slow(*args, **kwargs):
            document = live_builder(*args, **kwargs)
            clock.move_to(datetime(2026, 10, 6, 0, 0, 3, tzinfo=TZ))  # the build ends on the grace's next day
            return document

        monkeypatch.setattr("reports.selectors.build_document", slow)
        assert tasks.generate_report(report.pk) == "done"
    report.refresh_from_db()
    assert report.generated_at.astimezone(TZ).date() == date(2026, 10, 6)
    assert report.frozen_at is None  # computed on the grace's last day: not frozen


# --- the pages --------------------------------------------------------------------------------------


def done_report(tree, people, unit_key="county", actor="county_staff", period=Q3) -> Report:
    report = ask(tree[unit_key], people[actor], period)
    assert tasks.generate_report(report.pk) == "done"
    report.refresh_from_db()
    return report


def test_the_archive_lists_what_the_reader_may_see(client, tree, people, login, live_builder):
    county = done_report(tree, people)
    township_a = done_report(tree, people, "township_a", "township_a_staff")
    township_b = done_report(tree, people, "township_b", "township_b_staff")
    party = ask(tree["party_a"], people["party_a"], Period(MONTH, 2026, 9), ReportKind.MONTHLY)
    listed = {
        persona: {r.pk for r, _period in login(people[persona]).get(reverse("reports:archive")).context["rows"]}
        for persona in ["county_staff", "township_a_staff", "secretary_a1", "party_a", "system_admin"]
    }
    assert listed["county_staff"] == {county.pk, township_a.pk, township_b.pk, party.pk}
    assert listed["township_a_staff"] == {township_a.pk}
    assert listed["secretary_a1"] == set()
    assert listed["party_a"] == {party.pk}
    assert listed["system_admin"] == set()
    page = login(people["county_staff"]).get(reverse("reports:archive"))
    assert reverse("reports:download", args=[county.pk, "pdf"]) in page.content.decode()
    assert reverse("reports:intake-list") in page.content.decode()
    page = login(people["secretary_a1"]).get(reverse("reports:archive"))
    assert reverse("reports:intake-list") not in page.content.decode()


def test_the_archive_filters_by_kind_and_period(client, tree, people, login, live_builder):
    county = done_report(tree, people)
    current = ask(tree["county"], people["county_staff"], Q4)
    party = ask(tree["party_a"], people["county_staff"], Period(MONTH, 2026, 9), ReportKind.MONTHLY)
    login(people["county_staff"])

    def listed(**params):
        response = client.get(reverse("reports:archive"), params)
        return [r.pk for r, _period in response.context["rows"]], response

    assert listed()[0] == [current.pk, party.pk, county.pk]  # newest period first
    assert listed(kind="monthly")[0] == [party.pk]
    assert listed(period="2026-q3")[0] == [county.pk]
    rows, response = listed(period="2026-13")
    assert "2026-Q3" in response.content.decode()  # the error says how to write a period
    assert rows == [current.pk, party.pk, county.pk]


@pytest.mark.parametrize("reports", [2, 12])
def test_the_archive_queries_do_not_grow_with_its_rows(
    client, tree, people, login, django_assert_max_num_queries, reports
):
    Report.objects.bulk_create(
        [
            Report(
                kind=ReportKind.QUARTERLY,
                organization=tree["county"] if i % 2 else tree["township_a"],
                period_start=Period(QUARTER, 2020 + i // 8, 1 + (i // 2) % 4).start,
                period_end=Period(QUARTER, 2020 + i // 8, 1 + (i // 2) % 4).end,
                status=ReportStatus.DONE,
                requested_by=people["township_a_staff"],
            )
            for i in range(reports)
        ]
    )
    login(people["county_staff"])
    # session, account, roles, count, page, may enter intake totals, unread count, session save
    with django_assert_max_num_queries(10):
        response = client.get(reverse("reports:archive"))
    assert len(response.context["rows"]) == reports


def test_asking_through_the_page_goes_to_the_report(client, tree, people, login, django_capture_on_commit_callbacks):
    login(people["township_a_staff"])
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("reports:request"),
            {"kind": "quarterly", "scope": "unit", "scope_id": tree["township_a"].pk, "period": "2026-Q3"},
        )
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:report", args=[report.pk])
    assert len(queued) == 1
    assert client.get(reverse("reports:request")).status_code == 405


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "quarterly", "scope": "unit", "period": "2026-Q9"}, "2026-Q3"),
        ({"kind": "quarterly", "scope": "unit", "period": "2027-Q1"}, "尚未开始"),
        ({"kind": "quarterly", "scope": "unit", "period": "2026-09"}, "季度报告"),
        ({"kind": "yearly", "scope": "unit", "period": "2026-Q3"}, "未知"),
        ({"kind": "quarterly", "scope": "party", "period": "2026-Q3"}, "团组织"),
    ],
)
def test_a_refused_request_says_why_in_chinese(client, tree, people, login, data, message):
    login(people["county_staff"])
    scope_id = tree["party_a"].pk if data["scope"] == "party" else tree["county"].pk
    response = client.post(
        reverse("reports:request"), {**data, "scope_id": scope_id}, HTTP_REFERER="http://testserver/reports/"
    )
    assert response.status_code == 302 and response["Location"] == "http://testserver/reports/"
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any(message in m for m in shown), shown
    assert not Report.objects.exists()


def test_a_refused_request_never_goes_back_to_another_site(client, tree, people, login):
    login(people["county_staff"])
    response = client.post(
        reverse("reports:request"),
        {"kind": "quarterly", "scope": "unit", "scope_id": tree["county"].pk, "period": "x"},
        HTTP_REFERER="https://evil.example/",
    )
    assert response["Location"] == reverse("reports:archive")


def refusal(client, data) -> list[str]:
    response = client.post(reverse("reports:request"), data)
    assert response.status_code == 302
    return [str(m) for m in response.wsgi_request._messages]


def test_a_period_outside_the_years_covered_is_said_so(client, tree, people, login):
    login(people["county_staff"])
    (shown,) = refusal(
        client, {"kind": "quarterly", "scope": "unit", "scope_id": tree["county"].pk, "period": "1999-Q3"}
    )
    assert "2000" in shown and "2100" in shown and "2026-Q3" not in shown  # not "write it as 2026-Q3"


def test_an_empty_request_says_each_thing_missing_once(client, tree, people, login):
    login(people["county_staff"])
    shown = refusal(client, {})
    assert len(shown) == len(set(shown)) == 3 and "请选择单位。" in shown
    assert not Report.objects.exists()


def test_an_unknown_kind_in_the_archive_filter_is_said_so_and_the_period_still_filters(
    client, tree, people, login, live_builder
):
    county = done_report(tree, people)
    ask(tree["county"], people["county_staff"], Q4)
    login(people["county_staff"])
    response = client.get(reverse("reports:archive"), {"kind": "zzz", "period": "2026-Q3"})
    assert [r.pk for r, _period in response.context["rows"]] == [county.pk]
    html = response.content.decode()
    assert 'data-testid="kind-error"' in html and "未知的报告类型" in html


@pytest.mark.parametrize(
    ("persona", "scope", "unit_key"),
    [
        ("party_a", "unit", "township_a"),  # a Party organizer reads no unit report
        ("party_a", "party", "party_b"),
        ("secretary_a1", "unit", "branch_b1"),  # another branch
        ("secretary_a1", "party", "party_a"),
        ("township_a_staff", "unit", "township_b"),
        ("system_admin", "unit", "county"),
        ("nobody", "unit", "county"),
    ],
)
def test_nobody_asks_for_a_report_out_of_their_scope(client, tree, people, login, persona, scope, unit_key):
    login(people[persona])
    kind = "monthly" if scope == "party" else "quarterly"
    period = "2026-09" if kind == "monthly" else "2026-Q3"
    data = {"kind": kind, "scope": scope, "scope_id": tree[unit_key].pk, "period": period}
    assert client.post(reverse("reports:request"), data).status_code == 404
    assert not Report.objects.exists()


def test_a_secretary_and_a_party_organizer_ask_for_their_own(client, tree, people, login):
    login(people["secretary_a1"])
    data = {"kind": "monthly", "scope": "unit", "scope_id": tree["branch_a1"].pk, "period": "2026-09"}
    assert client.post(reverse("reports:request"), data).status_code == 302
    login(people["party_a"])
    data = {"kind": "monthly", "scope": "party", "scope_id": tree["party_a"].pk, "period": "2026-10"}
    assert client.post(reverse("reports:request"), data).status_code == 302
    assert Report.objects.count() == 2


def test_the_report_page_shows_progress_then_the_document(client, tree, people, login, live_builder):
    report = ask(tree["county"], people["county_staff"])
    login(people["county_staff"])
    url = reverse("reports:report", args=[report.pk])
    page = client.get(url)
    assert page.context["working"] and page.context["document"] is None
    html = page.content.decode()
    assert reverse("reports:progress", args=[report.pk]) in html and "report-progress.js" in html
    assert client.get(reverse("reports:progress", args=[report.pk])).json() == {
        "status": "queued",
        "percent": 0,
        "message": "",
    }
    tasks.generate_report(report.pk)
    assert client.get(reverse("reports:progress", args=[report.pk])).json()["status"] == "done"
    page = client.get(url)
    html = page.content.decode()
    assert not page.context["working"] and page.context["document"].sections[0].title == "团员"
    assert "各支部团员" in html  # the document partial
    assert reverse("reports:download", args=[report.pk, "xlsx"]) in html
    assert 'data-testid="frozen-note"' in html  # regenerating keeps the figures: said so
    assert reverse("reports:request") in html


def test_a_failed_report_shows_its_message_and_may_be_tried_again(client, tree, people, login, live_builder):
    live_builder.fail_with = RuntimeError
    report = ask(tree["county"], people["county_staff"])
    tasks.generate_report(report.pk)
    page = login(people["county_staff"]).get(reverse("reports:report", args=[report.pk]))
    assert "无法生成" in page.content.decode() and page.context["may_regenerate"]


def test_downloads_are_attachments_with_a_chinese_name(client, tree, people, login, live_builder, real_pdf):
    report = done_report(tree, people)
    login(people["county_staff"])
    pdf = client.get(reverse("reports:download", args=[report.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in pdf["Content-Disposition"] and "filename*=utf-8''" in pdf["Content-Disposition"]
    assert "%E5%AD%A3%E5%BA%A6%E6%8A%A5%E5%91%8A.pdf" in pdf["Content-Disposition"]  # 季度报告.pdf
    reader = PdfReader(io.BytesIO(b"".join(pdf.streaming_content)))
    assert "共青团测试县委员会" in reader.pages[0].extract_text()
    xlsx = client.get(reverse("reports:download", args=[report.pk, "xlsx"]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert workbook.sheetnames == ["概况", "团员"]
    assert client.get(reverse("reports:download", args=[report.pk, "doc"])).status_code == 404


def test_nothing_to_download_before_the_report_is_done(client, tree, people, login):
    report = ask(tree["county"], people["county_staff"])
    login(people["county_staff"])
    assert client.get(reverse("reports:download", args=[report.pk, "pdf"])).status_code == 404


def test_the_last_good_version_stays_offered_while_regenerating_and_after_a_failure(
    client, tree, people, login, live_builder
):
    report = done_report(tree, people, period=Q4)  # the quarter under way: regenerating recomputes it
    good_pdf = report.pdf.name
    login(people["county_staff"])
    url = reverse("reports:report", args=[report.pk])
    download = reverse("reports:download", args=[report.pk, "pdf"])

    def offered(status: str) -> None:
        page = client.get(url)
        html = page.content.decode()
        assert page.context["report"].status == status
        assert page.context["document"].sections[0].title == "团员"  # the last good figures
        assert f'href="{download}"' in html and 'data-testid="last-good"' in html
        assert client.get(download).status_code == 200
        archive = client.get(reverse("reports:archive")).content.decode()
        assert f'href="{download}"' in archive

    ask(tree["county"], people["county_staff"], Q4)
    offered("queued")
    assert 'data-testid="report-progress"' in client.get(url).content.decode()  # the status beside
    live_builder.fail_with = RuntimeError("boom")
    assert tasks.generate_report(report.pk) == "failed"
    offered("failed")
    assert "无法生成" in client.get(url).content.decode()
    assert Report.objects.get(pk=report.pk).pdf.name == good_pdf


@pytest.mark.parametrize("status", [ReportStatus.QUEUED, ReportStatus.RUNNING])
def test_an_abandoned_generation_is_said_to_have_stalled_and_may_be_asked_for_again(
    client, tree, people, login, status
):
    report = ask(tree["county"], people["county_staff"])
    long_ago = timezone.now() - services.STALE_AFTER - timedelta(minutes=1)
    Report.objects.filter(pk=report.pk).update(status=status, requested_at=long_ago, started_at=long_ago)
    login(people["county_staff"])
    state = client.get(reverse("reports:progress", args=[report.pk])).json()
    assert state["status"] == "stalled" and "重新" in state["message"]
    html = client.get(reverse("reports:report", args=[report.pk])).content.decode()
    assert "report-progress.js" not in html  # nothing polls
    assert 'data-testid="report-stalled"' in html and 'data-testid="regenerate-form"' in html
    assert html.count('data-testid="status-stalled"') == 1
    assert 'data-testid="status-stalled"' in client.get(reverse("reports:archive")).content.decode()


def test_the_progress_endpoint_and_the_report_page_queries_are_pinned(
    client, tree, people, login, live_builder, django_assert_num_queries
):
    report = done_report(tree, people)
    login(people["county_staff"])
    progress = reverse("reports:progress", args=[report.pk])
    page = reverse("reports:report", args=[report.pk])
    client.get(page)
    # session, account, roles, the report (the page above renewed the session's expiry: not saved again)
    with django_assert_num_queries(4):
        assert client.get(progress).json()["status"] == "done"
    # the same, with the report's scope and requester joined, and the unread notifications counted
    with django_assert_num_queries(5):
        assert client.get(page).status_code == 200


@pytest.mark.parametrize(
    ("owner", "actor", "outsiders"),
    [
        ("county", "county_staff", ["township_a_staff", "secretary_a1", "party_a", "system_admin", "nobody"]),
        ("township_a", "township_a_staff", ["township_b_staff", "secretary_a1", "party_a", "audit_admin"]),
        ("branch_a1", "secretary_a1", ["secretary_b1", "township_b_staff", "party_a"]),
    ],
)
def test_every_archive_page_is_a_404_out_of_scope(client, tree, people, login, live_builder, owner, actor, outsiders):
    report = done_report(tree, people, owner, actor)
    urls = [
        reverse("reports:report", args=[report.pk]),
        reverse("reports:progress", args=[report.pk]),
        reverse("reports:download", args=[report.pk, "pdf"]),
        reverse("reports:download", args=[report.pk, "xlsx"]),
    ]
    for url in urls:
        assert login(people[actor]).get(url).status_code == 200
    for persona in outsiders:
        login(people[persona])
        assert [client.get(url).status_code for url in urls] == [404] * 4, persona
    client.logout()
    assert client.get(urls[0]).status_code == 302  # to the sign-in page


def test_a_party_organizer_opens_only_their_party_organization_s_reports(client, tree, people, login, live_builder):
    own = ask(tree["party_a"], people["party_a"], Period(MONTH, 2026, 9), ReportKind.MONTHLY)
    other = ask(tree["party_b"], people["county_staff"], Period(MONTH, 2026, 9), ReportKind.MONTHLY)
    unit = ask(tree["township_a"], people["county_staff"], Period(MONTH, 2026, 9), ReportKind.MONTHLY)
    for report in (own, other, unit):
        tasks.generate_report(report.pk)
    login(people["party_a"])
    assert client.get(reverse("reports:download", args=[own.pk, "pdf"])).status_code == 200
    assert client.get(reverse("reports:report", args=[other.pk])).status_code == 404
    # township A is paired with the Party organization, but a unit report is the League's
    assert client.get(reverse("reports:report", args=[unit.pk])).status_code == 404


def test_the_real_builders_go_through_the_archive(client, tree, people, login, real_pdf):
    """No stand-in: the quarterly and monthly builders' documents, frozen, rendered and shown."""
    from reports.xlsx import sheet_names

    make_member(tree["branch_a1"], "甲")
    quarterly = ask(tree["county"], people["county_staff"])
    monthly = ask(tree["party_a"], people["party_a"], Period(MONTH, 2026, 9), ReportKind.MONTHLY)
    assert tasks.generate_report(quarterly.pk) == tasks.generate_report(monthly.pk) == "done"
    for report, persona, scope_name in [
        (quarterly, "county_staff", tree["county"].name),
        (monthly, "party_a", tree["party_a"].name),
    ]:
        report.refresh_from_db()
        assert report.frozen_at is not None
        sections = report.document["sections"]
        login(people[persona])
        page = client.get(reverse("reports:report", args=[report.pk]))
        assert page.status_code == 200 and sections[0]["title"] in page.content.decode()
        pdf = PdfReader(
            io.BytesIO(b"".join(client.get(reverse("reports:download", args=[report.pk, "pdf"])).streaming_content))
        )
        text = "\n".join(p.extract_text() for p in pdf.pages)
        assert scope_name in text and services.report_period(report).label in text
        xlsx = load_workbook(
            io.BytesIO(b"".join(client.get(reverse("reports:download", args=[report.pk, "xlsx"])).streaming_content))
        )
        assert xlsx.sheetnames == ["概况", *sheet_names(page.context["document"].sections)]
