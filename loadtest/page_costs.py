"""What one request of each load-tested page costs, one at a time: Python CPU, time in the database
and queries. It says which pages limit the stack's throughput (docs/performance.md).

    DATABASE_URL=postgres://…/<database with the demo county> SECRET_KEY=… ID_NUMBER_KEYS=… \\
      ID_NUMBER_HASH_KEY=… STATIC_MANIFEST=false .venv/bin/python loadtest/page_costs.py [--runs 5]

Runs Django in this process with the test client (no network, no gunicorn). It writes nothing but
the sessions of its three sign-ins and the access entries the Party pages record.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leagueadmin.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from branches.models import User  # noqa: E402
from loadtest.pages import BOARD_LINK, MEMBER_LINK, UNIT_REPORT_LINK, ids  # noqa: E402


class DatabaseTime:
    """Wall time spent in queries (PostgreSQL's work and the round trips) and their number."""

    def __init__(self) -> None:
        self.seconds, self.queries = 0.0, 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def client_for(username: str) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=username))
    return client


def first(client: Client, path: str, pattern) -> int:
    found = ids(pattern, client.get(path, follow=True).content.decode())
    if not found:
        sys.exit(f"No link on {path}: load the demo county (manage.py seed_demo) into this database.")
    return found[0]


def measure(username: str, pages: list[tuple[str, str]], runs: int) -> None:
    client = client_for(username)
    for name, path in pages:
        if client.get(path, follow=True).status_code != 200:  # warms the caches, checks the page
            sys.exit(f"{username} cannot open {path}")
        cpu, wall, database = [], [], []
        for _ in range(runs):
            timer = DatabaseTime()
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(timer):
                client.get(path, follow=True)
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started_wall)
            database.append(timer.seconds)
        print(
            f"{username:10} {name:24} {1000 * statistics.median(wall):7.0f} {1000 * statistics.median(cpu):7.0f} "
            f"{1000 * statistics.median(database):7.0f} {timer.queries:8}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="requests per page; the median is shown")
    runs = max(1, parser.parse_args().runs)

    county = client_for("county")
    unit = first(county, "/reports/", UNIT_REPORT_LINK)
    member = first(county, "/members/", MEMBER_LINK)
    board = first(county, "/promotion/", BOARD_LINK)
    branch_unit = first(client_for("branch001"), "/reports/", UNIT_REPORT_LINK)

    print(f"{'account':10} {'page':24} {'wall ms':>7} {'CPU ms':>7} {'DB ms':>7} {'queries':>8}")
    measure(
        "county",
        [
            ("member list", "/members/"),
            ("member list, filtered", "/members/?age=22-25&sector=village&order=-joined_on"),
            ("member list, deep page", "/members/?page=150"),
            ("member page", f"/members/{member}/"),
            ("推优 board", f"/promotion/branches/{board}/"),
            ("review queue", "/promotion/review/"),
            ("推优 overview", "/promotion/overview/"),
            ("reports dashboard", f"/reports/unit/{unit}/"),
            ("monthly report", f"/reports/unit/{unit}/monthly/"),
            ("unit tree", "/org/units/"),
            ("inbox", "/org/inbox/"),
            ("home", "/"),
        ],
        runs,
    )
    measure(
        "branch001",
        [
            ("member list", "/members/"),
            ("推优 board", "/promotion/"),
            ("reports dashboard", f"/reports/unit/{branch_unit}/"),
            ("monthly report", f"/reports/unit/{branch_unit}/monthly/"),
        ],
        runs,
    )
    measure("party01", [("Party monthly report", "/reports/"), ("Party cases", "/promotion/party/")], runs)


if __name__ == "__main__":
    main()
