"""Run reminder rules now, for any day: `run_reminders [--date 2026-12-01] [--rule NAME] [--preview]`."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from branches.notifications import RULES, preview_rule, run_rule


class Command(BaseCommand):
    help = "Run the reminder rules (all, or one) for a day; --preview shows who would be reminded of what."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, default=None, help="The day (default today).")
        parser.add_argument("--rule", choices=sorted(RULES), help="Only this rule.")
        parser.add_argument("--preview", action="store_true", help="Show, create nothing.")

    def handle(self, *args, date=None, rule=None, preview=False, **options):
        names = [rule] if rule else sorted(RULES)
        for name in names:
            if preview:
                if date is None:
                    raise CommandError("--preview needs --date.")
                for reminder in preview_rule(name, date):
                    self.stdout.write(f"{name}: {reminder.subject} → {len(reminder.recipients)} account(s)")
            else:
                self.stdout.write(f"{name}: {run_rule(name, date)} new notification(s)")
