"""Writes to accounts and roles. Each service checks the actor's remit, runs in one transaction and
leaves an audit entry.

Who administers whom (三员分立, the separation graded protection asks for):
- county staff: the accounts whose roles all lie in their county (secretaries, township staff,
  Party organizers), and the roles of those kinds in their county;
- the security administrator: every ordinary account of the instance, not the instance-wide
  administrators and not themself;
- the instance-wide roles (system, security, audit administration) are granted only by a superuser,
  the operator who installs the system (`manage.py createsuperuser`), and an account holding one holds
  no other role, so that no administrator can widen their own rights.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
)
from branches.scope import UserScope, forget_scope, user_scope
from branches.security import normalize_username, record_login_event
from branches.selectors import manageable_accounts, may_manage_accounts

# Letters and digits that cannot be mistaken for one another when read out over the phone.
TEMPORARY_PASSWORD_ALPHABETS = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "-+=@#")


def generate_temporary_password(length: int = 16) -> str:
    """Random, from all four character classes (so it meets the policy), easy to dictate."""
    chars = [secrets.choice(alphabet) for alphabet in TEMPORARY_PASSWORD_ALPHABETS]
    letters_and_digits = "".join(TEMPORARY_PASSWORD_ALPHABETS[:3])
    chars += [secrets.choice(letters_and_digits) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _check_manages_account(actor: User, user: User) -> None:
    if not manageable_accounts(actor).filter(pk=user.pk).exists():
        raise PermissionDenied


def _check_binding(
    scope: UserScope,
    *,
    role: str,
    organization: Organization | None,
    party_organization: PartyOrganization | None,
    actor: User,
    granting: bool,
) -> None:
    """May the actor give (or end) this role at this unit? `granting` adds the checks that only
    matter for a new role (a dissolved unit's roles can still be ended)."""
    if role in INSTANCE_ROLES:
        if not actor.is_superuser:
            raise PermissionDenied
        return
    security_admin = actor.is_superuser or scope.has_role(Role.SECURITY_ADMIN)
    if role == Role.PARTY_ORGANIZER:
        if party_organization is None:
            raise ValidationError({"party_organization": _("Choose the Party organization.")})
        if not (security_admin or scope.manages(party_organization.county)):
            raise PermissionDenied
        return
    if organization is None:
        raise ValidationError({"organization": _("Choose the unit this role is for.")})
    if not (security_admin or scope.manages(organization)):
        raise PermissionDenied
    if granting and organization.kind not in ROLE_UNIT_KINDS[role]:
        raise ValidationError(
            {
                "organization": _("The role %(role)s cannot be assigned at %(kind)s.")
                % {"role": Role(role).label, "kind": organization.get_kind_display()}
            }
        )
    if granting and not organization.is_active:
        raise ValidationError({"organization": _("%(unit)s has been dissolved.") % {"unit": organization}})


def _check_combination(user: User, role: str, starts_on: date) -> None:
    """An instance-wide administrator holds no other role, and nobody holds one role twice at once."""
    current = RoleAssignment.objects.filter(user=user).exclude(ends_on__lt=starts_on)
    holds_instance_role = current.filter(role__in=INSTANCE_ROLES).exists()
    if role in INSTANCE_ROLES and (holds_instance_role or current.exists()):
        raise ValidationError({"role": _("An administrator's account holds no other role; use a separate account.")})
    if role not in INSTANCE_ROLES and holds_instance_role:
        raise ValidationError({"role": _("This account belongs to an administrator and cannot take other roles.")})


def _grant(
    *,
    actor: User,
    user: User,
    role: str,
    organization: Organization | None,
    party_organization: PartyOrganization | None,
    starts_on: date | None,
    ends_on: date | None,
    deputy_for: User | None,
    may_export_records: bool = False,
) -> RoleAssignment:
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot change your own roles."))
    _check_binding(
        user_scope(actor),
        role=role,
        organization=organization,
        party_organization=party_organization,
        actor=actor,
        granting=True,
    )
    starts_on = starts_on or timezone.localdate()
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The end date cannot be before the start date.")})
    organization = organization if role in ROLE_UNIT_KINDS else None
    party_organization = party_organization if role == Role.PARTY_ORGANIZER else None
    _check_combination(user, role, starts_on)
    same = RoleAssignment.objects.filter(
        user=user, role=role, organization=organization, party_organization=party_organization
    )
    if same.exclude(ends_on__lt=starts_on).exists():
        raise ValidationError({"role": _("The account already holds this role at this unit.")})
    if deputy_for is not None:
        if deputy_for.pk == user.pk:
            raise ValidationError({"deputy_for": _("An account cannot be its own deputy.")})
        principal_role = (
            RoleAssignment.objects.active_on(starts_on)
            .filter(
                user=deputy_for,
                role=role,
                organization=organization,
                party_organization=party_organization,
                deputy_for__isnull=True,
            )
            .first()
        )
        if principal_role is None:
            raise ValidationError(
                {"deputy_for": _("%(principal)s does not hold this role at this unit.") % {"principal": deputy_for}}
            )
        # A deputy's rights never outlast the principal's.
        if principal_role.ends_on is not None:
            ends_on = min(ends_on or principal_role.ends_on, principal_role.ends_on)
    with transaction.atomic(), audit_context(actor):
        assignment = RoleAssignment.objects.create(
            user=user,
            role=role,
            organization=organization,
            party_organization=party_organization,
            starts_on=starts_on,
            ends_on=ends_on,
            deputy_for=deputy_for,
            may_export_records=may_export_records and organization is not None,
        )
    forget_scope(user)
    return assignment


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
    may_export_records: bool = False,
) -> RoleAssignment:
    if not actor.is_superuser:
        _check_manages_account(actor, user)
    return _grant(
        actor=actor,
        user=user,
        role=role,
        organization=organization,
        party_organization=party_organization,
        starts_on=starts_on,
        ends_on=ends_on,
        deputy_for=deputy_for,
        may_export_records=may_export_records,
    )


def role_end(*, actor: User, assignment: RoleAssignment, on_date: date) -> RoleAssignment:
    """End a role on `on_date` (its last day); the deputies standing in for it end with it."""
    if assignment.user_id == actor.pk:
        raise ValidationError(_("You cannot change your own roles."))
    if not actor.is_superuser:
        _check_manages_account(actor, assignment.user)
    _check_binding(
        user_scope(actor),
        role=assignment.role,
        organization=assignment.organization,
        party_organization=assignment.party_organization,
        actor=actor,
        granting=False,
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
        for deputy in deputies.exclude(ends_on__lte=on_date):
            deputy.ends_on = max(on_date, deputy.starts_on)
            deputy.save(update_fields=["ends_on"])
    forget_scope(locked.user)
    return locked


def role_hand_over(*, actor: User, assignment: RoleAssignment, successor: User, on_date: date) -> RoleAssignment:
    """Hand a role to a successor in one action: the holder's rights end the day before `on_date`
    (or the day the role began, if it began that late), the successor's begin on it."""
    if successor.pk == assignment.user_id:
        raise ValidationError({"successor": _("The successor must be a different account.")})
    if assignment.deputy_for_id:
        raise ValidationError(_("A deputy's role is not handed over; end it instead."))
    with transaction.atomic():
        last_day = max(on_date - timedelta(days=1), assignment.starts_on)
        role_end(actor=actor, assignment=assignment, on_date=last_day)
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
    may_export_records: bool = False,
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
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:  # taken a moment ago by someone else
            raise ValidationError({"username": _("This username is taken.")}) from exc
        _grant(
            actor=actor,
            user=user,
            role=role,
            organization=organization,
            party_organization=party_organization,
            starts_on=starts_on,
            ends_on=None,
            deputy_for=deputy_for,
            may_export_records=may_export_records,
        )
    return user, password


def account_reset_password(*, actor: User, user: User) -> str:
    """Issue a temporary password; the account must replace it at its next sign-in."""
    if user.pk == actor.pk:
        raise ValidationError(_("Change your own password from your account menu."))
    _check_manages_account(actor, user)
    password = generate_temporary_password()
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        audit_event(user, actor=actor, changes={"password": ["", "reset_by_administrator"]})
    return password


def account_set_active(*, actor: User, user: User, active: bool) -> User:
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot disable your own account."))
    _check_manages_account(actor, user)
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
        how = "reset_link" if by_reset_link else "changed_by_owner"
        audit_event(user, actor=user, changes={"password": ["", how]})
