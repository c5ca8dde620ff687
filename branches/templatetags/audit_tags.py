"""Show audit entries in the reader's language (branches.audit)."""

from auditlog.models import LogEntry
from django import template

from branches.audit import ACTION_LABELS, describe_changes

register = template.Library()


@register.filter
def audit_rows(entry: LogEntry) -> list[tuple[str, str, str]]:
    return describe_changes(entry)


@register.filter
def audit_action(entry: LogEntry) -> str:
    return str(ACTION_LABELS.get(entry.action, entry.get_action_display()))


@register.filter
def audit_record_kind(entry: LogEntry) -> str:
    model = entry.content_type.model_class()
    return str(model._meta.verbose_name) if model is not None else entry.content_type.model
