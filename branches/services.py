"""Writes to the organization tree and to accounts. Each service checks the actor's right, runs in
one transaction and leaves an audit entry; views and commands call these, never `save()` directly.

Errors: `PermissionDenied` when the actor's role may not do this at all, `ValidationError` (with a
message for the user) when the rules of the tree or of accounts refuse it.
"""

from __future__ import annotations

import secrets
import string
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from treebeard.exceptions import InvalidMoveToDescendant

from branches.audit import audit_context, audit_event
from branches.models import (
    INSTANCE_ROLES,
    ROLE_UNIT_KINDS,
    LoginEvent,
    Organization,
    PartyOrganization,
    Role,
    RoleAssignment,
    User,
    subtree_filter,
)
from branches.scope import UserScope, forget_scope, user_scope
from branches.security import normalize_username, record_login_event

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


def _check_parent_may_hold(parent: Organization, kind: str) -> None:
    if not parent.is_active:
        raise ValidationError(_("%(parent)s has been dissolved and cannot take new units.") % {"parent": parent})
    if not parent.may_hold(kind):
        raise ValidationError(
            _("%(kind)s cannot be placed under %(parent_kind)s.")
            % {"kind": _kind_label(kind), "parent_kind": parent.get_kind_display()}
        )


def _kind_label(kind: str) -> str:
    return str(dict(Organization._meta.get_field("kind").choices)[kind])


def organization_create(*, actor: User, parent: Organization, kind: str, **fields: Any) -> Organization:
    scope = user_scope(actor)
    if not scope.manages(parent):
        raise PermissionDenied
    _check_parent_may_hold(parent, kind)
    _check_code_free(fields["code"])
    with transaction.atomic(), audit_context(actor, on_behalf_of=scope.principal_for(parent)):
        parent = Organization.objects.select_for_update().get(pk=parent.pk)
        try:
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
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        _save_changed_fields(locked, fields)
        return locked


def organization_move(*, actor: User, organization: Organization, new_parent: Organization) -> Organization:
    """Move a unit, with everything under it, under another unit. History stays with the unit."""
    scope = user_scope(actor)
    if not scope.manages_strictly_below(organization) or not scope.manages(new_parent):
        raise PermissionDenied
    if new_parent.pk == organization.pk or new_parent.path.startswith(organization.path):
        raise ValidationError(_("A unit cannot be moved under itself or under one of its own sub-units."))
    old_parent = Organization.objects.get_parent(organization)
    if old_parent is not None and old_parent.pk == new_parent.pk:
        raise ValidationError(
            _("%(unit)s is already directly under %(parent)s.") % {"unit": organization, "parent": new_parent}
        )
    _check_parent_may_hold(new_parent, organization.kind)
    with transaction.atomic():
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
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
    """Mark a unit dissolved. It stays in the tree, greyed out, with its history."""
    scope = user_scope(actor)
    if not scope.manages_strictly_below(organization):
        raise PermissionDenied
    if not organization.is_active:
        raise ValidationError(_("%(unit)s has already been dissolved.") % {"unit": organization})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for dissolving the unit.")})
    if on_date > timezone.localdate():
        raise ValidationError({"on_date": _("The dissolution date cannot be in the future.")})
    with transaction.atomic(), audit_context(actor, on_behalf_of=scope.principal_for(organization)):
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        active_children = Organization.objects.filter(
            path__startswith=locked.path, depth=locked.depth + 1, dissolved_on__isnull=True
        )
        if active_children.exists():
            raise ValidationError(_("Dissolve or move the units under %(unit)s first.") % {"unit": locked})
        locked.dissolved_on = on_date
        locked.dissolution_reason = reason.strip()
        locked.save(update_fields=["dissolved_on", "dissolution_reason"])
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


# --- accounts and roles -----------------------------------------------------------------------


def may_manage_accounts(actor: User) -> bool:
    return user_scope(actor).has_role(Role.COUNTY_STAFF, Role.SECURITY_ADMIN) or actor.is_superuser


def _check_may_grant(
    scope: UserScope,
    *,
    role: str,
    organization: Organization | None,
    party_organization: PartyOrganization | None,
    is_superuser: bool,
) -> None:
    security_admin = is_superuser or scope.has_role(Role.SECURITY_ADMIN)
    if role in INSTANCE_ROLES:
        if not security_admin:
            raise PermissionDenied
        return
    if role == Role.PARTY_ORGANIZER:
        if party_organization is None:
            raise ValidationError({"party_organization": _("Choose the Party organization.")})
        if not (security_admin or scope.manages(party_organization.county)):
            raise PermissionDenied
        return
    if organization is None:
        raise ValidationError({"organization": _("Choose the unit this role is for.")})
    if organization.kind not in ROLE_UNIT_KINDS[role]:
        raise ValidationError(
            {
                "organization": _("The role %(role)s cannot be assigned at %(kind)s.")
                % {"role": Role(role).label, "kind": organization.get_kind_display()}
            }
        )
    if not organization.is_active:
        raise ValidationError({"organization": _("%(unit)s has been dissolved.") % {"unit": organization}})
    if not (security_admin or scope.manages(organization)):
        raise PermissionDenied


def manageable_accounts(actor: User):
    """Accounts the actor may administer: all for security administrators; for county staff, the
    accounts whose roles all lie inside their county and that hold no instance-wide role."""
    scope = user_scope(actor)
    if actor.is_superuser or scope.has_role(Role.SECURITY_ADMIN):
        return User.objects.all()
    if not scope.has_role(Role.COUNTY_STAFF):
        return User.objects.none()
    inside = subtree_filter(scope.managed_paths, "organization__path") | subtree_filter(
        scope.managed_paths, "party_organization__county__path"
    )
    in_scope = RoleAssignment.objects.filter(inside).values("user_id")
    outside = RoleAssignment.objects.exclude(inside).values("user_id")
    return User.objects.filter(pk__in=in_scope).exclude(pk__in=outside).exclude(is_superuser=True)


def get_manageable_account(actor: User, pk: int) -> User:
    """For views: the account, or 404 whether it is missing or outside the actor's remit."""
    return get_object_or_404(manageable_accounts(actor), pk=pk)


def _check_manages_account(actor: User, user: User) -> None:
    if not manageable_accounts(actor).filter(pk=user.pk).exists():
        raise PermissionDenied


def generate_temporary_password() -> str:
    """16 random characters from all four classes, so it satisfies the password policy."""
    pools = [string.ascii_uppercase, string.ascii_lowercase, string.digits, "!@#$%^&*-_=+?"]
    chars = [secrets.choice(pool) for pool in pools]
    chars += [secrets.choice("".join(pools)) for _ in range(12)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


SYSTEM_ADMIN_GROUP = "System administrators"
# The system administrator configures the system in the Django admin: schedules and the Party
# organizations; the tree is read-only there. No rights on accounts or the audit trail (三员分立).
SYSTEM_ADMIN_PERMISSIONS = {
    "django_celery_beat": ["periodictask", "crontabschedule", "intervalschedule", "clockedschedule", "solarschedule"],
    "branches": ["partyorganization"],
}


def sync_admin_site_access(user: User) -> None:
    """Give the Django admin to exactly the accounts holding an active system administrator role."""
    is_system_admin = RoleAssignment.objects.active_on().filter(user=user, role=Role.SYSTEM_ADMIN).exists()
    if user.is_staff != is_system_admin:
        user.is_staff = is_system_admin
        user.save(update_fields=["is_staff"])
    group = _system_admin_group()
    if is_system_admin:
        user.groups.add(group)
    else:
        user.groups.remove(group)


def _system_admin_group() -> Group:
    group, created = Group.objects.get_or_create(name=SYSTEM_ADMIN_GROUP)
    if created:
        grants = Q()
        for app_label, models_ in SYSTEM_ADMIN_PERMISSIONS.items():
            grants |= Q(content_type__app_label=app_label, content_type__model__in=models_)
        grants |= Q(content_type__app_label="branches", codename="view_organization")
        group.permissions.set(Permission.objects.filter(grants))
    return group


def role_grant(
    *,
    actor: User,
    user: User,
    role: str,
    organization: Organization | None = None,
    party_organization: PartyOrganization | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    deputy_for: User | None = None,
) -> RoleAssignment:
    scope = user_scope(actor)
    _check_may_grant(
        scope,
        role=role,
        organization=organization,
        party_organization=party_organization,
        is_superuser=actor.is_superuser,
    )
    starts_on = starts_on or timezone.localdate()
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The end date cannot be before the start date.")})
    if deputy_for is not None:
        if deputy_for.pk == user.pk:
            raise ValidationError({"deputy_for": _("An account cannot be its own deputy.")})
        principal_holds_role = (
            RoleAssignment.objects.active_on(starts_on)
            .filter(user=deputy_for, role=role, organization=organization, party_organization=party_organization)
            .exists()
        )
        if not principal_holds_role:
            raise ValidationError(
                {"deputy_for": _("%(principal)s does not hold this role at this unit.") % {"principal": deputy_for}}
            )
    with transaction.atomic(), audit_context(actor):
        assignment = RoleAssignment.objects.create(
            user=user,
            role=role,
            organization=organization if role in ROLE_UNIT_KINDS else None,
            party_organization=party_organization if role == Role.PARTY_ORGANIZER else None,
            starts_on=starts_on,
            ends_on=ends_on,
            deputy_for=deputy_for,
        )
        sync_admin_site_access(user)
    forget_scope(user)
    return assignment


def role_end(*, actor: User, assignment: RoleAssignment, on_date: date) -> RoleAssignment:
    """End a role on `on_date` (its last day); the deputies standing in for it end with it."""
    _check_manages_account(actor, assignment.user)
    _check_may_grant(
        user_scope(actor),
        role=assignment.role,
        organization=assignment.organization,
        party_organization=assignment.party_organization,
        is_superuser=actor.is_superuser,
    )
    with transaction.atomic(), audit_context(actor):
        locked = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.ends_on is not None and locked.ends_on <= on_date:
            raise ValidationError(_("This role has already ended."))
        if on_date < locked.starts_on:
            raise ValidationError({"on_date": _("A role cannot end before it starts.")})
        locked.ends_on = on_date
        locked.save(update_fields=["ends_on"])
        deputies = RoleAssignment.objects.select_for_update().filter(
            deputy_for=locked.user,
            role=locked.role,
            organization=locked.organization,
            party_organization=locked.party_organization,
        )
        for deputy in deputies.active_on(on_date):
            deputy.ends_on = on_date
            deputy.save(update_fields=["ends_on"])
        sync_admin_site_access(locked.user)
    return locked


def role_hand_over(*, actor: User, assignment: RoleAssignment, successor: User, on_date: date) -> RoleAssignment:
    """Hand a role to a successor in one action: the holder's rights end the day before `on_date`,
    the successor's begin on it (e.g. a branch secretary's term ends and the new one takes over)."""
    if successor.pk == assignment.user_id:
        raise ValidationError({"successor": _("The successor must be a different account.")})
    if assignment.deputy_for_id:
        raise ValidationError(_("A deputy's role is not handed over; end it instead."))
    with transaction.atomic():
        role_end(actor=actor, assignment=assignment, on_date=on_date - timedelta(days=1))
        return role_grant(
            actor=actor,
            user=successor,
            role=assignment.role,
            organization=assignment.organization,
            party_organization=assignment.party_organization,
            starts_on=on_date,
        )


def account_create(
    *,
    actor: User,
    username: str,
    full_name: str,
    phone: str = "",
    email: str = "",
    role: str,
    organization: Organization | None = None,
    party_organization: PartyOrganization | None = None,
    starts_on: date | None = None,
    deputy_for: User | None = None,
) -> tuple[User, str]:
    """Create an account with its first role and a temporary password, returned once to show."""
    if not may_manage_accounts(actor):
        raise PermissionDenied
    username = normalize_username(username)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    password = generate_temporary_password()
    with transaction.atomic(), audit_context(actor):
        user = User(username=username, full_name=full_name, phone=phone, email=email, must_change_password=True)
        user.set_password(password)
        user.save()
        role_grant(
            actor=actor,
            user=user,
            role=role,
            organization=organization,
            party_organization=party_organization,
            starts_on=starts_on,
            deputy_for=deputy_for,
        )
    return user, password


def account_reset_password(*, actor: User, user: User) -> str:
    """Issue a temporary password; the account must replace it at its next sign-in."""
    _check_manages_account(actor, user)
    if user.pk == actor.pk:
        raise ValidationError(_("Change your own password from your account menu."))
    password = generate_temporary_password()
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        audit_event(user, actor=actor, changes={"password": ["", "reset by administrator"]})
    return password


def account_set_active(*, actor: User, user: User, active: bool) -> User:
    _check_manages_account(actor, user)
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot disable your own account."))
    with transaction.atomic(), audit_context(actor):
        user.is_active = active
        user.save(update_fields=["is_active"])
    return user


def account_unlock(*, actor: User, username: str) -> LoginEvent:
    """Lift a sign-in lock early (security administrator); failures before it no longer count."""
    if not (actor.is_superuser or user_scope(actor).has_role(Role.SECURITY_ADMIN)):
        raise PermissionDenied
    account = User.objects.filter(username=normalize_username(username)).first()
    with transaction.atomic():
        event = record_login_event(LoginEvent.Kind.UNLOCKED, username, user=account)
        if account is not None:
            audit_event(account, actor=actor, changes={"sign_in_lock": ["locked", "unlocked"]})
    return event


def account_password_changed(*, user: User, by_reset_link: bool = False) -> None:
    """After the owner set a new password: the temporary one (if any) is gone, and it is audited."""
    with transaction.atomic():
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        how = "reset link" if by_reset_link else "changed by owner"
        audit_event(user, actor=user, changes={"password": ["", how]})
