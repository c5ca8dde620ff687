"""Run the report schedule now, for any day: `generate_reports [--date 2026-10-01]`.

The reminder command (run_reminders) runs rules that only find who to tell, and can preview them;
this schedule creates and queues reports, so it has its own command.
"""

from datetime import date

from django.core.management.base import BaseCommand

from reports.tasks import generate_period_reports


class Command(BaseCommand):
    help = (
        "Queue the scheduled reports of the last closed quarter and month for a day (default today), "
        "and tell the recipients of those already made. Running it again queues and tells nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, default=None, help="The day (default today).")

    def handle(self, *args, date=None, **options):
        result = generate_period_reports(date.isoformat() if date else None)
        self.stdout.write(
            f"{result['quarter']} / {result['month']}: {result['queued']} report(s) queued, "
            f"{result['notified']} notification(s)"
        )
