"""Background tasks of the branches app."""

from celery import shared_task


@shared_task(name="branches.ping")
def ping() -> str:
    """Round trip used by the health tests and operators to prove a worker answers."""
    return "pong"
