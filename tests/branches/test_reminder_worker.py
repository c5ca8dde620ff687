"""A real Celery worker, against Redis and the test database, runs the daily reminders twice: each
reminder arrives once. (PostgreSQL and Redis only: the worker is another process and needs a
database it can share; CI has both.)"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection
from django.utils import timezone

from branches.models import Notification
from members.models import Transfer
from members.transfers import transfer_request
from tests.conftest import make_member
from tests.test_celery_runtimes import stop, wait_for_result

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
# The worker's settings: the project's, with the Redis keys under the prefix given in its environment.
WORKER_SETTINGS = "tests.branches.prefixed_celery_settings"


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url or connection.vendor != "postgresql":
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run this test on PostgreSQL and Redis.")
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
    return url


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_a_real_worker_sends_each_reminder_once(transactional_db, tree, people, tmp_path, worker_id):
    redis_url = _redis_url()
    # Every key of this run (the worker's and the probe's) under its own prefix: another pytest-xdist
    # worker running this test, or another user of the Redis database, neither takes nor sees them.
    prefix = f"test-reminder-worker:{worker_id}:{uuid.uuid4().hex}:"
    member = make_member(tree["branch_a1"], "转接人")
    transfer = transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    Transfer.objects.filter(pk=transfer.pk).update(expires_on=timezone.localdate() + timedelta(days=1))

    queue = f"probe-{uuid.uuid4().hex}"
    probe = Celery("probe", set_as_current=False)
    probe.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        broker_transport_options={"global_keyprefix": prefix},
        result_backend_transport_options={"global_keyprefix": prefix},
    )
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE=WORKER_SETTINGS,
        TEST_REDIS_KEY_PREFIX=prefix,
        REDIS_URL=redis_url,
        DATABASE_URL=_database_url(),
        VAR_DIR=str(tmp_path),
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "leagueadmin", "worker", "--pool=solo", "--loglevel=info",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", f"{queue},celery"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        for _run in range(2):  # e.g. two beat schedulers started by mistake
            result = probe.send_task("branches.run_reminders", queue=queue)
            answer = wait_for_result(result, worker, lambda: log_path.read_text(errors="replace"))
            assert answer["transfers_expiring"] in (3, 0), log_path.read_text(errors="replace")
        received = Notification.objects.filter(key=f"transfer-expiring:{transfer.pk}")
        assert sorted(received.values_list("recipient__username", flat=True)) == [
            "deputy_a1",
            "secretary_a1",
            "secretary_b1",
        ]
    finally:
        stop(worker)
        probe.close()
        store = redis.Redis.from_url(redis_url)
        own_keys = list(store.scan_iter(match=f"{prefix}*"))
        if own_keys:
            store.delete(*own_keys)
