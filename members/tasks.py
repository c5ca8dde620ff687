"""Background work on member records."""

import base64

from celery import shared_task
from django.core.exceptions import ValidationError

from branches.models import User
from members import imports
from members.models import ImportBatch
from members.transfers import transfers_lapse_due


@shared_task(name="members.lapse_transfers")
def lapse_transfers() -> int:
    """Daily: close the transfers left waiting past the timeout. Idempotent (conditional update)."""
    return transfers_lapse_due()


@shared_task(name="members.check_import")
def check_import(batch_id: int, content_b64: str) -> str:
    """Check a large roster upload. Claims the batch first, so a redelivered task does nothing."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.QUEUED).update(
        status=ImportBatch.Status.CHECKING
    )
    if not claimed:
        return "already claimed"
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        table = imports.read_table(batch.file_name, base64.b64decode(content_b64))
    except imports.ImportFileError as exc:
        imports.fail_batch(batch, str(exc))
        return "failed"
    imports.check_batch(batch, table)
    return "checked"


@shared_task(name="members.commit_import")
def commit_import(batch_id: int, actor_id: int) -> str:
    """Commit a large checked roster; commit_batch claims it, so a second run is refused."""
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        imports.commit_batch(actor=User.objects.get(pk=actor_id), batch=batch)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return "committed"
