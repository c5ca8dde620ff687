"""Background work of the 推优 pipeline."""

from celery import shared_task

from promotion.services import lapse_expired_cases


@shared_task(name="promotion.lapse_cases")
def lapse_cases() -> int:
    """Daily: recommendations past their validity lapse. Idempotent (claimed rows, stage checked)."""
    return lapse_expired_cases()
