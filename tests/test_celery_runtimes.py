"""A real worker process runs a real task in both runtimes: the embedded one (kombu's filesystem
transport and Celery's file result backend, no server) and the production one (Redis).

Each test starts `celery -A leagueadmin worker` as a subprocess on a queue of its own, so that a
worker already running against the same broker neither steals the probe nor sees it, then sends
`branches.ping` from a separate Celery app configured by the same `celery_transport_settings` the
settings module uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeoutError

from leagueadmin.settings import celery_transport_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
ROUND_TRIP_SECONDS = 60  # an upper bound only: a healthy round trip takes a few seconds


def test_embedded_runtime_runs_a_task(tmp_path):
    for folder in (tmp_path / "broker" / "queue", tmp_path / "broker" / "control", tmp_path / "results"):
        folder.mkdir(parents=True)

    assert_worker_answers_ping(redis_url="", var_dir=tmp_path)


def test_redis_runtime_runs_a_task(tmp_path):
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        if os.environ.get("CI") == "true":
            pytest.fail("REDIS_URL is not set: CI must exercise the Redis runtime.")
        pytest.skip("REDIS_URL is not set")

    assert_worker_answers_ping(redis_url=redis_url, var_dir=tmp_path)


def assert_worker_answers_ping(*, redis_url: str, var_dir: Path) -> None:
    queue = f"probe-{uuid.uuid4().hex}"
    log_path = var_dir / "worker.log"
    conf = celery_transport_settings(redis_url, var_dir)
    probe = Celery("probe", set_as_current=False)
    probe.conf.update(
        broker_url=conf["broker_url"],
        broker_transport_options=conf["broker_transport_options"],
        result_backend=conf["result_backend"],
    )
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "leagueadmin",
                "worker",
                "--pool=solo",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                queue,
            ],
            cwd=REPO_ROOT,
            env=worker_environment(redis_url, var_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        result = probe.send_task("branches.ping", queue=queue)
        answer = wait_for_result(result, worker, lambda: log_path.read_text(errors="replace"))
        assert answer == "pong", log_path.read_text(errors="replace")
        result.forget()
    finally:
        stop(worker)
        if redis_url:  # leave no queue or binding behind on a shared Redis
            with probe.connection_for_write() as conn:
                probe_queue = probe.amqp.queues[queue].bind(conn.default_channel)
                probe_queue.declare()  # a fresh channel deletes only the bindings it knows
                probe_queue.delete()
        probe.close()


def worker_environment(redis_url: str, var_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    env["VAR_DIR"] = str(var_dir)
    env.setdefault("SECRET_KEY", "celery-runtime-test-only")
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def wait_for_result(result, worker: subprocess.Popen, worker_output) -> object:
    """The task's return value; fails at once, with the worker's output, if the worker exits."""
    deadline = time.monotonic() + ROUND_TRIP_SECONDS
    while True:
        if worker.poll() is not None:
            pytest.fail(f"The worker exited with {worker.returncode}:\n{worker_output()}")
        try:
            return result.get(timeout=1, interval=0.1)
        except CeleryTimeoutError:
            if time.monotonic() > deadline:
                pytest.fail(f"No answer within {ROUND_TRIP_SECONDS} s. Worker output:\n{worker_output()}")
        except Exception as exc:  # the task failed, or the result could not be read
            pytest.fail(f"{type(exc).__name__}: {exc}\nWorker output:\n{worker_output()}")


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()  # warm shutdown
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
