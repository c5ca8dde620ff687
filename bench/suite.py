"""What the benchmark suite's scripts share before Django starts: the sizes, the database of each size
on the server DATABASE_URL names, and the facts about the machine printed beside every figure.

Nothing here imports Django: generate.py and run.py point DATABASE_URL at `bench_<size>` first, then
set Django up (bench/common.py does that for the older single-purpose scripts).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"

# Throw-away keys for a bench process started without them (never the production keys: the data is
# generated, and the bench databases are dropped and rebuilt at will).
BENCH_ENVIRONMENT = {
    "SECRET_KEY": "bench-only-secret-key",
    "ID_NUMBER_KEYS": "dGVzdC1vbmx5LWlkLWtleS1ub3QtZm9yLXByb2QtMzI=",
    "ID_NUMBER_HASH_KEY": "bench-only-hash-key",
    # Static files by their plain names: the bench measures the server, not collectstatic's manifest.
    "STATIC_MANIFEST": "false",
}


@dataclass(frozen=True)
class Size:
    """One size of the suite (issue 8). `members` counts the whole instance; county 1 is the county
    the scenarios run in (its staff account is `county`), the others only make the tables as large as
    a city's or a province's instance."""

    name: str
    counties: int
    members: int
    # County 1 is seed_demo's demo county (its 10,000 members, every account and the 推优 stories);
    # the bulk is added beside it. Off only in the tooling's own tests (seconds, not a minute).
    demo: bool = True
    # 75 million members in 4.4 million organizations (the national figures): 17 a unit.
    members_per_unit: int = 17
    # Share of members with a 推优 case: a county of 10,098 members counts 131 Party applications and
    # 38 + 15 recommendations in a year (domain.md §0); two and a half years of those is about 2 %.
    case_share: float = 0.02
    seed: int = 8

    @property
    def members_per_county(self) -> int:
        return self.members // self.counties


SIZES = {
    "county": Size("county", counties=1, members=30_000),
    # A large county or a city district (the issue: "holds 100,000"): every member in the one county
    # whose staff the scenarios sign in as, the hardest case for its pages.
    "city": Size("city", counties=1, members=100_000),
    # A slice of a province: 38 average counties (26,300 members, ~1,550 units each): ~60,000 units.
    "province": Size("province", counties=38, members=1_000_000),
}


def database_name(size: str) -> str:
    return f"bench_{size}"


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", DEFAULT_SERVER)
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark measures the production database.")
    return url


def database_url(name: str) -> str:
    """DATABASE_URL with its database replaced by `name` (same server, user and options)."""
    parts = urlsplit(server_url())
    return urlunsplit(parts._replace(path=f"/{name}"))


def use_database(name: str) -> None:
    """Point this process (before Django is set up) at database `name`, with bench keys if none are set."""
    os.environ["DATABASE_URL"] = database_url(name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leagueadmin.settings")
    for key, value in BENCH_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def _maintenance_connection():
    import psycopg2

    parts = urlsplit(server_url())
    connection = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    connection.autocommit = True
    return connection


def database_exists(name: str) -> bool:
    with _maintenance_connection() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def create_database(name: str, *, replace: bool = False) -> None:
    """Create the empty database `name`; refuse when it exists, unless `replace` (then drop it first)."""
    if not name.startswith("bench_"):
        raise ValueError(f"{name}: the suite only creates and drops databases named bench_*")
    connection = _maintenance_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is not None:
                if not replace:
                    sys.exit(f"Database {name} exists already: run with --replace to drop and rebuild it.")
                cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def drop_database(name: str) -> None:
    if not name.startswith("bench_"):
        raise ValueError(f"{name}: the suite only creates and drops databases named bench_*")
    connection = _maintenance_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine_facts() -> dict[str, str]:
    """The machine a figure came from: cores, memory, CPU model, PostgreSQL's version is added by the
    caller (it needs a connection)."""
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "memory": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "load average (1/5/15 min)": load_average(),
        "commit": _commit(),
    }


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
