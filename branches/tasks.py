"""Background tasks of the branches app."""

import logging

from celery import shared_task
from django.db import OperationalError

from branches.notifications import RULES, run_rule, send_pending_emails

logger = logging.getLogger(__name__)


@shared_task(name="branches.ping")
def ping() -> str:
    """Round trip used by the health tests and operators to prove a worker answers."""
    return "pong"


@shared_task(name="branches.send_notification_emails", acks_late=True, autoretry_for=(OSError,), retry_backoff=True)
def send_notification_emails() -> int:
    """E-mail what is waiting; safe to run twice (each notification is claimed before sending)."""
    return send_pending_emails()


@shared_task(name="branches.run_reminders", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def run_reminders() -> dict[str, int | str]:
    """Daily: every reminder rule for today. A rule that fails does not stop the others; a lost
    database connection retries the whole run, which creates nothing twice."""
    results: dict[str, int | str] = {}
    for name in RULES:
        try:
            results[name] = run_rule(name)
        except OperationalError:
            raise
        except Exception:
            logger.exception("reminder rule %s failed", name)
            results[name] = "failed"
    return results
