"""Run the benchmark scenarios against `bench_<size>` and print the table (issue 8).

Usage: python bench/run.py county|city|province [--runs 20] [--only WORD …] [--markdown FILE]
       (or: make bench-suite SIZE=county, which loads the database first when it is missing)

For each scenario (bench/scenarios.py): median and p95 server time, queries per run, rows the database
touched per run (pg_stat_database: tup_returned = rows read by scans, tup_fetched = rows fetched by
index scans), the SQL floor (the run's own SQL replayed directly) and the ratios to it and, for the
member list, to Django's admin changelist on the same data. Pages go through Django's test client
signed in as the county's staff (a branch secretary for the board), with the database connection kept
between requests (as CONN_MAX_AGE > 0 or a pool would; the cost of a new connection is printed apart);
reports and exports are the services a worker or a view calls. Timings are indicative: they are
printed with the load average, and other work on the machine slows them.
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.suite import SIZES, database_exists, database_name, load_average, machine_facts, use_database


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=sorted(SIZES))
    parser.add_argument("--runs", type=int, default=20, help="runs of each page and rule (reports, exports: 3)")
    parser.add_argument("--only", nargs="*", help="only the scenarios whose name contains one of these words")
    parser.add_argument("--markdown", help="also write the table as Markdown to this file")
    parser.add_argument("--load", action="store_true", help="load the database first when it does not exist")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the table: profile one run of each chosen scenario (cProfile, top functions) and "
        "EXPLAIN ANALYZE its slowest query",
    )
    args = parser.parse_args(argv)
    name = database_name(args.size)
    if not database_exists(name):
        if not args.load:
            sys.exit(f"{name} does not exist: load it first with python bench/generate.py {args.size}")
        from bench import generate

        generate.main([args.size])
    use_database(name)

    import logging
    import warnings

    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # not a line per PDF page
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic needed here
    from django.conf import settings
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection

    from bench import scenarios

    # What the test client needs, and no more: not setup_test_environment(), whose instrumented
    # template rendering copies the context on every template rendered (a third of a long list page's
    # time went there).
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Keep the connection between requests (a production stack keeps them, or pools them): otherwise
    # every request here would pay for a new PostgreSQL connection, measured apart below.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    from leagueadmin.celery import app

    app.conf.task_always_eager = True  # tasks queued after a commit run here, nothing left in a broker
    registered = scenarios.register_member_admin()

    facts = machine_facts()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        facts["PostgreSQL"] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        facts["database"] = f"{name}, {cursor.fetchone()[0]}"
    connect_ms = _connection_cost(connection)
    # The write scenarios (import, reminder rules) roll back, leaving dead rows behind; where autovacuum
    # is off (as on the machine of docs/performance.md) they would pile up run after run and slow the
    # list's count. Clean them as autovacuum would, before anything is measured.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    print(f"benchmark suite: {args.size}")
    for key, value in facts.items():
        print(f"  {key}: {value}")
    print(f"  a new database connection: {connect_ms:.1f} ms (not in the figures below)")
    if not registered:
        print("  admin: the app's own ModelAdmin for Member")

    report_runs = 3  # reports, exports: seconds each (a city's monthly PDF most of a minute)
    started = time.perf_counter()
    chosen = scenarios.build(args.runs, report_runs, 2, set(args.only) if args.only else None)
    # What is loaded by now stays out of the garbage collector's passes, as in the production stack's
    # web and worker processes (deploy/gunicorn.conf.py when_ready, leagueadmin/celery.py).
    gc.freeze()
    if args.profile:
        for scenario in chosen:
            print(scenarios.profile(scenario))
        return
    overhead = scenarios.counter_overhead()
    results = []
    for scenario in chosen:
        result = scenarios.measure(scenario, overhead, load_average)
        results.append(result)
        line = f"{result.median_ms:9.1f} ms median" if not result.error else f"FAILED {result.error}"
        print(f"  … {scenario.name}: {line} (load {result.load})", flush=True)
    print(f"\n{args.size}: {len(results)} scenarios in {time.perf_counter() - started:.0f} s\n")
    table = render(results)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(markdown(results, facts, connect_ms) + "\n")
        print(f"\nMarkdown written to {args.markdown}")


def _connection_cost(connection, samples: int = 5) -> float:
    times = []
    for _ in range(samples):
        connection.close()
        started = time.perf_counter()
        connection.ensure_connection()
        times.append(time.perf_counter() - started)
    return sorted(times)[samples // 2] * 1000


COLUMNS = [
    "scenario",
    "runs",
    "median ms",
    "p95 ms",
    "queries",
    "rows read",
    "rows fetched",
    "SQL floor ms",
    "× floor",
    "× admin",
    "load avg",
]


def rows(results) -> list[list[str]]:
    by_name = {r.scenario.name: r for r in results}
    table = []
    for r in results:
        if r.error:
            table.append([r.scenario.name, "0", "failed: " + r.error] + [""] * (len(COLUMNS) - 3))
            continue
        floor = r.floor * 1000 if r.floor is not None else None
        admin = by_name.get(r.scenario.compare_to)
        table.append(
            [
                r.scenario.name,
                str(len(r.times)),
                _ms(r.median_ms),
                _ms(r.p95_ms),
                f"{r.queries:.0f}",
                f"{r.returned:,.0f}",
                f"{r.fetched:,.0f}",
                _ms(floor) if floor is not None else "—",
                f"{r.median_ms / floor:.1f}" if floor else "—",
                f"{r.median_ms / admin.median_ms:.2f}" if admin and not admin.error else "—",
                (r.load.split() or ["—"])[0],
            ]
        )
    return table


def _ms(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def render(results) -> str:
    table = [COLUMNS, *rows(results)]
    widths = [max(_width(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = []
    for number, row in enumerate(table):
        cells = [
            row[i] + " " * (widths[i] - _width(row[i])) if i == 0 else " " * (widths[i] - _width(row[i])) + row[i]
            for i in range(len(COLUMNS))
        ]
        lines.append("  ".join(cells))
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)


def markdown(results, facts: dict[str, str], connect_ms: float) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] + ["---:"] * (len(COLUMNS) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results)]
    machine = "; ".join(f"{key}: {value}" for key, value in facts.items())
    return "\n".join(lines) + f"\n\nMachine: {machine}; a new database connection {connect_ms:.1f} ms."


if __name__ == "__main__":
    main()
