"""Report generation timings on PostgreSQL with the demo county (issue 7): the county's quarterly report
(季度报告) — its figures, the PDF and the .xlsx — and a Party organization's monthly progress report.

Usage: DATABASE_URL=postgres://… python bench/reports.py   (part of `make bench`)

Measures, for the last closed quarter (and month):
- computing the document (queries counted), rendering the PDF (pages, size) and the .xlsx (sheets, size);
- the whole archive path a county staff member starts with one click: the request, then the task
  (claim, figures, both files, the row updated), run here as a worker would;
- the headline figures of the county's report, so a run can be compared with the dashboard.
Timings are printed, never asserted (tests pin query counts instead).
"""

from __future__ import annotations

import io
import tempfile
import time

from common import on_demo_county
from django.db import connection, reset_queries


def timed(call):
    reset_queries()
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started, len(connection.queries)


def measure() -> None:
    from django.core.files.storage import FileSystemStorage
    from django.utils import timezone, translation
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from branches.models import Organization, OrganizationKind, PartyOrganization, User
    from reports import services, tasks
    from reports.models import Report, ReportKind
    from reports.pdf import render_pdf
    from reports.periods import MONTH, QUARTER, Period
    from reports.selectors import build_document
    from reports.xlsx import render_xlsx

    storage = FileSystemStorage(location=tempfile.mkdtemp(prefix="bench-reports-"))
    for name in ("pdf", "xlsx"):
        Report._meta.get_field(name).storage = storage  # nothing written under var/

    today = timezone.localdate()
    quarter = Period.containing(QUARTER, today).previous()
    month = Period.containing(MONTH, today).previous()
    county = Organization.objects.get(kind=OrganizationKind.COUNTY, depth=1)
    staff = User.objects.get(username="county")
    with translation.override("zh-hans"):
        document, built, queries = timed(lambda: build_document(ReportKind.QUARTERLY, county, quarter))
        pdf, pdf_seconds, _q = timed(lambda: render_pdf(document))
        xlsx, xlsx_seconds, _q = timed(lambda: render_xlsx(document))
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        sheets = len(load_workbook(io.BytesIO(xlsx), read_only=True).sheetnames)
        print(f"\nquarterly report of {county.name}, {quarter.key} ({len(document.sections)} sections):")
        print(f"  figures   {built:6.2f} s  {queries:4d} queries")
        print(f"  PDF       {pdf_seconds:6.2f} s  {pages} pages, {len(pdf) / 1024:.0f} KiB")
        print(f"  .xlsx     {xlsx_seconds:6.2f} s  {sheets} sheets, {len(xlsx) / 1024:.0f} KiB")
        print(f"  total     {built + pdf_seconds + xlsx_seconds:6.2f} s")
        for section in document.sections[:3]:
            shown = ", ".join(f"{f.label} {f.value}" for f in section.figures[:5])
            print(f"  {section.title}: {shown}")

    def archive_path() -> str:
        # The task runs when the request commits (Celery eager here), as a worker would run it then.
        report = services.report_request(kind=ReportKind.QUARTERLY, scope=county, period=quarter, actor=staff)
        report.refresh_from_db()
        return report.status

    status, seconds, queries = timed(archive_path)
    print(f"  through the archive (request + task): {seconds:.2f} s, {queries} queries, {status}")
    status, seconds, queries = timed(archive_path)
    print(f"  regenerated (frozen figures, files only): {seconds:.2f} s, {queries} queries, {status}")

    party = PartyOrganization.objects.filter(promotion_cases__isnull=False).distinct().order_by("pk").first()
    if party is not None:
        with translation.override("zh-hans"):
            document, built, queries = timed(lambda: build_document(ReportKind.MONTHLY, party, month))
            _pdf, pdf_seconds, _q = timed(lambda: render_pdf(document))
            _xlsx, xlsx_seconds, _q = timed(lambda: render_xlsx(document))
        print(f"\nmonthly progress report of {party.name}, {month.key}:")
        print(
            f"  figures {built:.2f} s ({queries} queries), PDF {pdf_seconds:.2f} s, .xlsx {xlsx_seconds:.2f} s; "
            f"total {built + pdf_seconds + xlsx_seconds:.2f} s"
        )

    # The schedule's own run: finding and queuing the closed periods' reports (the worker then makes
    # each as above; here the queued tasks are only counted).
    queued: list[int] = []
    tasks.generate_report.delay_on_commit = queued.append
    result, seconds, queries = timed(lambda: services.schedule_period_reports(today))
    print(
        f"\nschedule for {today} ({result.quarter.key}, {result.month.key}): {result.queued} reports queued in "
        f"{seconds:.2f} s, {queries} queries; a second run: ",
        end="",
    )
    again, seconds, queries = timed(lambda: services.schedule_period_reports(today))
    print(f"{again.queued} queued in {seconds:.2f} s, {queries} queries")


if __name__ == "__main__":
    on_demo_county(measure)
