"""Writes to branch life: recording and editing meetings and activities with their attendance and
attachments, and the county's themed-day topics. Each service checks the actor's right, runs in one
transaction and leaves an audit entry (see branches/audit.py).

Who records a unit's activities: the people who keep its member records — its secretary and their
deputy, and the township and county staff over it (record scope). Errors: `PermissionDenied` when
the actor may not, `ValidationError` keyed by form field when the record breaks a rule.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from branches import activity_selectors as selectors
from branches.audit import audit_context, audit_event
from branches.models import (
    Activity,
    ActivityAttachment,
    ActivityKind,
    Attendance,
    Organization,
    Role,
    ThemedDayTopic,
    User,
)
from branches.scope import user_scope
from branches.services import _save_changed_fields, check_unit_active
from members.models import Member, MemberStatus
from members.services import may_edit_members_in

ATTACHMENT_MAX_COUNT = 10  # per activity: photos of the meeting and the signed minutes, not an album
ATTACHMENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "PDF": "application/pdf"}
# A phone's photo has 12 to 50 megapixels. Larger images are refused before anything is decoded: a
# small file can declare an enormous image (a "decompression bomb") that would take gigabytes to open.
ATTACHMENT_MAX_PIXELS = 50_000_000

ACTIVITY_FIELDS = (
    "kind",
    "held_on",
    "place",
    "topic",
    "themed_day_topic",
    "chair",
    "note_taker",
    "content",
    "resolutions",
    "votes_for",
    "votes_against",
    "votes_abstaining",
)
# Given as numbers where no roster is kept (general branches and committees).
COUNT_FIELDS = ("present_count", "absent_count")

# member id → (present, reason for absence)
AttendanceInput = Mapping[int, tuple[bool, str]]


def may_record_activities(actor: User, unit: Organization) -> bool:
    return actor.is_superuser or may_edit_members_in(actor, unit)


def _check_may_record(actor: User, unit: Organization) -> None:
    if not may_record_activities(actor, unit):
        raise PermissionDenied


def _check_may_change(actor: User, activity: Activity) -> None:
    """A record changes only while its unit exists and the record stands (checked again under lock)."""
    unit = activity.organization
    _check_may_record(actor, unit)
    check_unit_active(unit)
    if activity.is_voided:
        raise ValidationError(_("This record has been voided; it can no longer change."))


def _lock_standing(activity: Activity) -> Activity:
    """The record locked for a change, refused if it was voided a moment ago."""
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.is_voided:
        raise ValidationError(_("This record has been voided; it can no longer change."))
    return locked


# --- attachments ---------------------------------------------------------------------------------


def check_attachment(upload: UploadedFile) -> str:
    """The file's content type if it is a JPEG, PNG or PDF within the size limit, judged by its
    content (a renamed executable is refused whatever its extension); ValidationError otherwise."""
    name = upload.name or ""
    if not upload.size:
        raise ValidationError(_("%(name)s is empty.") % {"name": name})
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(limit)s.")
            % {"name": name, "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}
        )
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        return ATTACHMENT_TYPES["PDF"]
    kind, too_large = None, False
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit (and raises above twice it); ours is lower than both.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload) as image:  # reads the header only: the size is known, nothing decoded
                too_large = image.width * image.height > ATTACHMENT_MAX_PIXELS
                if not too_large:
                    kind = image.format
                    image.verify()  # checks the whole file: a truncated or forged one fails here
    except Image.DecompressionBombError:
        too_large = True
    except Exception:  # noqa: BLE001  (a forged file can trip any error in a decoder: it is not a photo)
        kind = None
    finally:
        upload.seek(0)
    if too_large:
        raise ValidationError(
            _("%(name)s is too large an image (over %(limit)d megapixels); attach a smaller copy of it.")
            % {"name": name, "limit": ATTACHMENT_MAX_PIXELS // 1_000_000}
        )
    if kind not in ("JPEG", "PNG"):
        raise ValidationError(_("%(name)s is not a JPEG or PNG photo or a PDF file.") % {"name": name})
    return ATTACHMENT_TYPES[kind]


def check_attachments(uploads: Sequence[UploadedFile], *, already: int = 0) -> list[str]:
    """Content types of the uploads, or one ValidationError naming every refused file."""
    if already + len(uploads) > ATTACHMENT_MAX_COUNT:
        raise ValidationError(
            _("An activity can have at most %(n)d attachments; it has %(already)d.")
            % {"n": ATTACHMENT_MAX_COUNT, "already": already}
        )
    types, errors = [], []
    for upload in uploads:
        try:
            types.append(check_attachment(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return types


def _store_attachments(
    activity: Activity, actor: User, uploads: Sequence[UploadedFile], types: list[str], stored: list[str]
) -> list[str]:
    """Write the files and their rows. `stored` collects the names on disk, so that the caller can
    delete them again if its transaction fails (the database forgets the rows, the disk would not)."""
    names = []
    for upload, content_type in zip(uploads, types, strict=True):
        attachment = ActivityAttachment(
            activity=activity,
            name=(upload.name or "file")[-200:],
            content_type=content_type,
            size=upload.size,
            uploaded_by=actor,
        )
        attachment.file.save(upload.name or "file", upload, save=False)
        stored.append(attachment.file.name)
        attachment.save()
        names.append(attachment.name)
    return names


def _delete_files(names: Iterable[str]) -> None:
    storage = ActivityAttachment._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


# --- recording and editing -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    fields: dict[str, Any]
    attendance: dict[int, tuple[bool, str]]
    types: list[str]


def _check_activity(
    unit: Organization,
    data: Mapping[str, Any],
    attendance: AttendanceInput,
    files: Sequence[UploadedFile],
    *,
    activity: Activity | None = None,
    today: date,
) -> _Checked:
    """Every rule of a record, checked before anything is written; all refusals at once, by field."""
    errors: dict[str, list[str]] = {}
    fields = {name: data.get(name) for name in ACTIVITY_FIELDS}
    for name in ("place", "topic", "chair", "note_taker", "content", "resolutions"):
        fields[name] = (fields[name] or "").strip()
    kind, held_on, topic = fields["kind"], fields["held_on"], fields["themed_day_topic"]

    if kind not in ActivityKind.values:
        errors["kind"] = [_("Choose the type of the activity.")]
    if held_on is None:
        errors["held_on"] = [_("Give the date of the activity.")]
    elif held_on > today:
        errors["held_on"] = [_("An activity is recorded once it has been held; the date cannot be in the future.")]
    elif unit.founded_on and held_on < unit.founded_on:
        errors["held_on"] = [
            _("The unit was founded on %(day)s; the activity cannot be earlier.") % {"day": unit.founded_on.isoformat()}
        ]
    if topic is not None:
        if kind != ActivityKind.THEMED_DAY:
            errors["themed_day_topic"] = [_("A county topic belongs to a themed League day only.")]
        elif topic.county.path != selectors.county_of(unit):
            errors["themed_day_topic"] = [_("This topic is not one of your county's.")]
        elif held_on and held_on < topic.month:
            errors["themed_day_topic"] = [_("The activity was held before the month of this topic.")]
    if not fields["topic"] and topic is not None:
        fields["topic"] = topic.title  # recording against the county's topic: its title is the topic
    if not fields["topic"]:
        errors["topic"] = [_("Give the topic of the activity.")]

    checked_attendance: dict[int, tuple[bool, str]] = {}
    if selectors.keeps_roster(unit):
        members = selectors.roster(unit, activity)
        expected = {m.pk for m in members}
        strangers = set(attendance) - expected
        if strangers:
            errors["attendance"] = [
                _("%(n)d of the people listed are not members of %(unit)s.") % {"n": len(strangers), "unit": unit}
            ]
        for member_id, (present, reason) in attendance.items():
            reason = "" if present else (reason or "").strip()
            if len(reason) > 100:
                errors.setdefault("attendance", []).append(_("Keep each reason for absence under 100 characters."))
                break
            checked_attendance[member_id] = (bool(present), reason)
        present_count = sum(1 for present, _reason in checked_attendance.values() if present)
        fields["present_count"] = present_count
        fields["absent_count"] = len(checked_attendance) - present_count
        # Refused, not warned: a meeting of a branch with members that nobody attended was not held
        # (or every box was unticked by mistake), yet it would count as held in the completeness
        # table, and a warning after saving would not take it out again. The form lists everyone
        # present by default, so this takes deliberate unticking or a damaged page.
        nobody = not present_count and any(m.status == MemberStatus.ACTIVE for m in members)
        if nobody and not errors.get("attendance"):
            errors["attendance"] = [
                _("Nobody is marked present. Tick those who attended; a meeting nobody attended is not recorded.")
            ]
    else:
        for name in COUNT_FIELDS:
            value = data.get(name)
            fields[name] = value if isinstance(value, int) and value >= 0 else 0

    votes = [fields[name] for name in ("votes_for", "votes_against", "votes_abstaining")]
    if any(v is not None for v in votes):
        if any(v is not None and v < 0 for v in votes):
            errors["votes_for"] = [_("Votes cannot be negative.")]
        elif sum(v or 0 for v in votes) > fields["present_count"]:
            errors["votes_for"] = [
                _("%(votes)d votes were counted but only %(present)d people were present.")
                % {"votes": sum(v or 0 for v in votes), "present": fields["present_count"]}
            ]

    types: list[str] = []
    try:
        types = check_attachments(files, already=activity.attachments.count() if activity else 0)
    except ValidationError as exc:
        errors["files"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return _Checked(fields, checked_attendance, types)


def _describe_attendance(rows: Mapping[int, tuple[bool, str]], names: Mapping[int, str]) -> str:
    """Readable attendance of some members for the audit trail, e.g. 张三 缺席：生病; 李四 出席."""
    parts = []
    for member_id in sorted(rows, key=lambda pk: (names.get(pk, ""), pk)):
        present, reason = rows[member_id]
        state = _("present") if present else (_("absent: %(reason)s") % {"reason": reason} if reason else _("absent"))
        parts.append(f"{names.get(member_id, member_id)} {state}")
    return "; ".join(parts)


def activity_record(
    *,
    organization: Organization,
    actor: User,
    data: Mapping[str, Any],
    attendance: AttendanceInput,
    files: Sequence[UploadedFile] = (),
) -> Activity:
    """Record a meeting or activity the unit held, with its attendance and attachments."""
    _check_may_record(actor, organization)
    check_unit_active(organization)
    checked = _check_activity(organization, data, attendance, files, today=timezone.localdate())
    stored: list[str] = []
    scope = user_scope(actor)
    try:
        with transaction.atomic(), audit_context(actor, on_behalf_of=scope.principal_for(organization)):
            activity = Activity.objects.create(organization=organization, recorded_by=actor, **checked.fields)
            Attendance.objects.bulk_create(
                [
                    Attendance(activity=activity, member_id=member_id, present=present, absence_reason=reason)
                    for member_id, (present, reason) in checked.attendance.items()
                ]
            )
            if files:
                names = _store_attachments(activity, actor, files, checked.types, stored)
                audit_event(
                    activity,
                    actor=actor,
                    changes={"attachments": ["", "、".join(names)]},
                    on_behalf_of=scope.principal_for(organization),
                )
    except BaseException:
        _delete_files(stored)
        raise
    return activity


def activity_update(
    *,
    activity: Activity,
    actor: User,
    data: Mapping[str, Any],
    attendance: AttendanceInput,
    files: Sequence[UploadedFile] = (),
) -> Activity:
    """Correct a record: its fields, its attendance, and further attachments. The attendance given
    updates the rows kept and adds new ones; a row kept but not given stays as it is (a page that
    leaves someone out must not erase their attendance). The changed fields and every changed
    attendance are audited."""
    unit = activity.organization
    _check_may_change(actor, activity)
    stored: list[str] = []
    scope = user_scope(actor)
    principal = scope.principal_for(unit)
    try:
        with transaction.atomic(), audit_context(actor, on_behalf_of=principal):
            locked = _lock_standing(activity)
            locked.organization = unit
            kept = {
                row.member_id: (row.present, row.absence_reason) for row in Attendance.objects.filter(activity=locked)
            }
            checked = _check_activity(
                unit, data, {**kept, **attendance}, files, activity=locked, today=timezone.localdate()
            )
            _sync_attendance(locked, kept, checked.attendance, actor=actor, on_behalf_of=principal)
            _save_changed_fields(locked, checked.fields)
            if files:
                names = _store_attachments(locked, actor, files, checked.types, stored)
                audit_event(
                    locked, actor=actor, changes={"attachments": ["", "、".join(names)]}, on_behalf_of=principal
                )
    except BaseException:
        _delete_files(stored)
        raise
    return locked


def _sync_attendance(
    activity: Activity,
    before: Mapping[int, tuple[bool, str]],
    wanted: Mapping[int, tuple[bool, str]],
    *,
    actor: User,
    on_behalf_of: User | None,
) -> None:
    """Bring the rows from `before` to `wanted`, which holds every member of `before`: rows are
    updated or added, never deleted."""
    if not selectors.keeps_roster(activity.organization):
        return
    changed = {pk for pk in wanted if before.get(pk) != wanted[pk]}
    if not changed:
        return
    updated = list(Attendance.objects.filter(activity=activity, member_id__in=changed & before.keys()))
    for row in updated:
        row.present, row.absence_reason = wanted[row.member_id]
    Attendance.objects.bulk_update(updated, ["present", "absence_reason"])
    Attendance.objects.bulk_create(
        [
            Attendance(activity=activity, member_id=pk, present=wanted[pk][0], absence_reason=wanted[pk][1])
            for pk in wanted.keys() - before.keys()
        ]
    )
    names = dict(Member.objects.filter(pk__in=changed).values_list("pk", "name"))
    audit_event(
        activity,
        actor=actor,
        changes={
            "attendance": [
                _describe_attendance({pk: before[pk] for pk in changed if pk in before}, names),
                _describe_attendance({pk: wanted[pk] for pk in changed if pk in wanted}, names),
            ]
        },
        on_behalf_of=on_behalf_of,
    )


def activity_attachments_add(*, activity: Activity, actor: User, files: Sequence[UploadedFile]) -> list[str]:
    """Add photos or PDFs to a record later (the signed minutes, say)."""
    unit = activity.organization
    _check_may_change(actor, activity)
    if not files:
        raise ValidationError({"files": [_("Choose at least one file.")]})
    stored: list[str] = []
    principal = user_scope(actor).principal_for(unit)
    try:
        with transaction.atomic(), audit_context(actor, on_behalf_of=principal):
            locked = _lock_standing(activity)
            try:
                types = check_attachments(files, already=locked.attachments.count())
            except ValidationError as exc:
                raise ValidationError({"files": exc.messages}) from exc
            names = _store_attachments(locked, actor, files, types, stored)
            audit_event(locked, actor=actor, changes={"attachments": ["", "、".join(names)]}, on_behalf_of=principal)
    except BaseException:
        _delete_files(stored)
        raise
    return names


def activity_attachment_remove(*, attachment: ActivityAttachment, actor: User) -> None:
    """Remove an attachment added by mistake. The row goes and, once committed, the file; the audit
    entry keeps its name."""
    activity = attachment.activity
    unit = activity.organization
    _check_may_change(actor, activity)
    principal = user_scope(actor).principal_for(unit)
    with transaction.atomic():
        _lock_standing(activity)  # one change to the record at a time
        stored = attachment.file.name
        deleted, _rows = ActivityAttachment.objects.filter(pk=attachment.pk).delete()
        if not deleted:
            return  # removed a moment ago by someone else
        audit_event(activity, actor=actor, changes={"attachments": [attachment.name, ""]}, on_behalf_of=principal)
        transaction.on_commit(lambda: _delete_files([stored]))


def activity_void(*, activity: Activity, reason: str, actor: User) -> Activity:
    """Void a record made by mistake (entered twice, in the wrong branch, a meeting never held), with
    the reason. Voiding, not deleting: the audit trail keeps what was recorded and by whom, and the
    branch's list shows it struck through; it counts nowhere else (completeness, calendar, topics,
    reminders: `ActivityQuerySet.not_voided`)."""
    unit = activity.organization
    _check_may_change(actor, activity)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for voiding the record.")]})
    if len(reason) > Activity._meta.get_field("void_reason").max_length:
        raise ValidationError({"reason": [_("Keep the reason under 200 characters.")]})
    with transaction.atomic(), audit_context(actor, on_behalf_of=user_scope(actor).principal_for(unit)):
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.is_voided:
            raise ValidationError(_("This record has already been voided."))
        locked.voided_at = timezone.now()
        locked.voided_by = actor
        locked.void_reason = reason
        locked.save(update_fields=["voided_at", "voided_by", "void_reason"])  # audited (branches.apps)
    return locked


# --- themed-day topics ---------------------------------------------------------------------------


def _check_county_staff(actor: User, county: Organization) -> None:
    scope = user_scope(actor)
    if not (scope.has_role(Role.COUNTY_STAFF) and scope.manages(county)):
        raise PermissionDenied


def themed_day_topic_save(
    *,
    actor: User,
    county: Organization,
    month: date,
    title: str,
    record_by: date,
    description: str = "",
    topic: ThemedDayTopic | None = None,
) -> ThemedDayTopic:
    """Publish (or correct) the county's topic for a month's themed League day (county staff)."""
    _check_county_staff(actor, county)
    month = selectors.month_start(month)
    fields = {"month": month, "title": title.strip(), "description": description.strip(), "record_by": record_by}
    errors: dict[str, list[str]] = {}
    if not fields["title"]:
        errors["title"] = [_("Give the topic.")]
    if record_by < month:
        errors["record_by"] = [_("The deadline cannot be before the month of the topic.")]
    clash = ThemedDayTopic.objects.filter(county=county, month=month).exclude(pk=getattr(topic, "pk", None))
    if clash.exists():
        errors["month"] = [_("The county already has a topic for %(month)s.") % {"month": f"{month:%Y-%m}"}]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic(), audit_context(actor):
            if topic is None:
                return ThemedDayTopic.objects.create(county=county, created_by=actor, **fields)
            locked = ThemedDayTopic.objects.select_for_update().get(pk=topic.pk, county=county)
            _save_changed_fields(locked, fields)
            return locked
    except IntegrityError as exc:  # another topic for the month was saved a moment ago
        raise ValidationError(
            {"month": [_("The county already has a topic for %(month)s.") % {"month": f"{month:%Y-%m}"}]}
        ) from exc
