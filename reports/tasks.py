"""Background work of the reports app: generating one archived report, and the daily schedule.

`generate_report` claims its row with a conditional UPDATE (queued → running), so a redelivered or
duplicated task does nothing; whatever happens, the row ends done, failed, or queued again for a
retry. Two cases can leave it "running": a worker killed outright, and a database outage that also
prevents marking the row (the retry then claims that run's row by its started_at). A row running
past the task time limit counts as abandoned (services.is_working): the progress endpoint says it
has stalled, and asking again, or a redelivered task, takes it over. Files a dead worker saved but
never committed are swept at the start of the report's next generation.
"""

from __future__ import annotations

import logging
import posixpath
from datetime import date, datetime

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import Organization, PartyOrganization
from reports import selectors
from reports.cache import refresh_document
from reports.document import ReportDocument
from reports.models import Report, ReportKind, ReportStatus
from reports.periods import QUARTER, Period
from reports.services import STALE_AFTER, notify_ready, report_period, schedule_period_reports

logger = logging.getLogger(__name__)

# Share of the progress bar for computing the figures; rendering the PDF and the .xlsx fill the rest.
FIGURES_UP_TO = 70
PDF_UP_TO = 88
XLSX_UP_TO = 97
PROGRESS_STEP = 5  # per cent: at most one UPDATE per step, however many sections a builder reports


class _Superseded(Exception):
    """Another worker reclaimed the row (ours was taken for dead), or it was asked for again meanwhile."""


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
    autoretry_for=(OperationalError,),  # the claim itself, when the database is away
    retry_backoff=True,
    max_retries=5,
)
def generate_report(self, report_id: int, started_at: str | None = None) -> str:
    """Compute (or take the frozen) figures of one archived report and render its PDF and .xlsx.

    `started_at` is given by a retry after a database outage: the run it retries may have left its
    row "running" (marking it failed needs the database too), and only that run's own row is taken."""
    started = timezone.now()
    claimable = Q(status=ReportStatus.QUEUED) | Q(status=ReportStatus.RUNNING, started_at__lt=started - STALE_AFTER)
    if started_at:
        claimable |= Q(status=ReportStatus.RUNNING, started_at=datetime.fromisoformat(started_at))
    claimed = Report.objects.filter(claimable, pk=report_id).update(
        status=ReportStatus.RUNNING, started_at=started, progress=0, message=""
    )
    if not claimed:
        return "not queued"  # done already, or another worker has it
    with translation.override(settings.LANGUAGE_CODE):
        try:
            return _generate(report_id, started)
        except _Superseded:
            return "superseded"
        except OperationalError as exc:
            # Transient (the database went away): the row is queued again for the retry; if even
            # that fails, it stays "running" and the retry takes it by its started_at.
            retrying = self.request.retries < self.max_retries
            _finish_unsuccessfully(
                report_id,
                started,
                ReportStatus.QUEUED if retrying else ReportStatus.FAILED,
                _("The database was unavailable; trying again shortly.")
                if retrying
                else _("The database was unavailable; ask for the report again later."),
            )
            if not retrying:
                raise
            raise self.retry(
                exc=exc,
                args=[report_id],
                kwargs={"started_at": started.isoformat()},
                countdown=get_exponential_backoff_interval(
                    factor=1, retries=self.request.retries, maximum=600, full_jitter=True
                ),
            ) from exc
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


def _file_stem(report: Report, period) -> str:
    return f"report-{report.pk}-{period.key}"


def _sweep_orphans(report: Report, stem: str) -> None:
    """Delete files of this report that its row does not point at: a worker that died between saving
    its files and committing left them (the row still names the previous generation's)."""
    storage = report.pdf.storage
    folder = posixpath.dirname(report.pdf.field.generate_filename(report, f"{stem}.pdf"))
    kept = {posixpath.basename(name) for name in (report.pdf.name, report.xlsx.name) if name}
    try:
        _dirs, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing saved in that folder yet
    for name in files:
        if name.startswith((f"{stem}.", f"{stem}_")) and name not in kept:
            try:
                storage.delete(posixpath.join(folder, name))
            except OSError:
                logger.exception("orphan report file %s could not be deleted", name)


def _generate(report_id: int, started: datetime) -> str:
    from reports.pdf import render_pdf
    from reports.selectors import build_document, freezes
    from reports.xlsx import render_xlsx

    report = Report.objects.select_related("organization", "party_organization").get(pk=report_id)
    period = report_period(report)
    stem = _file_stem(report, period)
    _sweep_orphans(report, stem)
    progress = _ProgressWriter(report_id, started)
    used_frozen = report.frozen_at is not None and bool(report.document)
    if used_frozen:
        # A closed period's figures as they were frozen: only the files are made again.
        document = ReportDocument.from_dict(report.document)
        frozen_at = report.frozen_at
    else:
        document = build_document(report.kind, report.scope, period, progress=progress)
        # Decided by the day the run started: a build that ends after midnight must not freeze
        # figures computed the day before the grace ended.
        frozen_at = timezone.now() if freezes(period, timezone.localdate(started)) else None
    progress.set(FIGURES_UP_TO)
    pdf = render_pdf(document)
    progress.set(PDF_UP_TO)
    xlsx = render_xlsx(document)
    progress.set(XLSX_UP_TO)

    storage = report.pdf.storage
    new_names = [
        storage.save(report.pdf.field.generate_filename(report, f"{stem}.pdf"), ContentFile(pdf)),
        storage.save(report.xlsx.field.generate_filename(report, f"{stem}.xlsx"), ContentFile(xlsx)),
    ]
    outcome = "done"
    try:
        with transaction.atomic():
            locked = Report.objects.select_for_update().get(pk=report_id)
            if locked.status != ReportStatus.RUNNING or locked.started_at != started:
                outcome = "superseded"
            elif used_frozen and (locked.frozen_at != report.frozen_at or locked.document != report.document):
                # The frozen figures changed while we rendered them (Party intake totals entered):
                # render the new ones rather than store files of the old.
                outcome = "again"
            else:
                old_names = [name for name in (locked.pdf.name, locked.xlsx.name) if name and name not in new_names]
                locked.pdf.name, locked.xlsx.name = new_names
                locked.document = document.to_dict()
                locked.frozen_at = frozen_at
                locked.status = ReportStatus.DONE
                locked.progress = 100
                locked.message = ""
                locked.generated_at = timezone.now()
                locked.save(
                    update_fields=[
                        "pdf",
                        "xlsx",
                        "document",
                        "frozen_at",
                        "status",
                        "progress",
                        "message",
                        "generated_at",
                    ]
                )
                transaction.on_commit(lambda: _after_done(locked, old_names))
        if outcome == "again":
            # In a transaction of its own: raised inside the one above, it would roll this back too.
            with transaction.atomic():
                if Report.objects.filter(pk=report_id, status=ReportStatus.RUNNING, started_at=started).update(
                    status=ReportStatus.QUEUED, progress=0
                ):
                    generate_report.delay_on_commit(report_id)
    except BaseException:
        for name in new_names:
            storage.delete(name)
        raise
    if outcome != "done":
        for name in new_names:
            storage.delete(name)
        raise _Superseded
    return outcome


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
        result = schedule_period_reports(day)  # a day after today is refused (ValidationError)
    return {
        "quarter": result.quarter.key,
        "month": result.month.key,
        "queued": result.queued,
        "notified": result.notified,
    }


@shared_task(name="reports.refresh_live_figures", acks_late=True)
def refresh_live_figures(
    kind: str, scope_kind: str, scope_id: int, period_key: str, language: str, token: str | None = None
) -> str:
    """Compute again the live figures a view found stale, and keep them (reports/cache.py). The view
    took the mark "being computed" for this task, with `token`: the task removes it only if it still
    holds that token (a duplicate running after a newer view took the mark leaves it). A duplicate
    finds the figures fresh and does nothing. Without a token (a task queued before tokens), the mark
    is taken here. Not retried: the next view of stale figures queues the task again."""
    model = PartyOrganization if scope_kind == selectors.SCOPE_PARTY else Organization
    scope = model.objects.filter(pk=scope_id).first()
    if scope is None:
        return "gone"
    with translation.override(language):
        computed = refresh_document(kind, scope, Period.parse(period_key), selectors.build_document, token=token)
    return "computed" if computed else "fresh"


@shared_task(name="reports.warm_live_figures", acks_late=True)
def warm_live_figures() -> dict[str, int]:
    """Daily, after midnight: each county's (root unit's) live figures of the quarter under way, in the
    default language, so that the first views of the day, of the heaviest dashboards, find figures
    kept (today's key starts empty). A county with fresh figures kept, or being computed, is skipped:
    a second run computes nothing again. One county failing does not stop the others."""
    quarter = Period.containing(QUARTER, timezone.localdate())
    counts = {"computed": 0, "skipped": 0, "failed": 0}
    with translation.override(settings.LANGUAGE_CODE):
        for county in Organization.objects.filter(depth=1).active().order_by("path"):
            try:
                computed = refresh_document(ReportKind.QUARTERLY, county, quarter, selectors.build_document, token=None)
            except Exception:
                logger.exception("live figures of %s not computed", county)
                counts["failed"] += 1
                continue
            counts["computed" if computed else "skipped"] += 1
    return counts
