"""Where the machine's CPU went during the measured window: the web workers, each database's
PostgreSQL backends, Celery, the load generator, and everything else (other work on the machine).

Read from /proc (Linux), by the locust process itself at the start and the end of the window.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

CLOSED_CONNECTIONS = "PostgreSQL, closed connections (any database)"
LOAD_GENERATOR = "load generator (locust)"
EVERYTHING_ELSE = "everything else on the machine"


def machine() -> str:
    cores = os.cpu_count()
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        ram = "?"
    return f"{cores} cores, {ram} RAM, load average {load}"


def process_kind(pid: int, command: str) -> str:
    if pid == os.getpid():
        return LOAD_GENERATOR
    if "gunicorn" in command:
        return "web (gunicorn)"
    if "celery" in command:
        return "Celery worker and beat"
    if command.startswith("postgres:"):
        # "postgres: 15/main: postgres <database> 127.0.0.1(port) idle": a backend of <database>.
        words = command.split()
        return f"PostgreSQL, database {words[3]}" if len(words) > 4 and "(" in words[4] else "PostgreSQL (server)"
    if "postgres" in command and " -D " in command:
        # The postmaster: the backends of connections closed meanwhile are counted as its children.
        return CLOSED_CONNECTIONS
    if "redis-server" in command:
        return "Redis"
    return EVERYTHING_ELSE


def snapshot() -> tuple[float, dict[int, tuple[str, float]]]:
    """The machine's busy CPU seconds (all cores) and each live process's, with its kind."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / ticks  # all but idle and iowait
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        kind = process_kind(int(entry.name), command)
        # utime and stime are fields 14 and 15 of stat (field 3 comes first after the name); the
        # postmaster's reaped children (16, 17) are the backends of closed connections.
        last = 15 if kind == CLOSED_CONNECTIONS else 13
        processes[int(entry.name)] = (kind, sum(int(value) for value in stat[11:last]) / ticks)
    return busy, processes


def used_between(before: tuple[float, dict], after: tuple[float, dict]) -> dict[str, float]:
    """CPU seconds by kind between two snapshots; what no live process accounts for (processes that
    started and ended in between, other work) is everything else."""
    used: dict[str, float] = {}
    for pid, (kind, seconds) in after[1].items():
        if kind == EVERYTHING_ELSE:
            continue
        earlier = before[1].get(pid)
        used[kind] = used.get(kind, 0.0) + seconds - (earlier[1] if earlier and earlier[0] == kind else 0.0)
    busy = after[0] - before[0]
    used[EVERYTHING_ELSE] = max(0.0, busy - sum(used.values()))
    return {"machine busy": busy, **dict(sorted(used.items(), key=lambda item: -item[1]))}
