"""Shared set-up of the benchmarks: Django on a throw-away PostgreSQL database with the demo county."""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leagueadmin.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def on_demo_county(measure: Callable[[], None]) -> None:
    """Build the demo county (10,000 members) in `leagueadmin_bench`, run `measure`, drop the database."""
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark measures the production database.")
    setup_test_environment()
    settings.DEBUG = True  # to count queries
    from leagueadmin.celery import app

    app.conf.task_always_eager = True  # e-mail tasks run here, nothing is left in a broker
    connection.settings_dict["TEST"]["NAME"] = "leagueadmin_bench"  # apart from the test suite's database
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        call_command("seed_demo", verbosity=0, stdout=io.StringIO())
        print(f"seed_demo (1 county, 10,000 members): {time.perf_counter() - started:.1f} s")
        measure()
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
