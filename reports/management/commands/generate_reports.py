"""Run the report schedule now, for any day up to today: `generate_reports [--date 2026-10-06] [--preview]`.

The reminder command runs it too: `run_reminders --rule reports [--date D] [--preview]`.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports import services
from reports.tasks import generate_period_reports


class Command(BaseCommand):
    help = (
        "Queue the scheduled reports of the last quarter and month whose figures have frozen for a day "
        "(default today; a later day is refused), and tell the recipients of those already made. Running it "
        "again queues and tells nothing twice. --preview lists what it would do and creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, default=None, help="The day (default today).")
        parser.add_argument("--preview", action="store_true", help="List the reports, create nothing.")

    def handle(self, *args, date=None, preview=False, **options):
        day = date or timezone.localdate()
        try:
            services.check_schedule_day(day)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if preview:
            self.preview(day)
            return
        result = generate_period_reports(day.isoformat())
        self.stdout.write(
            f"{result['quarter']} / {result['month']}: {result['queued']} report(s) queued, "
            f"{result['notified']} notification(s)"
        )

    def preview(self, day) -> None:
        quarter, month = services.scheduled_periods(day)
        missing, again, untold = services.scheduled_to_make(day)
        self.stdout.write(f"{quarter.key} / {month.key}:")
        for kind, scope, period in missing:
            self.stdout.write(f"  would generate: {kind} {period.key} {scope}")
        for report in again:
            self.stdout.write(
                f"  would generate again ({report.status}): {report.kind} {services.report_period(report).key} "
                f"{report.scope}"
            )
        for report in untold:
            self.stdout.write(
                f"  would tell the recipients of: {report.kind} {services.report_period(report).key} {report.scope}"
            )
        self.stdout.write(f"{len(missing) + len(again)} report(s) to generate, nothing created (preview)")
