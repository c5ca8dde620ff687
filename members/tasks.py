"""Background work on member records."""

from celery import shared_task

from members.transfers import transfers_lapse_due


@shared_task(name="members.lapse_transfers")
def lapse_transfers() -> int:
    """Daily: close the transfers left waiting past the timeout. Idempotent (conditional update)."""
    return transfers_lapse_due()
