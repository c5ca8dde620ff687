"""Gunicorn settings of the production stack (deploy/run-production.sh).

Sync workers, as many as gunicorn's documentation advises for them: (2 × cores) + 1, so that one worker
per core computes while another waits on PostgreSQL. WEB_CONCURRENCY overrides the count and BIND the
address (127.0.0.1:8000: a reverse proxy or the load balancer sits in front). Logs go to stdout.
"""

from __future__ import annotations

import gc
import os


def available_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no sched_getaffinity
        return os.cpu_count() or 1


def workers_for(cores: int) -> int:
    return 2 * cores + 1


def worker_count(environ: os._Environ | dict[str, str], cores: int) -> int:
    raw = environ.get("WEB_CONCURRENCY", "").strip()
    if not raw:
        return workers_for(cores)
    # Refuse anything but a positive whole number rather than guess (settings.py's strict style).
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"WEB_CONCURRENCY must be a positive whole number, not {raw!r}.")
    return int(raw)


bind = os.environ.get("BIND", "").strip() or "127.0.0.1:8000"
workers = worker_count(os.environ, available_cores())
worker_class = "sync"
# Django is imported once in the master and the workers are forked from it: faster start, shared memory.
# Nothing opens a database connection at import time, so no connection is shared across the fork.
preload_app = True
# Reports and exports run in Celery; a page that takes this long is a fault, not work.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then, so a slow leak in any library cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file on tmpfs: a worker is never killed because a disk stalled (gunicorn's FAQ).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").strip().lower() or "info"
# %(M)s: request time in milliseconds; the user is left out (personal information stays out of logs).
access_log_format = '%(t)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms'
proc_name = "leagueadmin"
# No control socket (gunicorn ≥ 25): its default path is per user, not per stack, and signals suffice.
control_socket_disable = True


def when_ready(server) -> None:
    """Once the master has loaded the application, before it forks the first worker: move what it has
    loaded (Django, the apps, their modules: some 90,000 objects) to the garbage collector's permanent
    generation, so that the workers' collections (inherited with the fork) skip them. Collections had
    cost a county's monthly report 6 of its ~60 ms on a loaded machine, 1 ms once frozen
    (docs/performance.md). Once, not before every fork: what the master holds later (little) stays
    collectable."""
    gc.freeze()
