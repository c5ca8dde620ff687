"""Importing a roster (团员名册) from .xlsx or .csv.

1. `read_table` reads the upload (any of the usual encodings; refuses what is not a spreadsheet).
2. `check_batch` matches the headers by name (with the usual Chinese synonyms), parses and checks
   every row with the same rules as the member form, and stores the result: the preview lists each
   problem by row and column; a person already in the branch is updated, not duplicated; a person
   active in another branch is set aside, with a transfer request offered instead.
3. `commit_batch` writes all the valid rows in one transaction, or none; the rows with problems can
   be downloaded (`problem_rows_xlsx`), fixed and uploaded again on their own.
Files over BACKGROUND_THRESHOLD rows are checked and committed by Celery tasks, with progress shown.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from branches.audit import audit_events_bulk
from branches.forms import phone_validator
from branches.models import Organization, User
from branches.unit_search import record_branches
from members import idnumbers
from members.exports import neutralize
from members.models import (
    ETHNICITY_CHOICES,
    Education,
    ImportBatch,
    LeaguePost,
    Member,
    Occupation,
    PoliticalStatus,
    Sex,
)
from members.services import MEMBER_FIELDS, check_member_rules, may_edit_members_in
from members.transfers import transfer_request

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
BACKGROUND_THRESHOLD = 300
PROGRESS_EVERY = 200


class ImportFileError(Exception):
    """The upload cannot be read as a roster; the message says why, in the reader's language."""


# --- reading the file ---------------------------------------------------------------------------


def read_table(file_name: str, content: bytes) -> list[list[Any]]:
    """The rows of the first sheet, header first, empty rows dropped."""
    if not content:
        raise ImportFileError(_("The file is empty."))
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
    if zipfile.is_zipfile(io.BytesIO(content)):
        rows = _read_xlsx(content)
    elif file_name.lower().endswith((".xlsx", ".xls")):
        raise ImportFileError(_("This is not an .xlsx workbook. Save it as .xlsx (Excel 2007 or later) or .csv."))
    else:
        rows = _read_csv(content)
    rows = [row for row in rows if any(_text(cell) for cell in row)]
    if len(rows) < 2:
        raise ImportFileError(_("The file has no rows under its header row."))
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(_("The file has more than %(n)d rows; split it.") % {"n": MAX_ROWS})
    return rows


def _read_xlsx(content: bytes) -> list[list[Any]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        # Stop reading past the limit: a sheet of a million rows must not hold a worker for minutes.
        return [list(row) for row in islice(sheet.iter_rows(values_only=True), MAX_ROWS + 2)]
    except Exception as exc:
        raise ImportFileError(_("The workbook cannot be read; is it damaged?")) from exc


def _read_csv(content: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 reads GBK and GB2312 too, as saved by Excel in China
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("The file is neither UTF-8 nor GBK text; save it as .xlsx or as UTF-8 .csv."))
    if "\x00" in text:
        raise ImportFileError(_("This is not a spreadsheet or CSV file."))
    try:
        return list(islice(csv.reader(io.StringIO(text)), MAX_ROWS + 2))
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# --- columns -------------------------------------------------------------------------------------


class ChoiceColumn:
    """Reads a choice column by its label, its value, or the usual other words for it. The labels are
    read in the current language, once per language for the process: not once a cell, which took a
    fifth of a 10,000-row import."""

    def __init__(self, choices, extra: dict[str, str] | None = None) -> None:
        self.choices = choices
        self.extra = extra or {}
        self._by_text: dict[str, dict[str, str]] = {}

    def values_by_text(self) -> dict[str, str]:
        language = translation.get_language()
        if language not in self._by_text:
            by_text = {label: value for value, label in _labels(self.choices)}
            by_text.update({str(value): value for value, _label in self.choices})
            by_text.update(self.extra)
            self._by_text[language] = by_text
        return self._by_text[language]

    def __call__(self, value: Any) -> str:
        text = _text(value)
        found = self.values_by_text().get(re.sub(r"\s", "", text))
        if found is None:
            raise ValueError(_("Unknown value %(value)s.") % {"value": text})
        return found


def _labels(choices) -> list[tuple[str, str]]:
    # Labels such as "Branch secretary (书记)" are matched by their Chinese part too.
    result = []
    for value, label in choices:
        result.append((value, str(label)))
        inner = re.search(r"[（(]([^)）]+)[)）]", str(label))
        if inner:
            result.append((value, inner.group(1)))
    return result


DATE_PATTERNS = [
    (re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"), True),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), True),
    (re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$"), False),  # a month: the first of it
]


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern, has_day in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = [int(p) for p in match.groups()]
            try:
                return date(parts[0], parts[1], parts[2] if has_day else 1)
            except ValueError:
                break
    raise ValueError(_("%(value)s is not a date (write it as 2003-02-14).") % {"value": text})


def _text_of(key: str) -> Callable[[Any], str]:
    """Plain text, no longer than the member record's field holds."""
    limit = Member._meta.get_field(key).max_length

    def parse(value: Any) -> str:
        text = _text(value)
        if limit and len(text) > limit:
            raise ValueError(_("At most %(n)d characters.") % {"n": limit})
        return text

    return parse


def _phone(value: Any) -> str:
    text = _text(value)
    try:
        phone_validator(text)
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from None
    return text


@dataclass(frozen=True)
class ImportColumn:
    key: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = False
    parse: Callable[[Any], Any] = _text


LEAGUE_POSTS = ChoiceColumn(LeaguePost.choices, {"团支部书记": "secretary"})
POLITICAL_STATUSES = ChoiceColumn(PoliticalStatus.choices, {"团员": "league", "中共党员": "party"})

COLUMNS = [
    ImportColumn(
        "name", gettext_lazy("Full name"), ("姓名", "名字", "团员姓名"), required=True, parse=_text_of("name")
    ),
    ImportColumn(
        "id_number", gettext_lazy("ID number"), ("身份证号码", "身份证号", "公民身份号码", "身份证"), required=True
    ),
    ImportColumn("sex", gettext_lazy("Sex"), ("性别",), parse=ChoiceColumn(Sex.choices)),
    ImportColumn(
        "ethnicity",
        gettext_lazy("Ethnicity"),
        ("民族",),
        # "汉" for "汉族" and so on, as some rosters write them.
        parse=ChoiceColumn(ETHNICITY_CHOICES, {name.removesuffix("族"): code for code, name in ETHNICITY_CHOICES}),
    ),
    ImportColumn("birth_date", gettext_lazy("Date of birth"), ("出生日期", "出生年月", "生日"), parse=parse_date),
    ImportColumn("phone", gettext_lazy("Mobile phone"), ("手机号码", "联系电话", "手机", "电话"), parse=_phone),
    ImportColumn(
        "education",
        gettext_lazy("Education"),
        ("学历", "文化程度", "最高学历"),
        required=True,
        parse=ChoiceColumn(
            Education.choices,
            {
                "大学本科": "bachelor",
                "本科": "bachelor",
                "研究生": "master",
                "硕士": "master",
                "博士": "doctor",
                "高中": "senior",
                "中专": "senior",
                "职高": "senior",
                "技校": "senior",
                "中职": "senior",
                "大学专科": "college",
            },
        ),
    ),
    ImportColumn(
        "occupation",
        gettext_lazy("Occupation"),
        ("职业", "身份", "职业类别"),
        required=True,
        parse=ChoiceColumn(Occupation.choices, {"务农": "farmer", "在校学生": "student", "企业员工": "enterprise"}),
    ),
    ImportColumn(
        "workplace",
        gettext_lazy("Workplace or school"),
        ("工作单位或学校", "工作单位", "学校", "单位", "就读学校"),
        parse=_text_of("workplace"),
    ),
    ImportColumn("native_place", gettext_lazy("Native place"), ("籍贯",), parse=_text_of("native_place")),
    ImportColumn(
        "joined_on",
        gettext_lazy("Date joined the League"),
        ("入团时间", "入团日期", "入团年月"),
        required=True,
        parse=parse_date,
    ),
    ImportColumn(
        "admission_number",
        gettext_lazy("Admission number"),
        ("发展团员编号", "团员编号"),
        parse=_text_of("admission_number"),
    ),
    ImportColumn(
        "card_number", gettext_lazy("Membership card number"), ("团员证编号", "团员证号"), parse=_text_of("card_number")
    ),
    ImportColumn(
        "league_post",
        gettext_lazy("League post"),
        ("团内职务", "职务"),
        parse=lambda v: "" if _text(v) in ("", "无", "-", "—") else LEAGUE_POSTS(v),
    ),
    ImportColumn(
        "political_status",
        gettext_lazy("Political status"),
        ("政治面貌",),
        parse=lambda v: "league" if not _text(v) else POLITICAL_STATUSES(v),
    ),
    ImportColumn("notes", gettext_lazy("Notes"), ("备注",)),
    ImportColumn("branch_code", gettext_lazy("Branch code"), ("团支部编码", "支部编码", "组织编码")),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}


def match_headers(header: list[Any]) -> tuple[dict[int, str], list[str]]:
    """Column index → field key, and the labels of required columns that are missing."""
    wanted = {re.sub(r"[\s*＊]", "", synonym): c.key for c in COLUMNS for synonym in (*c.synonyms, str(c.label))}
    mapping: dict[int, str] = {}
    for index, cell in enumerate(header):
        key = wanted.get(re.sub(r"[\s*＊]", "", _text(cell)))
        if key and key not in mapping.values():
            mapping[index] = key
    missing = [str(c.label) for c in COLUMNS if c.required and c.key not in mapping.values()]
    return mapping, missing


# --- checking -----------------------------------------------------------------------------------


def batch_visible_to(user: User, batch: ImportBatch) -> bool:
    """A batch is for those who work in every branch its rows go to (the creator chose them so)."""
    if not may_edit_members_in(user, batch.branch):
        return False
    others = {row.get("branch_id") for row in batch.rows} - {None, batch.branch_id}
    return all(may_edit_members_in(user, branch) for branch in Organization.objects.filter(pk__in=others))


def create_batch(*, actor: User, branch: Organization, file_name: str) -> ImportBatch:
    if not (branch.is_branch and branch.is_active) or not may_edit_members_in(actor, branch):
        raise PermissionDenied
    return ImportBatch.objects.create(branch=branch, file_name=file_name[:200], created_by=actor)


def check_batch(batch: ImportBatch, table: list[list[Any]]) -> ImportBatch:
    """Parse and check every row; store the preview (see _check_batch). Rosters are written in
    Chinese, so values are read, and problems described, in Chinese whatever the uploader's
    language, and a background check gives the same result as one in the request."""
    with translation.override(settings.LANGUAGE_CODE):
        return _check_batch(batch, table)


def _check_batch(batch: ImportBatch, table: list[list[Any]]) -> ImportBatch:
    """Parse and check every row; store the preview. Rows of the file are numbered as a spreadsheet
    shows them (the header is row 1). A row goes to the branch its branch code names (one of the
    uploader's branches), else to the batch's branch."""
    header, body = table[0], table[1:]
    mapping, missing = match_headers(header)
    if missing:
        return fail_batch(
            batch,
            _("Required columns are missing: %(columns)s. Download the template.") % {"columns": "、".join(missing)},
        )
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.CHECKING, total_rows=len(body))
    seen: dict[str, int] = {}
    parsed = []
    for offset, raw in enumerate(body):
        parsed.append(_parse_row(offset + 2, raw, mapping))
        if (offset + 1) % PROGRESS_EVERY == 0:  # parsing is the slow part: the progress bar follows it
            ImportBatch.objects.filter(pk=batch.pk).update(processed_rows=offset + 1)
    branch_by_code = _branches_by_code(batch, {row["fields"].get("branch_code") for row in parsed} - {None})
    # One query for everyone already recorded: who is where.
    hashes = [row["hash"] for row in parsed if row.get("hash")]
    existing = {
        m.id_number_hash: m for m in Member.objects.active().filter(id_number_hash__in=hashes).select_related("branch")
    }
    for row in parsed:
        code = row["fields"].pop("branch_code", None)
        branch = branch_by_code.get(code) if code else batch.branch
        if branch is None:
            row["problems"].append(
                [
                    str(COLUMN_BY_KEY["branch_code"].label),
                    _("No branch of yours has the code %(code)s.") % {"code": code},
                ]
            )
        else:
            row["branch_id"] = branch.pk
        digest = row.pop("hash", None)
        if digest:
            if digest in seen:
                row["problems"].append(
                    [
                        str(COLUMN_BY_KEY["id_number"].label),
                        _("The same ID number is on row %(row)d.") % {"row": seen[digest]},
                    ]
                )
            seen.setdefault(digest, row["line"])
            member = existing.get(digest)
            if member is not None and branch is not None and member.branch_id == branch.pk:
                row["member_id"] = member.pk
            elif member is not None:
                visible = may_edit_members_in(batch.created_by, member.branch)
                row["elsewhere"] = {
                    "member_id": member.pk,
                    "branch": member.branch.name if visible else str(_("a branch outside your units")),
                }
        row["action"] = (
            "error"
            if row["problems"]
            else ("elsewhere" if "elsewhere" in row else ("update" if "member_id" in row else "create"))
        )
    batch.rows = parsed
    batch.total_rows = batch.processed_rows = len(parsed)
    batch.status = ImportBatch.Status.CHECKED
    batch.message = ""
    batch.save(update_fields=["rows", "total_rows", "processed_rows", "status", "message"])
    return batch


def _branches_by_code(batch: ImportBatch, codes: set[str]) -> dict[str, Organization]:
    """The active branches, among those the uploader works in, that the file's codes name (one query)."""
    if not codes:
        return {}
    branches = record_branches(batch.created_by).filter(code__in=codes)
    return {branch.code: branch for branch in branches}


def _parse_row(line: int, raw: list[Any], mapping: dict[int, str]) -> dict[str, Any]:
    values = {key: (raw[index] if index < len(raw) else None) for index, key in mapping.items()}
    fields: dict[str, Any] = {}
    problems: list[list[str]] = []
    for key, value in values.items():
        column = COLUMN_BY_KEY[key]
        if not _text(value):
            if column.required:
                problems.append([str(column.label), _("This column is required.")])
            continue
        try:
            fields[key] = column.parse(value)
        except ValueError as exc:
            problems.append([str(column.label), str(exc)])
    row: dict[str, Any] = {
        "line": line,
        "values": {key: _text(value) for key, value in values.items()},
        "problems": problems,
    }
    number = fields.pop("id_number", "")
    if number and not problems:
        try:
            completed = check_member_rules(fields, id_number=number)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                label = str(COLUMN_BY_KEY[key].label) if key in COLUMN_BY_KEY else key
                problems.extend([label, message] for message in messages)
        else:
            fields = completed
            _check_age(fields, problems)
    if number:
        normalized = idnumbers.normalize(number)
        row["hash"] = idnumbers.lookup_hash(normalized)
        row["id"] = idnumbers.encrypt(normalized)
        row["values"]["id_number"] = idnumbers.mask(normalized) if len(normalized) == 18 else "—"
    row["fields"] = {key: (value.isoformat() if isinstance(value, date) else value) for key, value in fields.items()}
    return row


def _check_age(fields: dict[str, Any], problems: list[list[str]]) -> None:
    rules = settings.LEAGUE_RULES
    born = fields["birth_date"]
    today = timezone.localdate()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age >= rules["leaving_age"] and not fields.get("league_post"):
        problems.append(
            [
                str(COLUMN_BY_KEY["birth_date"].label),
                _("Aged %(age)d: over the leaving age, and holds no League post.") % {"age": age},
            ]
        )


def fail_batch(batch: ImportBatch, message: str) -> ImportBatch:
    batch.status = ImportBatch.Status.FAILED
    batch.message = message[:300]
    batch.save(update_fields=["status", "message"])
    return batch


# --- committing ---------------------------------------------------------------------------------


@dataclass
class CommitResult:
    created: int = 0
    updated: int = 0


def commit_batch(*, actor: User, batch: ImportBatch) -> CommitResult:
    """Write every valid row (new members created, known ones updated) in one transaction, or none."""
    if not batch_visible_to(actor, batch):
        raise PermissionDenied
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.CHECKED).update(
        status=ImportBatch.Status.COMMITTING
    )
    if not claimed:
        raise ValidationError(_("This import is not waiting to be committed."))
    batch.refresh_from_db()
    try:
        with transaction.atomic():
            result = _write_rows(actor, batch)
    except (DatabaseError, ValidationError):
        # Someone recorded one of these people meanwhile: nothing was written; check the file again.
        message = _("Nothing was written: the members changed since the check. Upload the file again.")
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.FAILED, message=message)
        raise ValidationError(message) from None
    except Exception:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, message=_("Nothing was written: an unexpected error stopped the commit.")
        )
        raise
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.COMMITTED, committed_at=timezone.now())
    return result


def _member_fields(row: dict[str, Any]) -> dict[str, Any]:
    fields = {}
    for key, value in row["fields"].items():
        if key in ("birth_date", "joined_on"):
            value = date.fromisoformat(value)
        if key in MEMBER_FIELDS:
            fields[key] = value
    return fields


def _write_rows(actor: User, batch: ImportBatch) -> CommitResult:
    result = CommitResult()
    creates = [row for row in batch.rows if row["action"] == "create"]
    updates = {row["member_id"]: row for row in batch.rows if row["action"] == "update"}
    new_members = []
    for row in creates:
        member = Member(branch_id=row["branch_id"], **_member_fields(row))
        member.id_number = idnumbers.decrypt(row["id"])
        new_members.append(member)
    Member.objects.bulk_create(new_members, batch_size=1000)
    result.created = len(new_members)
    changed: list[tuple[Member, dict]] = []
    for member in Member.objects.select_for_update().filter(pk__in=list(updates), status="active"):
        if member.branch_id != updates[member.pk]["branch_id"]:
            raise IntegrityError("moved since the check")
        fields = _member_fields(updates[member.pk])
        changes = {k: [getattr(member, k), v] for k, v in fields.items() if getattr(member, k) != v}
        if changes:
            for key, value in fields.items():
                setattr(member, key, value)
            changed.append((member, changes))
    if changed:
        Member.objects.bulk_update([member for member, _changes in changed], list(MEMBER_FIELDS), batch_size=1000)
    result.updated = len(changed)
    # bulk_create skips signals: the audit entries for the new members are written here.
    created = Member.objects.filter(id_number_hash__in=[m.id_number_hash for m in new_members], status="active")
    note = f"{_('roster import')}: {batch.file_name}"
    audit_events_bulk(changed, actor=actor, note=note)
    audit_events_bulk(
        [(m, {"id_number_masked": ["", m.id_number_masked], "name": ["", m.name]}) for m in created],
        actor=actor,
        action=LogEntry.Action.CREATE,
        note=note,
    )
    return result


# --- after the preview --------------------------------------------------------------------------


def problem_rows_xlsx(batch: ImportBatch, *, full_id_numbers: bool) -> bytes:
    """The rows with problems, in the template's columns plus a column saying what to fix. Cells are
    formula-safe; ID numbers are whole only for those who may see them (the uploader, staff)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Rows to fix"))
    sheet.append([*(str(c.label) for c in COLUMNS), _("Problems")])
    for row in batch.rows:
        if row["action"] != "error":
            continue
        number = (
            idnumbers.decrypt(row["id"]) if row.get("id") and full_id_numbers else row["values"].get("id_number", "")
        )
        values = [number if c.key == "id_number" else row["values"].get(c.key, "") for c in COLUMNS]
        problems = "；".join(f"{column}: {message}" for column, message in row["problems"])
        sheet.append([neutralize(value) for value in [*values, problems]])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def template_xlsx() -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Members"))
    sheet.append([f"{c.label}*" if c.required else str(c.label) for c in COLUMNS])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


@transaction.atomic
def request_transfers(*, actor: User, batch: ImportBatch) -> int:
    """For the people found active in another branch: ask for their transfer into the batch's branch."""
    if not batch_visible_to(actor, batch):
        raise PermissionDenied
    requested = 0
    for row in batch.rows:
        if row["action"] != "elsewhere":
            continue
        member = Member.objects.active().filter(pk=row["elsewhere"]["member_id"]).first()
        if member is None or member.transfers.pending().exists() or "branch_id" not in row:
            continue
        to_unit = Organization.objects.get(pk=row["branch_id"])
        transfer_request(actor=actor, member=member, to_unit=to_unit, note=_("roster import"))
        requested += 1
    return requested
