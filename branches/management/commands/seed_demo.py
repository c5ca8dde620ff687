"""Build the demo county (and, with --counties N, more counties for benchmarks). Idempotent."""

from django.core.management.base import BaseCommand, CommandError

from branches.demo import DEMO_PASSWORD, county_code, seed_county, seed_demo_accounts
from branches.demo_activities import seed_activities
from branches.demo_committees import seed_committees
from branches.demo_honours import seed_honours
from branches.models import Organization
from members.demo import TARGET_MEMBERS, seed_members
from promotion.demo import seed_promotion


class Command(BaseCommand):
    help = "Load the demo county with its organization tree, Party pairings, accounts and members."

    def add_arguments(self, parser):
        parser.add_argument("--counties", type=int, default=1, help="How many counties to build (default 1).")
        parser.add_argument(
            "--members", type=int, default=TARGET_MEMBERS, help=f"Members per county (default {TARGET_MEMBERS})."
        )

    def handle(self, *args, counties: int, members: int, **options):
        if counties < 1 or members < 0:
            raise CommandError("--counties must be at least 1 and --members at least 0.")
        for number in range(1, counties + 1):
            county = seed_county(number)
            state = f"built {county.name}" if county else "already present"
            accounts = seed_demo_accounts(number)
            county = county or Organization.objects.get(code=county_code(number))
            added = seed_members(county, target=members) if members else 0
            seed_activities(county)
            seed_honours(county)
            seed_committees(county)
            seed_promotion(county)
            self.stdout.write(f"county {number}: {state}; {len(accounts)} new demo account(s); {added} new member(s)")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Demo password for every demo account: {DEMO_PASSWORD}"))
