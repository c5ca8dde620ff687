"""Writes to member records. Each service checks the actor's right, the League's rules (domain.md
§4–§5, locality settings in LEAGUE_RULES), runs in one transaction and leaves an audit entry.

Rule violations raise ValidationError keyed by form field, so a page shows each next to its field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.audit import audit_context, audit_event
from branches.models import STAFF_ROLES, Organization, User
from branches.scope import user_scope
from members import idnumbers
from members.models import Member, add_years

MEMBER_FIELDS = (
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "native_place",
    "phone",
    "education",
    "occupation",
    "workplace",
    "joined_on",
    "admission_number",
    "card_number",
    "league_post",
    "political_status",
    "notes",
)


def may_edit_members_in(actor: User, branch: Organization) -> bool:
    """Secretaries (and their deputies), township and county staff, for branches in their units."""
    scope = user_scope(actor)
    return any(branch.path.startswith(path) for path in scope.record_paths)


def may_see_full_id_numbers(actor: User, branch: Organization | None = None) -> bool:
    """County and township staff verify identities against the national platform, for the units they
    manage; others see masks. Without a branch: whether the user may for some unit."""
    if actor.is_superuser:
        return True
    scope = user_scope(actor)
    return scope.manages(branch) if branch is not None else scope.has_role(*STAFF_ROLES)


def check_member_rules(fields: dict[str, Any], *, id_number: str, today: date | None = None) -> dict[str, Any]:
    """The record's own consistency rules. Returns the fields completed from the ID number (birth
    date and sex, where not given); raises ValidationError naming every field that is wrong."""
    today = today or timezone.localdate()
    rules = settings.LEAGUE_RULES
    errors: dict[str, list[str]] = {}
    completed = dict(fields)
    try:
        number = idnumbers.validate_id_number(id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.messages
        number = None
    if number:
        born = idnumbers.birth_date_of(number)
        sex = idnumbers.sex_of(number)
        if completed.get("birth_date") in (None, ""):
            completed["birth_date"] = born
        elif completed["birth_date"] != born:
            errors["birth_date"] = [_("The ID number gives %(day)s as the date of birth.") % {"day": born.isoformat()}]
        if not completed.get("sex"):
            completed["sex"] = sex
        elif completed["sex"] != sex:
            errors["sex"] = [_("The ID number belongs to a person of the other sex.")]
    birth_date, joined_on = completed.get("birth_date"), completed.get("joined_on")
    if birth_date and birth_date > today:
        errors.setdefault("birth_date", []).append(_("The date of birth cannot be in the future."))
    if joined_on:
        if joined_on > today:
            errors["joined_on"] = [_("The joining date cannot be in the future.")]
        elif birth_date and joined_on <= birth_date:
            errors["joined_on"] = [_("The joining date must come after the date of birth.")]
        elif birth_date and joined_on < add_years(birth_date, rules["joining_age"]):
            errors["joined_on"] = [
                _("Members join at %(age)d or older; this date is before the member's %(age)dth birthday.")
                % {"age": rules["joining_age"]}
            ]
    if errors:
        raise ValidationError(errors)
    return completed


def _check_branch(actor: User, branch: Organization) -> None:
    if not may_edit_members_in(actor, branch):
        raise PermissionDenied
    if not branch.is_branch:
        raise ValidationError({"branch": _("Members are recorded in branches only.")})
    if not branch.is_active:
        raise ValidationError({"branch": _("%(branch)s has been dissolved.") % {"branch": branch}})


def _check_not_active_elsewhere(actor: User, number: str, *, exclude_pk: int | None = None) -> None:
    other = Member.objects.active().with_id_number(number).exclude(pk=exclude_pk).select_related("branch").first()
    if other is None:
        return
    where = other.branch.name if may_edit_members_in(actor, other.branch) else _("a branch outside your units")
    raise ValidationError(
        {
            "id_number": _(
                "This person is already an active member in %(branch)s. Ask for a transfer instead of a new record."
            )
            % {"branch": where}
        }
    )


def member_create(*, actor: User, branch: Organization, id_number: str, **fields: Any) -> Member:
    _check_branch(actor, branch)
    fields = check_member_rules(fields, id_number=id_number)
    number = idnumbers.normalize(id_number)
    _check_not_active_elsewhere(actor, number)
    with transaction.atomic(), audit_context(actor, on_behalf_of=user_scope(actor).principal_for(branch)):
        member = Member(branch=branch, **{name: fields[name] for name in MEMBER_FIELDS if name in fields})
        member.id_number = number
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError as exc:  # a concurrent create of the same person won the race
            raise ValidationError({"id_number": _("This person has just been recorded by someone else.")}) from exc
    return member


def member_update(*, actor: User, member: Member, id_number: str | None = None, **fields: Any) -> Member:
    _check_branch(actor, member.branch)
    if not member.is_active:
        raise ValidationError(_("Only active members' records are edited; reinstate the member first."))
    current = {name: getattr(member, name) for name in MEMBER_FIELDS}
    new_number = idnumbers.normalize(id_number) if id_number else None
    fields = check_member_rules({**current, **fields}, id_number=new_number or member.id_number)
    if new_number and new_number != member.id_number:
        _check_not_active_elsewhere(actor, new_number, exclude_pk=member.pk)
    with transaction.atomic(), audit_context(actor, on_behalf_of=user_scope(actor).principal_for(member.branch)):
        locked = Member.objects.select_for_update().get(pk=member.pk)
        changed = [name for name in MEMBER_FIELDS if getattr(locked, name) != fields[name]]
        for name in changed:
            setattr(locked, name, fields[name])
        if new_number and new_number != locked.id_number:
            locked.id_number = new_number
            changed += ["id_number_encrypted", "id_number_hash", "id_number_masked", "id_number_tail"]
        if changed:
            try:
                with transaction.atomic():
                    locked.save(update_fields=[*changed, "updated_at"])
            except IntegrityError as exc:  # the new number was recorded elsewhere a moment ago
                raise ValidationError({"id_number": _("This person has just been recorded by someone else.")}) from exc
    return locked


def member_reveal_id_number(*, actor: User, member: Member) -> str:
    """The full number for a role that needs it; each look is recorded in the audit trail."""
    if not may_see_full_id_numbers(actor, member.branch):
        raise PermissionDenied
    audit_event(member, actor=actor, changes={"full_id_number": ["", "viewed"]}, action=LogEntry.Action.ACCESS)
    return member.id_number
