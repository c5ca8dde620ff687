"""Writes to the organization tree and the Party organizations (accounts: account_services.py). Each service checks the actor's right, runs in
one transaction and leaves an audit entry; views and commands call these, never `save()` directly.

Errors: `PermissionDenied` when the actor's role may not do this at all, `ValidationError` (with a
message for the user) when the rules of the tree or of accounts refuse it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from treebeard.exceptions import InvalidMoveToDescendant

from branches.audit import audit_context, audit_event
from branches.models import (
    Organization,
    OrganizationKind,
    PartyOrganization,
    Role,
    RoleAssignment,
    User,
)
from branches.scope import user_scope

ORGANIZATION_EDITABLE_FIELDS = (
    "name",
    "code",
    "sector",
    "founded_on",
    "approved_by",
    "party_organization",
    "contact_phone",
)


def _save_changed_fields(instance: Any, fields: dict[str, Any]) -> None:
    """Save only the fields whose value changes, so the audit entry lists exactly those."""
    changed = [name for name, value in fields.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, fields[name])
    if changed:
        instance.save(update_fields=changed)


# --- the organization tree -------------------------------------------------------------------


def _check_code_free(code: str, *, exclude_pk: int | None = None) -> None:
    clash = Organization.objects.filter(code=code)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"code": _("Another unit already uses the code %(code)s.") % {"code": code}})


def check_unit_active(unit: Organization, *, field: str | None = None) -> None:
    """Refuse to change anything of a dissolved unit (its record is kept as it was); `field` keys
    the error to a form field."""
    if not unit.is_active:
        message = _("%(unit)s has been dissolved; its record can no longer change.") % {"unit": unit}
        raise ValidationError({field: message} if field else message)


def _check_parent_may_hold(parent: Organization, kind: str) -> None:
    if not parent.is_active:
        raise ValidationError(_("%(parent)s has been dissolved and cannot take new units.") % {"parent": parent})
    if not parent.may_hold(kind):
        raise ValidationError(
            _("%(kind)s cannot be placed under %(parent_kind)s.")
            % {"kind": OrganizationKind(kind).label, "parent_kind": parent.get_kind_display()}
        )


def _lock(*units: Organization) -> list[Organization]:
    """Re-read units with their rows locked, in primary-key order (no deadlock between two writers)."""
    locked = {u.pk: u for u in Organization.objects.select_for_update().filter(pk__in=[u.pk for u in units])}
    return [locked[u.pk] for u in units]


def organization_create(*, actor: User, parent: Organization, kind: str, **fields: Any) -> Organization:
    scope = user_scope(actor)
    if not scope.manages(parent):
        raise PermissionDenied
    _check_code_free(fields["code"])
    with transaction.atomic(), audit_context(actor, on_behalf_of=scope.principal_for(parent)):
        (parent,) = _lock(parent)
        _check_parent_may_hold(parent, kind)  # after the lock: a dissolve may have just happened
        try:
            with transaction.atomic():
                return Organization.objects.add_child(parent, {"kind": kind, **fields})
        except IntegrityError as exc:  # a concurrent create took the code first
            raise ValidationError({"code": _("Another unit already uses this code.")}) from exc


def organization_update(*, actor: User, organization: Organization, **fields: Any) -> Organization:
    scope = user_scope(actor)
    if not scope.manages(organization):
        raise PermissionDenied
    unknown = set(fields) - set(ORGANIZATION_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    if "code" in fields:
        _check_code_free(fields["code"], exclude_pk=organization.pk)
    with transaction.atomic(), audit_context(actor, on_behalf_of=scope.principal_for(organization)):
        (locked,) = _lock(organization)
        check_unit_active(locked)
        try:
            with transaction.atomic():
                _save_changed_fields(locked, fields)
        except IntegrityError as exc:
            raise ValidationError({"code": _("Another unit already uses this code.")}) from exc
        return locked


def organization_move(*, actor: User, organization: Organization, new_parent: Organization) -> Organization:
    """Move a unit, with everything under it, under another unit. History stays with the unit."""
    scope = user_scope(actor)
    if not scope.manages_strictly_below(organization) or not scope.manages(new_parent):
        raise PermissionDenied
    with transaction.atomic():
        locked, new_parent = _lock(organization, new_parent)
        # Checked on the locked rows: a concurrent move or dissolve cannot slip in between.
        check_unit_active(locked)
        if new_parent.path.startswith(locked.path):
            raise ValidationError(_("A unit cannot be moved under itself or under one of its own sub-units."))
        old_parent = Organization.objects.get_parent(locked)
        if old_parent is not None and old_parent.pk == new_parent.pk:
            raise ValidationError(
                _("%(unit)s is already directly under %(parent)s.") % {"unit": locked, "parent": new_parent}
            )
        _check_parent_may_hold(new_parent, locked.kind)
        try:
            Organization.objects.move(locked, new_parent, "sorted-child")
        except InvalidMoveToDescendant as exc:
            raise ValidationError(_("A unit cannot be moved under itself or under one of its own sub-units.")) from exc
        # treebeard moves with queryset updates, which auditlog does not see: record the move here.
        audit_event(
            locked,
            actor=actor,
            changes={"parent": [old_parent, new_parent]},
            on_behalf_of=scope.principal_for(organization),
        )
        return Organization.objects.get(pk=organization.pk)


def organization_dissolve(*, actor: User, organization: Organization, on_date: date, reason: str) -> Organization:
    """Mark a unit dissolved. It stays in the tree, greyed out, with its history; the roles held at
    it end on the dissolution date."""
    scope = user_scope(actor)
    if not scope.manages_strictly_below(organization):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for dissolving the unit.")})
    if on_date > timezone.localdate():
        raise ValidationError({"on_date": _("The dissolution date cannot be in the future.")})
    if organization.founded_on and on_date < organization.founded_on:
        raise ValidationError({"on_date": _("The dissolution date cannot be before the founding date.")})
    with transaction.atomic(), audit_context(actor, on_behalf_of=scope.principal_for(organization)):
        (locked,) = _lock(organization)
        if not locked.is_active:
            raise ValidationError(_("%(unit)s has already been dissolved.") % {"unit": locked})
        active_children = Organization.objects.filter(
            path__startswith=locked.path, depth=locked.depth + 1, dissolved_on__isnull=True
        )
        if active_children.exists():
            raise ValidationError(_("Dissolve or move the units under %(unit)s first.") % {"unit": locked})
        locked.dissolved_on = on_date
        locked.dissolution_reason = reason.strip()
        locked.save(update_fields=["dissolved_on", "dissolution_reason"])
        for role in RoleAssignment.objects.select_for_update().filter(organization=locked).active_on(on_date):
            role.ends_on = max(on_date, role.starts_on)
            role.save(update_fields=["ends_on"])
        return locked


# --- Party organizations ----------------------------------------------------------------------


def _check_manages_county(actor: User, county: Organization) -> None:
    scope = user_scope(actor)
    if not (scope.has_role(Role.COUNTY_STAFF) and scope.manages(county)):
        raise PermissionDenied


def _check_party_name_free(county: Organization, name: str, *, exclude_pk: int | None = None) -> None:
    clash = PartyOrganization.objects.filter(county=county, name=name).exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": _("The county already has a Party organization of this name.")})


def party_organization_create(*, actor: User, county: Organization, name: str, **fields: Any) -> PartyOrganization:
    """Record a Party organization of the county, so that units can be paired with it (county staff)."""
    _check_manages_county(actor, county)
    _check_party_name_free(county, name)
    with transaction.atomic(), audit_context(actor):
        return PartyOrganization.objects.create(county=county, name=name, **fields)


def party_organization_update(
    *, actor: User, party_organization: PartyOrganization, **fields: Any
) -> PartyOrganization:
    _check_manages_county(actor, party_organization.county)
    if "name" in fields:
        _check_party_name_free(party_organization.county, fields["name"], exclude_pk=party_organization.pk)
    with transaction.atomic(), audit_context(actor):
        locked = PartyOrganization.objects.select_for_update().get(pk=party_organization.pk)
        _save_changed_fields(locked, fields)
        return locked
