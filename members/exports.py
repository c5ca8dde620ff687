"""Member lists to .xlsx (openpyxl) and .csv. Numbers are masked unless the exporting role may see
them in full and asks for it; cells that a spreadsheet would run as formulas are neutralized; each
export is recorded in the audit trail with its filters and size."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from branches.audit import audit_event
from branches.models import User, subtree_filter
from branches.scope import user_scope
from members.models import Member, choice_labels, years_between
from members.services import may_see_full_id_numbers

# A value starting with one of these is run as a formula by Excel and WPS (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """Text that would start a formula gets a leading apostrophe, shown as plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Member], object]


def _label_of(field_name: str) -> Callable[[Member], object]:
    """The field's choice label, from a dictionary built once for the whole export: get_<field>_display()
    rebuilt and translated the choices for every cell (half an export's time)."""
    labels = choice_labels(field_name)
    return lambda m: labels.get(getattr(m, field_name), getattr(m, field_name))


def columns(full_id_numbers: bool) -> list[Column]:
    today = timezone.localdate()
    return [
        Column(_("Full name"), lambda m: m.name),
        Column(_("Sex"), _label_of("sex")),
        Column(_("Ethnicity"), _label_of("ethnicity")),
        Column(_("ID number"), (lambda m: m.id_number) if full_id_numbers else (lambda m: m.id_number_masked)),
        Column(_("Date of birth"), lambda m: m.birth_date.isoformat()),
        Column(_("Age"), lambda m: years_between(m.birth_date, today)),
        Column(_("Branch"), lambda m: m.branch.name),
        Column(_("Date joined the League"), lambda m: m.joined_on.isoformat()),
        Column(_("League post"), _label_of("league_post")),
        Column(_("Political status"), _label_of("political_status")),
        Column(_("Education"), _label_of("education")),
        Column(_("Occupation"), _label_of("occupation")),
        Column(_("Workplace or school"), lambda m: m.workplace),
        Column(_("Mobile phone"), lambda m: m.phone),
        Column(_("Admission number"), lambda m: m.admission_number),
        Column(_("Membership card number"), lambda m: m.card_number),
        Column(_("Status"), _label_of("status")),
        Column(_("Native place"), lambda m: m.native_place),
    ]


def exportable(actor: User, members: QuerySet[Member], *, full_id_numbers: bool) -> QuerySet[Member]:
    """The members the actor may export: under the units of roles given the export right, and, with
    full ID numbers, only under the units the actor manages as staff."""
    if actor.is_superuser:
        return members
    scope = user_scope(actor)
    if not scope.may_export_records or (full_id_numbers and not may_see_full_id_numbers(actor)):
        raise PermissionDenied
    members = members.filter(subtree_filter(scope.export_paths, "branch__path"))
    if full_id_numbers:
        members = members.filter(subtree_filter(scope.managed_paths, "branch__path"))
    return members


def rows(members: Iterable[Member], cols: list[Column]) -> Iterator[list[object]]:
    yield [c.header for c in cols]
    for member in members:
        yield [neutralize(c.value(member)) for c in cols]


def record_export(actor: User, *, count: int, filters: str, file_format: str, full_id_numbers: bool) -> None:
    audit_event(
        actor,
        actor=actor,
        action=LogEntry.Action.ACCESS,
        changes={"export": ["", f"{count} · {file_format}"], "full_id_numbers": ["", full_id_numbers]},
        note=filters,
    )


def export_csv(members: QuerySet[Member], *, full_id_numbers: bool) -> Iterator[str]:
    """CSV with a UTF-8 byte-order mark, so that Excel shows the Chinese correctly; streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for row in rows(members.iterator(chunk_size=2000), columns(full_id_numbers)):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def export_xlsx(members: QuerySet[Member], *, full_id_numbers: bool) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Members"))
    for row in rows(members.iterator(chunk_size=2000), columns(full_id_numbers)):
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
