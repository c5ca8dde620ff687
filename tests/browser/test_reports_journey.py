"""Reports through a real browser, as issue 7's "Done when" tries them:

- a Party organizer signs in on a phone, opens this month's progress report of their Party
  organization from the navigation, has its files generated and downloads the PDF, which holds the
  organization's name and the person handed over to it;
- county staff open the county's statistics dashboard, ask for the quarterly report, watch the
  progress bar until the report is done, and download the .xlsx: a sheet per section.

The Celery task is not run by a worker: requesting a report records the task instead of sending it,
and the test runs it while the report's page polls its progress (as a worker would, meanwhile).
As in test_journeys, the UI's text is not asserted: elements are found by data-testid and by link
targets built with reverse().
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from reports import services, tasks
from reports.models import Report, ReportKind, ReportStatus
from reports.periods import MONTH, QUARTER, Period
from tests.browser import test_journeys
from tests.browser.test_journeys import PHONE, screenshot, sign_in
from tests.promotion.staff_helpers import handed_over_case
from tests.reports.monthly_data import hand_over, history

# The fixtures of test_journeys, shared by name (pytest finds fixtures in the module's namespace).
browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Requests record the generation task's report ids instead of sending them to a broker."""
    ids: list[int] = []
    monkeypatch.setattr(tasks.generate_report, "delay_on_commit", lambda report_id: ids.append(report_id))
    return ids


def run_queued_task(queued: list[int]) -> Report:
    """What the worker would do: generate the one report asked for."""
    assert len(queued) == 1
    assert tasks.generate_report(queued[0]) != "failed"
    report = Report.objects.get(pk=queued[0])
    assert report.status == ReportStatus.DONE, report.message
    return report


def download(page: Page, link) -> bytes:
    with page.expect_download() as download_info:
        link.click()
    return open(download_info.value.path(), "rb").read()


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_a_party_organizer_downloads_this_month_s_progress_report(
    transactional_db, live_server, tree, people, queued, browser, page: Page
):
    base = live_server.url
    party_organization = tree["party_a"]
    today = timezone.localdate()
    handed_on = (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # the first of last month
    case = handed_over_case(
        tree["branch_a1"], "王小明", recorder=people["county_staff"], party=party_organization, recommended_on=handed_on
    )
    history(case, hand_over(handed_on))
    this_month = Period.containing(MONTH, today)

    # From the navigation straight to the organization's report of this month (its only scope).
    sign_in(page, base, people["party_a"].username)
    page.locator("#mainnav").evaluate("menu => menu.classList.add('show')")  # the phone's collapsed menu
    page.get_by_test_id("nav-reports").click()
    page.wait_for_url(base + reverse("reports:party", args=[party_organization.pk]))
    expect(page.locator("h1")).to_have_text(party_organization.name)
    expect(page.locator("#period")).to_have_value(this_month.key)
    expect(page.get_by_test_id("report-document")).to_contain_text("王小明")
    expect(page.get_by_test_id("data-source")).to_have_attribute("data-frozen", "0")
    screenshot(page, "/tmp/journey-reports-party.png")

    # The files are made in the background: the report's page waits for them.
    page.get_by_test_id("request-report").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/reports/archive/\d+/$"))
    expect(page.get_by_test_id("report-progress")).to_be_visible()
    run_queued_task(queued)
    expect(page.get_by_test_id("report-progress")).to_have_count(0)

    # Back on the organization's page, the PDF is there to download.
    page.goto(base + reverse("reports:party", args=[party_organization.pk]))
    pdf = download(page, page.get_by_test_id("download-pdf"))
    assert pdf.startswith(b"%PDF")
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert party_organization.name in text
    assert "王小明" in text


def test_county_staff_generate_the_quarterly_report_and_open_its_spreadsheet(
    transactional_db, live_server, tree, people, queued, browser, page: Page
):
    base = live_server.url
    county = tree["county"]
    this_quarter = Period.containing(QUARTER, timezone.localdate())

    # Home of the reports → the county's dashboard for this quarter.
    sign_in(page, base, people["county_staff"].username)
    page.get_by_test_id("nav-reports").click()
    page.wait_for_url(base + reverse("reports:home"))
    page.locator(f'[data-unit="{county.pk}"]').get_by_test_id("dashboard-link").click()
    page.wait_for_url(base + reverse("reports:unit", args=[county.pk]))
    expect(page.locator("#period")).to_have_value(this_quarter.key)
    # The dashboard drills down: the township's row opens the township's dashboard, same quarter.
    township = tree["township_a"]
    drill = f"{reverse('reports:unit', args=[township.pk])}?period={this_quarter.key}"
    expect(page.locator(f'[data-testid="report-document"] a[href="{drill}"]').first).to_be_visible()
    screenshot(page, "/tmp/journey-reports-dashboard.png")

    # Ask for the files; the progress bar runs until the worker is done.
    page.get_by_test_id("request-report").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/reports/archive/\d+/$"))
    progress = page.get_by_test_id("report-progress")
    expect(progress).to_be_visible()
    report = run_queued_task(queued)
    assert (report.kind, report.organization_id, report.period_start) == (
        ReportKind.QUARTERLY,
        county.pk,
        this_quarter.start,
    )
    expect(progress).to_have_count(0)  # the page saw "done" and showed the report
    xlsx_link = page.locator(f'a[href="{reverse("reports:download", args=[report.pk, "xlsx"])}"]')
    expect(xlsx_link).to_be_visible()
    screenshot(page, "/tmp/journey-reports-done.png")

    workbook = load_workbook(io.BytesIO(download(page, xlsx_link)))
    sections = report.document["sections"]
    assert len(workbook.sheetnames) == 1 + len(sections)  # the overview, then one sheet per section
    assert len(sections) > 3


def test_a_generation_abandoned_while_its_page_is_open_stops_the_polling_and_offers_to_ask_again(
    transactional_db, live_server, tree, people, queued, browser, page: Page
):
    base = live_server.url
    sign_in(page, base, people["county_staff"].username)
    page.goto(base + reverse("reports:unit", args=[tree["county"].pk]))
    page.get_by_test_id("request-report").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/reports/archive/\d+/$"))
    report_page = page.url
    expect(page.get_by_test_id("report-progress")).to_be_visible()

    # The worker that took it died: past the task time limit, the page says so and stops asking.
    (report_id,) = queued
    long_ago = timezone.now() - services.STALE_AFTER - timedelta(minutes=1)
    Report.objects.filter(pk=report_id).update(status=ReportStatus.RUNNING, started_at=long_ago)
    stalled = page.locator("[data-progress-stalled]")
    expect(stalled).to_be_visible()
    expect(page.get_by_test_id("report-progress")).to_be_hidden()
    screenshot(page, "/tmp/journey-reports-stalled.png")

    stalled.get_by_role("button").click()  # ask again, from where it stopped
    page.wait_for_url(report_page)
    expect(page.get_by_test_id("report-progress")).to_be_visible()
    assert queued == [report_id, report_id]
    assert Report.objects.get(pk=report_id).status == ReportStatus.QUEUED
