"""Member-list and roster-import timings on PostgreSQL (issue: member records).

Usage: DATABASE_URL=postgres://… make bench    (or: python bench/members.py)

Builds the demo county (10,000 members) in a throw-away database (leagueadmin_bench), then measures:
- the member list page (server time through Django's test client, the median of several requests)
  for the first page, a filtered page and a deep page, with the number of queries;
- checking and committing a 10,000-row roster (.xlsx) into one branch.
Timings are printed, never asserted (tests pin query counts instead).
"""

from __future__ import annotations

import statistics
import time

from common import on_demo_county
from django.db import connection, reset_queries
from django.test import Client

RUNS = 7


def main() -> None:
    on_demo_county(lambda: (measure_list_pages(), measure_import()))


def timed_get(client: Client, url: str, params: dict) -> tuple[float, int]:
    times, queries = [], 0
    for _ in range(RUNS):
        reset_queries()
        started = time.perf_counter()
        response = client.get(url, params)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        queries = len(connection.queries)
    return statistics.median(times) * 1000, queries


def measure_list_pages() -> None:
    from branches.models import User

    client = Client()
    client.force_login(User.objects.get(username="county"))
    scenarios = [
        ("first page", {}),
        ("filtered (age 22-24, women, basic grade)", {"age": "22-25", "sex": "F", "grade": "basic"}),
        ("search by name", {"q": "王"}),
        ("deep page (page 150)", {"page": 150}),
        ("all records, sorted by birth date", {"status": "all", "order": "-birth_date"}),
    ]
    print(f"\nmember list, county staff, {RUNS} requests each (median server time):")
    print(f"  {'scenario':45} {'ms':>8} {'queries':>8}")
    for label, params in scenarios:
        ms, queries = timed_get(client, "/members/", params)
        print(f"  {label:45} {ms:8.1f} {queries:8d}")


def measure_import(rows: int = 10_000) -> None:
    from bench.scenarios import roster
    from branches.models import Organization, User
    from members import imports

    content = roster(rows)
    actor = User.objects.get(username="county")
    branch = Organization.objects.branches().order_by("code").first()
    started = time.perf_counter()
    table = imports.read_table("bench.xlsx", content)
    read = time.perf_counter() - started
    batch = imports.create_batch(actor=actor, branch=branch, file_name="bench.xlsx")
    started = time.perf_counter()
    imports.check_batch(batch, table)
    checked = time.perf_counter() - started
    started = time.perf_counter()
    result = imports.commit_batch(actor=actor, batch=batch)
    committed = time.perf_counter() - started
    print(f"\nimport of {rows:,} rows (.xlsx, {len(content) / 1024:.0f} KiB):")
    print(
        f"  read {read:.1f} s, check {checked:.1f} s, commit {committed:.1f} s; total {read + checked + committed:.1f} s"
    )
    print(f"  created {result.created:,}, updated {result.updated:,}")


if __name__ == "__main__":
    main()
