"""The audit trail every app writes to (django-auditlog's LogEntry).

Registered models record field changes (old and new values) automatically on save. Services wrap
their writes in `audit_context` so that each entry names the acting account, and the principal when
a deputy acts on their behalf; state changes that bypass `save()` are recorded with `audit_event`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from auditlog.context import auditlog_value, set_extra_data
from auditlog.models import LogEntry
from django.db import models

from branches.models import User


@contextmanager
def audit_context(actor: User | None, *, on_behalf_of: User | None = None) -> Iterator[None]:
    """Attribute every audit entry written inside the block to `actor`."""
    # auditlog keeps its context in one ContextVar and does not restore an outer context (such as
    # the request's, from AuditlogMiddleware) when an inner one ends; keep the outer one ourselves.
    outer = auditlog_value.get(None)
    extra: dict[str, Any] = {"actor": actor}
    if outer:
        extra.update(remote_addr=outer.get("remote_addr"), remote_port=outer.get("remote_port"))
    if on_behalf_of is not None:
        extra["additional_data"] = {"on_behalf_of": on_behalf_of.username}
    try:
        with set_extra_data(extra):
            yield
    finally:
        if outer is not None:
            auditlog_value.set(outer)


def audit_event(
    instance: models.Model,
    *,
    actor: User | None,
    changes: dict[str, list[Any]],
    action: int = LogEntry.Action.UPDATE,
    note: str = "",
    on_behalf_of: User | None = None,
) -> LogEntry:
    """Write one explicit entry: for changes made by queryset updates, or for events like an access."""
    additional: dict[str, Any] = {}
    if note:
        additional["note"] = note
    if on_behalf_of is not None:
        additional["on_behalf_of"] = on_behalf_of.username
    return LogEntry.objects.log_create(
        instance,
        force_log=True,
        action=action,
        changes={key: [_plain(old), _plain(new)] for key, (old, new) in changes.items()},
        actor=actor,
        additional_data=additional or None,
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def history_for(instance: models.Model) -> models.QuerySet[LogEntry]:
    return LogEntry.objects.get_for_object(instance).select_related("actor")
