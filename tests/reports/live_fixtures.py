"""The dashboard's refresh tasks held as a broker holds them, run as a worker runs them (reports/cache.py).
The tests' Celery is not eager, and nothing may reach the broker of var/."""

from __future__ import annotations

import pytest

from reports import tasks


class Queue:
    """The refresh tasks the views queued (their arguments)."""

    def __init__(self) -> None:
        self.held: list[list] = []

    def run(self) -> list[str]:
        """Run every task held, as a worker would (Task.apply: in this process, exceptions raised)."""
        held, self.held = self.held, []
        return [tasks.refresh_live_figures.apply(args=arguments).get() for arguments in held]


@pytest.fixture
def queue(monkeypatch) -> Queue:
    queue = Queue()

    def apply_async(args, **options):
        assert options == {"retry": False}  # a broker away must not hold the request up
        queue.held.append(args)

    monkeypatch.setattr(tasks.refresh_live_figures, "apply_async", apply_async)
    return queue
