"""Run reminder rules now, for any day: `run_reminders [--date 2026-12-01] [--rule NAME] [--preview]`.

`--rule reports` runs the reports schedule instead (reports' generate_reports command): it creates
reports rather than notifications, so it runs only when named.
"""

from datetime import date

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from branches.notifications import RULES, preview_rule, run_rule

REPORTS = "reports"  # not a reminder rule: the reports schedule (reports/management/commands/generate_reports.py)


class Command(BaseCommand):
    help = "Run the reminder rules (all, or one) for a day; --preview shows who would be reminded of what."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, default=None, help="The day (default today).")
        parser.add_argument(
            "--rule",
            choices=sorted([*RULES, REPORTS]),
            help="Only this rule; 'reports' runs the reports schedule (the closed quarter's and month's reports).",
        )
        parser.add_argument("--preview", action="store_true", help="Show, create nothing.")

    def handle(self, *args, date=None, rule=None, preview=False, **options):
        if rule == REPORTS:
            dated = ["--date", date.isoformat()] if date else []
            call_command("generate_reports", *dated, *(["--preview"] if preview else []), stdout=self.stdout)
            return
        names = [rule] if rule else sorted(RULES)
        for name in names:
            if preview:
                if date is None:
                    raise CommandError("--preview needs --date.")
                for reminder in preview_rule(name, date):
                    self.stdout.write(f"{name}: {reminder.subject} → {len(reminder.recipients)} account(s)")
            else:
                self.stdout.write(f"{name}: {run_rule(name, date)} new notification(s)")
