"""Run the load test headless against the stack on this machine and print its figures.

    make loadtest USERS=20 DURATION=60s            # the stack: make serve (127.0.0.1:8000)
    .venv/bin/python loadtest/run.py --users 100 --duration 60 --host http://127.0.0.1:8000

Checks first that the stack answers (/healthz) and that one account of each role can sign in, so a
wrong password stops here instead of locking the demo accounts. Then locust runs in headless mode,
bounded in time, and locust's CSV output is summarized: throughput, p50/p95/p99 and errors per page
and in total, then the sign-ins and where the machine's CPU went during the measured window. The CSV
files stay in --out (var/loadtest/ by default).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loadtest.cpu import machine  # noqa: E402
from loadtest.pages import ROLES, SIGNED_IN_MARK, csrf_token, is_loopback, password  # noqa: E402

# Users arrive at 2 a second: a sign-in hashes the password (PBKDF2, about half a second of CPU by
# design), so a faster arrival would measure a storm of sign-ins rather than people at work. The run
# may take this long, beyond the arrivals and the measured window, before it is stopped.
SPAWN_RATE = 2
SIGN_IN_ALLOWANCE = 120


def seconds(text: str) -> int:
    """60, 60s, 2m or 1h as whole seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text)
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"a duration like 60s, 2m or 90, not {text!r}")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a positive whole number, not {text!r}")
    return int(text)


def preflight(host: str) -> None:
    try:
        health = requests.get(f"{host}/healthz", timeout=10)
    except requests.RequestException as error:
        sys.exit(f"Nothing answers at {host} ({error.__class__.__name__}): start the stack first (make serve).")
    if health.status_code != 200:
        sys.exit(f"{host}/healthz answers {health.status_code}: {health.text[:200]}")
    for role in ROLES.values():
        session = requests.Session()
        form = session.get(f"{host}/login/", timeout=30)
        signed_in = session.post(
            f"{host}/login/",
            data={"username": role.usernames[0], "password": password(), "csrfmiddlewaretoken": csrf_token(form.text)},
            headers={"Referer": f"{host}/login/"},
            timeout=30,
        )
        if SIGNED_IN_MARK not in signed_in.text:
            sys.exit(
                f"{role.usernames[0]} cannot sign in at {host}: load the demo county (manage.py seed_demo) "
                "or set LOADTEST_PASSWORD. Stopped before more attempts lock the account."
            )


def run_locust(args: argparse.Namespace, prefix: Path, window_report: Path) -> int:
    spawn_rate = args.spawn_rate or SPAWN_RATE
    command = [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(spawn_rate),
        "--host",
        args.host,
        # The hard bound: the locustfile ends the run DURATION seconds after the last sign-in.
        "--run-time",
        f"{args.duration + args.users // spawn_rate + SIGN_IN_ALLOWANCE}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    environment = dict(os.environ, LOADTEST_DURATION=str(args.duration), LOADTEST_WINDOW_REPORT=str(window_report))
    # Locust's own tables go to a log file beside the CSV files; the summary below replaces them.
    with open(f"{prefix}_locust.log", "w", encoding="utf-8") as log:
        return subprocess.run(command, env=environment, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode


def number(row: dict[str, str], column: str) -> float:
    try:
        return float(row[column])
    except (KeyError, ValueError):
        return 0.0


def padded(text: str, width: int) -> str:
    """Left-aligned in `width` terminal columns; Chinese characters take two."""
    used = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(0, width - used)


def window_lines(report: dict, total: list[dict[str, str]]) -> list[str]:
    """The measured window: users, sign-ins before it, and where the CPU went during it."""
    measured = report.get("measured_seconds") or 0
    lines = [f"users ready: {report['users_ready']}; measured window: {measured:.0f} s after the last sign-in"]
    sign_in = report.get("sign_in")
    if sign_in:
        lines.append(
            f"sign-ins before it: {sign_in['requests']} ({sign_in['failures']} failed), "
            f"p50 {sign_in['p50']:.0f} ms, p95 {sign_in['p95']:.0f} ms, max {sign_in['max']:.0f} ms"
        )
    cpu = dict(report.get("cpu") or {})
    if cpu and measured:
        busy = cpu.pop("machine busy")
        requests_made = number(total[0], "Request Count") if total else 0
        lines.append(
            f"CPU seconds in the window: the machine was busy {busy:.0f} of {measured * (os.cpu_count() or 1):.0f}"
            + (" (per request: CPU ms)" if requests_made else "")
        )
        for kind, used in cpu.items():
            if used >= 0.5:
                per_request = f"  {1000 * used / requests_made:6.0f}" if requests_made else ""
                lines.append(f"  {used:7.1f}{per_request}  {kind}")
    return lines


def summary(prefix: Path, window_report: Path) -> str:
    """Locust's stats CSV as one table: a row per page, then the total."""
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as stats:
        rows = list(csv.DictReader(stats))
    pages = sorted(
        (row for row in rows if row["Name"] != "Aggregated" and number(row, "Request Count") > 0),
        key=lambda row: -number(row, "95%"),
    )
    total = [row for row in rows if row["Name"] == "Aggregated"]
    lines = [
        f"{'page':28} {'requests':>8} {'errors':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    ]
    for row in [*pages, *total]:
        name = "total" if row["Name"] == "Aggregated" else row["Name"]
        lines.append(
            f"{padded(name, 28)} {int(number(row, 'Request Count')):8} {int(number(row, 'Failure Count')):7} "
            f"{number(row, 'Requests/s'):7.1f} {number(row, '50%'):7.0f} {number(row, '95%'):7.0f} "
            f"{number(row, '99%'):7.0f} {number(row, 'Max Response Time'):7.0f}"
        )
    if window_report.exists():
        lines += ["", *window_lines(json.loads(window_report.read_text(encoding="utf-8")), total)]
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with open(failures, newline="", encoding="utf-8") as rows_file:
            errors = list(csv.DictReader(rows_file))
        for row in errors[:10]:
            lines.append(f"error: {row['Name']}: {row['Error']} × {row['Occurrences']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=positive, default=20)
    parser.add_argument("--duration", type=seconds, default=60, help="measured time: 60s, 2m (default 60s)")
    parser.add_argument("--host", default=os.environ.get("LOADTEST_HOST") or "http://127.0.0.1:8000")
    parser.add_argument("--spawn-rate", type=positive, default=None, help=f"users started per second ({SPAWN_RATE})")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "loadtest")
    args = parser.parse_args()
    args.host = args.host.rstrip("/")
    if not is_loopback(args.host):
        sys.exit(f"The load test runs against this machine only (127.0.0.1), not {args.host}.")

    preflight(args.host)
    args.out.mkdir(parents=True, exist_ok=True)
    prefix = args.out / f"{time.strftime('%Y%m%d-%H%M%S')}-u{args.users}"
    window_report = Path(f"{prefix}_window.json")
    print(f"{args.users} users for {args.duration} s against {args.host}; machine: {machine()}", flush=True)
    status = run_locust(args, prefix, window_report)
    if not Path(f"{prefix}_stats.csv").exists():
        print(Path(f"{prefix}_locust.log").read_text(encoding="utf-8")[-3000:])
        sys.exit(f"locust stopped (status {status}) without writing {prefix}_stats.csv")
    print()
    print(summary(prefix, window_report))
    print(f"\nmachine after the run: {machine()}; CSV files: {prefix}_*.csv")
    # Locust exits 1 when any request failed; the table above says which.
    sys.exit(0 if status in (0, 1) else status)


if __name__ == "__main__":
    main()
