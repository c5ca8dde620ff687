"""Reminder rules over the demo county on PostgreSQL: time and queries of one run of each rule.

Usage: DATABASE_URL=postgres://… python bench/reminders.py   (part of `make bench`)
"""

from __future__ import annotations

import time
from datetime import date

from common import on_demo_county
from django.db import connection, reset_queries


def measure() -> None:
    from branches.notifications import RULES, run_rule

    day = date(date.today().year, 2, 3)  # inside the registration window: every rule has work
    print(f"\nreminder rules for {day}, one run each (second run in brackets: must create nothing):")
    print(f"  {'rule':25} {'s':>7} {'queries':>8} {'created':>8}")
    for name in sorted(RULES):
        reset_queries()
        started = time.perf_counter()
        created = run_rule(name, day)
        elapsed = time.perf_counter() - started
        queries = len(connection.queries)
        again = run_rule(name, day)
        print(f"  {name:25} {elapsed:7.2f} {queries:8d} {created:8d} ({again})")


if __name__ == "__main__":
    on_demo_county(measure)
