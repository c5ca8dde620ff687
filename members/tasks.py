"""Background work on member records."""

from celery import shared_task
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from branches.models import User
from members import idnumbers, imports
from members.models import ImportBatch
from members.transfers import transfers_lapse_due


@shared_task(name="members.lapse_transfers")
def lapse_transfers() -> int:
    """Daily: close the transfers left waiting past the timeout. Idempotent (conditional update)."""
    return transfers_lapse_due()


@shared_task(name="members.check_import")
def check_import(batch_id: int) -> str:
    """Check a large roster upload. Claims the batch first, so a redelivered task does nothing; any
    failure marks the batch failed rather than leaving it "being checked"."""
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.QUEUED).update(
        status=ImportBatch.Status.CHECKING
    )
    if not claimed:
        return "already claimed"
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        content = idnumbers.decrypt_bytes(batch.upload_encrypted)
        ImportBatch.objects.filter(pk=batch_id).update(upload_encrypted=None)
        imports.check_batch(batch, imports.read_table(batch.file_name, content))
    except imports.ImportFileError as exc:
        imports.fail_batch(batch, str(exc))
        return "failed"
    except Exception:
        imports.fail_batch(batch, _("The check stopped on an unexpected error; upload the file again."))
        raise
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
