"""Build the demo county (and, with --counties N, more counties for benchmarks). Idempotent."""

from django.core.management.base import BaseCommand, CommandError

from branches.demo import DEMO_PASSWORD, seed_county, seed_demo_accounts


class Command(BaseCommand):
    help = "Load the demo county with its organization tree, Party pairings and demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--counties", type=int, default=1, help="How many counties to build (default 1).")

    def handle(self, *args, counties: int, **options):
        if counties < 1:
            raise CommandError("--counties must be at least 1.")
        for number in range(1, counties + 1):
            county = seed_county(number)
            state = f"built {county.name}" if county else "already present"
            accounts = seed_demo_accounts(number)
            self.stdout.write(f"county {number}: {state}; {len(accounts)} new demo account(s)")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Demo password for every demo account: {DEMO_PASSWORD}"))
