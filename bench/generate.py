"""Load a benchmark database: `bench_<size>` on the PostgreSQL server of DATABASE_URL (issue 8).

Usage: python bench/generate.py county|city|province [--replace]      (or: make bench-data SIZE=county)

Sizes (bench/suite.py): county 30,000 members in one county (~1,750 units); city 100,000 in one county
(a city district, ~5,900 units); province slice 1,000,000 in 38 counties (~60,000 units). Steps:
1. create the database (refuses if it exists; --replace drops it first) and migrate it;
2. seed_demo: the demo county with its accounts, 10,000 members, a year of branch life and the 推优
   stories written through the services (about a minute; its --members scale option is not used for
   the bulk: at 30,000 members its 推优 stories stop on a vote count, and per row it would take most of
   an hour for a province);
3. the bulk (bench/bulk.py), by COPY: townships and branches with their accounts, members with
   encrypted ID numbers, registrations and evaluations, 推优 cases with their whole history, audit
   entries, activities, then attendance by INSERT … SELECT, then VACUUM ANALYZE.
Each step's time is printed, with the load average (other work on the machine slows every figure).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.suite import SIZES, create_database, database_name, load_average, use_database


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("--replace", action="store_true", help="drop the database first if it exists")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    name = database_name(size.name)
    create_database(name, replace=args.replace)
    use_database(name)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.bulk import Steps, load

    print(f"{name}: {size.members:,} members in {size.counties} count{'y' if size.counties == 1 else 'ies'}")
    print(f"PostgreSQL {connection.cursor().connection.server_version}, load average {load_average()}")
    started = time.perf_counter()
    setup = Steps()
    with setup.step("migrate"):
        call_command("migrate", verbosity=0)
    print(f"  migrate {setup.seconds['migrate']:.1f} s")
    with setup.step("seed_demo (the demo county, through the services)"):
        call_command("seed_demo", verbosity=0)
    print(f"  seed_demo {setup.seconds['seed_demo (the demo county, through the services)']:.1f} s")
    steps = load(size)
    print(f"\nsteps ({name}, load average now {load_average()}):")
    setup.report()
    steps.report()
    print(f"  {'all':48} {time.perf_counter() - started:8.1f} s")


if __name__ == "__main__":
    main()
