"""The audit trail every app writes to (django-auditlog's LogEntry).

Registered models record field changes (old and new values) automatically on save. Services wrap
their writes in `audit_context` so that each entry names the acting account, and the principal when
a deputy acts on their behalf; state changes that bypass `save()` are recorded with `audit_event`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from auditlog.context import auditlog_value, set_extra_data
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import RoleAssignment, User


@contextmanager
def audit_context(actor: User | None, *, on_behalf_of: User | None = None, note: str = "") -> Iterator[None]:
    """Attribute every audit entry written inside the block to `actor` (with an optional note)."""
    # auditlog keeps its context in one ContextVar and does not restore an outer context (such as
    # the request's, from AuditlogMiddleware) when an inner one ends; keep the outer one ourselves.
    outer = auditlog_value.get(None)
    extra: dict[str, Any] = {"actor": actor}
    if outer:
        extra.update(remote_addr=outer.get("remote_addr"), remote_port=outer.get("remote_port"))
    additional = {"on_behalf_of": on_behalf_of.username if on_behalf_of else None, "note": note or None}
    if any(additional.values()):
        extra["additional_data"] = {key: value for key, value in additional.items() if value}
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


def audit_events_bulk(
    changes_by_instance: list[tuple[models.Model, dict[str, list[Any]]]],
    *,
    actor: User | None,
    action: int = LogEntry.Action.UPDATE,
    note: str = "",
    on_behalf_of: User | None = None,
) -> None:
    """One entry per instance, written in one INSERT: for changes made in bulk (registration of a
    branch, an imported roster), where per-row saves and their signals would be far too slow."""
    additional = {
        key: value
        for key, value in {"note": note, "on_behalf_of": getattr(on_behalf_of, "username", None)}.items()
        if value
    }
    now = timezone.now()
    entries = []
    for instance, changes in changes_by_instance:
        entries.append(
            LogEntry(
                content_type=ContentType.objects.get_for_model(instance),
                object_pk=str(instance.pk),
                object_id=instance.pk,
                object_repr=str(instance),
                action=action,
                changes={key: [_plain(old), _plain(new)] for key, (old, new) in changes.items()},
                actor=actor,
                additional_data=additional or None,
                timestamp=now,
            )
        )
    LogEntry.objects.bulk_create(entries, batch_size=1000)


def newest_change() -> int:
    """The id of the newest audit entry of a change (0 with none): one backward scan of the primary
    key's index. What is computed from the records and kept (the dashboard's figures, the member
    list's counts) is kept with it: every write of a record goes through a service that writes an
    entry in the same transaction, so a newer entry means it may have changed. Entries that record a
    look (a full ID number shown, an export, a Party organizer opening a case) change nothing, and
    they would empty what is kept at every read."""
    changes = LogEntry.objects.exclude(action=LogEntry.Action.ACCESS)
    return changes.order_by("-pk").values_list("pk", flat=True).first() or 0


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


# Labels for what services record explicitly (audit_event): stable keys are stored, words are shown.
EVENT_FIELD_LABELS = {
    "parent": _("parent unit"),
    "registration": _("registration"),
    "evaluation": _("education evaluation"),
    "export": _("export of member records"),
    "full_id_numbers": _("with full ID numbers"),
    "full_id_number": _("full ID number"),
    "password": _("password"),
    "sign_in_lock": _("sign-in lock"),
    "attendance": _("attendance"),
    "attachments": _("attachments"),
    "handed_over_record": _("record handed over to the Party"),  # a Party organizer opened a 推优 case
}
EVENT_VALUE_LABELS = {
    "reset_by_administrator": _("reset by an administrator"),
    "reset_link": _("set through an email link"),
    "changed_by_owner": _("changed by the owner"),
    "locked": _("locked"),
    "unlocked": _("unlocked"),
    "viewed": _("viewed"),
}
ACTION_LABELS = {
    LogEntry.Action.CREATE: _("created"),
    LogEntry.Action.UPDATE: _("changed"),
    LogEntry.Action.DELETE: _("deleted"),
    LogEntry.Action.ACCESS: _("viewed"),
}


def describe_changes(entry: LogEntry) -> list[tuple[str, str, str]]:
    """(field, old, new) rows in the reader's language: field names as labels, choices as their
    labels, empty values as a dash. Related objects are stored by name (settings), so no queries."""
    model = entry.content_type.model_class()
    rows = []
    for key, (old, new) in (entry.changes_dict or {}).items():
        if key in EVENT_FIELD_LABELS:
            rows.append((str(EVENT_FIELD_LABELS[key]), _readable(old), _readable(new)))
            continue
        field = None
        if model is not None:
            with suppress(FieldDoesNotExist):
                field = model._meta.get_field(key)
        label = str(getattr(field, "verbose_name", key))
        choices = dict(field.choices) if getattr(field, "choices", None) else {}
        rows.append((label, _readable(choices.get(old, old)), _readable(choices.get(new, new))))
    return rows


def _readable(value: Any) -> str:
    text = "" if value is None else str(value)
    if text in ("", "None"):
        return "—"
    if text in EVENT_VALUE_LABELS:
        return str(EVENT_VALUE_LABELS[text])
    return {"True": str(_("yes")), "False": str(_("no"))}.get(text, text)


def account_history(user: User) -> models.QuerySet[LogEntry]:
    """The account's own entries and those of its roles, newest first, in one query."""
    role_ids = [str(pk) for pk in RoleAssignment.objects.filter(user=user).values_list("pk", flat=True)]
    mine = models.Q(content_type=ContentType.objects.get_for_model(User), object_pk=str(user.pk))
    roles = models.Q(content_type=ContentType.objects.get_for_model(RoleAssignment), object_pk__in=role_ids)
    return LogEntry.objects.filter(mine | roles).select_related("actor", "content_type").order_by("-timestamp")


def history_for(instance: models.Model) -> models.QuerySet[LogEntry]:
    return LogEntry.objects.get_for_object(instance).select_related("actor")
