"""Background work of the 推优 pipeline."""

from celery import shared_task
from django.db import OperationalError

from promotion.services import lapse_expired_cases


# Acknowledged once done (a worker lost mid-sweep leaves the message to another) and retried with
# backoff on a lost database connection: the sweep claims its rows by stage, so running it again
# lapses nothing twice.
@shared_task(name="promotion.lapse_cases", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def lapse_cases() -> int:
    """Daily: recommendations past their validity lapse. Idempotent (claimed rows, stage checked)."""
    return lapse_expired_cases()
