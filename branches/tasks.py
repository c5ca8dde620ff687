"""Background tasks of the branches app."""

from celery import shared_task

from branches.notifications import RULES, run_rule, send_pending_emails


@shared_task(name="branches.ping")
def ping() -> str:
    """Round trip used by the health tests and operators to prove a worker answers."""
    return "pong"


@shared_task(name="branches.send_notification_emails", acks_late=True, autoretry_for=(OSError,), retry_backoff=True)
def send_notification_emails() -> int:
    """E-mail what is waiting; safe to run twice (each notification is claimed before sending)."""
    return send_pending_emails()


@shared_task(name="branches.run_reminders", acks_late=True)
def run_reminders() -> dict[str, int]:
    """Daily: every reminder rule for today. Re-running creates nothing twice."""
    return {name: run_rule(name) for name in RULES}
