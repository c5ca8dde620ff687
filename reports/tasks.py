"""Background work of the reports app: generating one archived report, and the daily schedule.

`generate_report` claims its row with a conditional UPDATE (queued → running), so a redelivered or
duplicated task does nothing; whatever happens, the row ends done, failed, or queued again for a
retry, never "running" (a worker killed outright leaves a row the next request or run may reclaim
once it is older than the task time limit).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reports.document import ReportDocument
from reports.models import Report, ReportStatus
from reports.services import STALE_AFTER, notify_ready, report_period, schedule_period_reports

logger = logging.getLogger(__name__)

# Share of the progress bar for computing the figures; rendering the PDF and the .xlsx fill the rest.
FIGURES_UP_TO = 70
PDF_UP_TO = 88
XLSX_UP_TO = 97
PROGRESS_STEP = 5  # per cent: at most one UPDATE per step, however many sections a builder reports


class _Superseded(Exception):
    """Another worker reclaimed the row (ours was taken for dead), or the figures were unfrozen meanwhile."""


class _ProgressWriter:
    """Writes the progress of one claimed run to its row, at most once per PROGRESS_STEP per cent."""

    def __init__(self, report_id: int, started: datetime) -> None:
        self.report_id = report_id
        self.started = started
        self.written = 0

    def __call__(self, done: int, total: int) -> None:
        self.set(FIGURES_UP_TO * min(done, total) // max(total, 1))

    def set(self, percent: int) -> None:
        if percent < self.written + PROGRESS_STEP:
            return
        Report.objects.filter(pk=self.report_id, status=ReportStatus.RUNNING, started_at=self.started).update(
            progress=percent
        )
        self.written = percent


@shared_task(
    name="reports.generate_report",
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def generate_report(self, report_id: int) -> str:
    """Compute (or take the frozen) figures of one archived report and render its PDF and .xlsx."""
    started = timezone.now()
    claimed = (
        Report.objects.filter(pk=report_id)
        .filter(Q(status=ReportStatus.QUEUED) | Q(status=ReportStatus.RUNNING, started_at__lt=started - STALE_AFTER))
        .update(status=ReportStatus.RUNNING, started_at=started, progress=0, message="")
    )
    if not claimed:
        return "not queued"  # done already, or another worker has it
    with translation.override(settings.LANGUAGE_CODE):
        try:
            return _generate(report_id, started)
        except _Superseded:
            return "superseded"
        except OperationalError:
            # Transient (the database went away): queue the row again so that the retry can claim it;
            # after the last retry it is failed.
            retrying = self.request.retries < self.max_retries
            _finish_unsuccessfully(
                report_id,
                started,
                ReportStatus.QUEUED if retrying else ReportStatus.FAILED,
                _("The database was unavailable; trying again shortly.")
                if retrying
                else _("The database was unavailable; ask for the report again later."),
            )
            raise
        except Exception:
            logger.exception("report %s could not be generated", report_id)
            _finish_unsuccessfully(
                report_id,
                started,
                ReportStatus.FAILED,
                _("The report could not be generated. Try again; if it fails again, tell the system administrator."),
            )
            return "failed"


def _finish_unsuccessfully(report_id: int, started: datetime, status: str, message: str) -> None:
    try:
        Report.objects.filter(pk=report_id, status=ReportStatus.RUNNING, started_at=started).update(
            status=status, message=message[:300]
        )
    except OperationalError:
        logger.exception("report %s left running: the database is unavailable", report_id)


def _generate(report_id: int, started: datetime) -> str:
    from reports.pdf import render_pdf
    from reports.selectors import build_document
    from reports.xlsx import render_xlsx

    report = Report.objects.select_related("organization", "party_organization").get(pk=report_id)
    period = report_period(report)
    progress = _ProgressWriter(report_id, started)
    used_frozen = report.frozen_at is not None and bool(report.document)
    if used_frozen:
        # A closed period's figures as they were when it closed: only the files are made again.
        document = ReportDocument.from_dict(report.document)
        frozen_at = report.frozen_at
    else:
        document = build_document(report.kind, report.scope, period, progress=progress)
        frozen_at = timezone.now() if period.is_closed(timezone.localdate()) else None
    progress.set(FIGURES_UP_TO)
    pdf = render_pdf(document)
    progress.set(PDF_UP_TO)
    xlsx = render_xlsx(document)
    progress.set(XLSX_UP_TO)

    storage = report.pdf.storage
    stem = f"report-{report.pk}-{period.key}"
    new_names = [
        storage.save(report.pdf.field.generate_filename(report, f"{stem}.pdf"), ContentFile(pdf)),
        storage.save(report.xlsx.field.generate_filename(report, f"{stem}.xlsx"), ContentFile(xlsx)),
    ]
    try:
        with transaction.atomic():
            locked = Report.objects.select_for_update().get(pk=report_id)
            if locked.status != ReportStatus.RUNNING or locked.started_at != started:
                raise _Superseded
            if used_frozen and locked.frozen_at is None:
                # The figures were unfrozen while we re-rendered them (new Party intake totals):
                # compute them again rather than freeze the old ones back.
                Report.objects.filter(pk=report_id).update(status=ReportStatus.QUEUED, progress=0)
                generate_report.delay_on_commit(report_id)
                raise _Superseded
            old_names = [name for name in (locked.pdf.name, locked.xlsx.name) if name and name not in new_names]
            locked.pdf.name, locked.xlsx.name = new_names
            locked.document = document.to_dict()
            locked.frozen_at = frozen_at
            locked.status = ReportStatus.DONE
            locked.progress = 100
            locked.message = ""
            locked.generated_at = timezone.now()
            locked.save(
                update_fields=["pdf", "xlsx", "document", "frozen_at", "status", "progress", "message", "generated_at"]
            )
            transaction.on_commit(lambda: _after_done(locked, old_names))
    except BaseException:
        for name in new_names:
            storage.delete(name)
        raise
    return "done"


def _after_done(report: Report, old_names: list[str]) -> None:
    """Regenerating replaces: the previous files go once the row points at the new ones. Then the
    requester (and a scheduled report's recipients) are told."""
    for name in old_names:
        try:
            report.pdf.storage.delete(name)
        except OSError:
            logger.exception("old report file %s could not be deleted", name)
    try:
        notify_ready(report)
    except Exception:
        logger.exception("report %s is ready but nobody could be told", report.pk)


@shared_task(
    name="reports.generate_period_reports", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True
)
def generate_period_reports(day: str | date | None = None) -> dict[str, int | str]:
    """Daily: the closed quarter's and month's scheduled reports (issue 6, "Quarterly reporting"). A
    second run, or two schedulers by mistake, queue and tell nothing twice."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    with translation.override(settings.LANGUAGE_CODE):
        result = schedule_period_reports(day)
    return {
        "quarter": result.quarter.key,
        "month": result.month.key,
        "queued": result.queued,
        "notified": result.notified,
    }
