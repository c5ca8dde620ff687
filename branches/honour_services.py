"""Recording honours (荣誉) of members and units, and revoking a mistaken record (domain.md §0: honours
feed the 推优 pool). Each service checks the actor's right, runs in one transaction and leaves an
audit entry (Honour is registered with auditlog: the creation entry holds every value).

Who records: the people who keep the recipient's records, that is staff over the recipient and the
secretary (or deputy) of the recipient's branch. Honours are usually issued above the branch; the
secretary only records them. Party organizers and the instance-wide administrators record none.
Who revokes: whoever recorded the honour (a typo), and staff above the recipient's unit; a branch
does not undo what the county recorded of it (honours make 推优 priority candidates).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.audit import audit_context
from branches.models import Honour, HonourLevel, HonourTitle, Organization, User
from branches.scope import user_scope
from branches.services import check_unit_active
from members.models import Member
from members.services import may_edit_members_in

# The People's Republic, and with it the League's present honours, begins in 1949.
FIRST_HONOUR_YEAR = 1949


def may_record_honours(actor: User, unit: Organization) -> bool:
    """Whether the actor records honours of this unit and of its members: the same people who keep
    its member records (staff above it, its secretary and deputy)."""
    return may_edit_members_in(actor, unit)


def may_revoke_honour(actor: User, honour: Honour) -> bool:
    """Whether the actor may mark the honour as a mistake. An honour is evidence for the 推优 pool,
    so nobody certifies their own: only staff above the recipient's unit (or the county's) revoke
    what someone else recorded. Whoever recorded it (or their deputy) may still revoke their own typo."""
    unit = honour_unit(honour)
    if not may_record_honours(actor, unit):
        return False
    scope = user_scope(actor)
    principal = scope.principal_for(unit)
    recorded_it = honour.recorded_by_id in {actor.pk, getattr(principal, "pk", None)}
    return recorded_it or scope.oversees(unit)


def honour_unit(honour: Honour) -> Organization:
    """The unit whose records the honour belongs to: the member's branch, or the honoured unit."""
    return honour.member.branch if honour.member_id else honour.organization


def _recipient_unit(member: Member | None, organization: Organization | None) -> Organization:
    if (member is None) == (organization is None):
        raise ValidationError(_("An honour goes to one member or to one unit."))
    return member.branch if member is not None else organization


def _check_award(
    *, title: HonourTitle, level: str, year: int, issuer: str, member: Member | None, organization: Organization | None
) -> None:
    if organization is not None:
        check_unit_active(organization, field="organization")
    errors: dict[str, str] = {}
    if member is not None and not title.for_members:
        errors["title"] = _("%(title)s is not awarded to people.") % {"title": title}
    if organization is not None and not title.for_units:
        errors["title"] = _("%(title)s is not awarded to units.") % {"title": title}
    if level not in HonourLevel.values:
        errors["level"] = _("Choose the level of the honour.")
    this_year = timezone.localdate().year
    if year > this_year:
        errors["year"] = _("The year cannot be in the future.")
    elif year < FIRST_HONOUR_YEAR:
        errors["year"] = _("The year cannot be before %(year)d.") % {"year": FIRST_HONOUR_YEAR}
    if not issuer.strip():
        errors["issuer"] = _("Give the organization that issued the honour.")
    if member is not None and not member.is_active:
        errors["member"] = _("%(name)s is no longer an active member; honours are recorded for active members.") % {
            "name": member.name
        }
    if errors:
        raise ValidationError(errors)


def _duplicate_error(recipient: Member | Organization, title: HonourTitle, level: str, year: int) -> ValidationError:
    return ValidationError(
        _("%(recipient)s already holds %(title)s (%(level)s level) for %(year)d.")
        % {"recipient": recipient, "title": title, "level": HonourLevel(level).label, "year": year}
    )


def honour_award(
    *,
    actor: User,
    title: HonourTitle,
    level: str,
    year: int,
    issuer: str,
    member: Member | None = None,
    organization: Organization | None = None,
    note: str = "",
) -> Honour:
    """Record an honour given to one member or one unit."""
    unit = _recipient_unit(member, organization)
    if not may_record_honours(actor, unit):
        raise PermissionDenied
    _check_award(title=title, level=level, year=year, issuer=issuer, member=member, organization=organization)
    recipient = member if member is not None else organization
    same = Honour.objects.current().filter(title=title, level=level, year=year)
    same = same.filter(member=member) if member is not None else same.filter(organization=organization)
    if same.exists():
        raise _duplicate_error(recipient, title, level, year)
    with transaction.atomic(), audit_context(actor, on_behalf_of=user_scope(actor).principal_for(unit)):
        try:
            with transaction.atomic():
                return Honour.objects.create(
                    title=title,
                    level=level,
                    year=year,
                    issuer=issuer.strip(),
                    member=member,
                    organization=organization,
                    note=note.strip(),
                    recorded_by=actor,
                )
        except IntegrityError as exc:  # the same honour was recorded a moment ago (unique constraint)
            raise _duplicate_error(recipient, title, level, year) from exc


def honour_revoke(*, honour: Honour, actor: User, reason: str) -> Honour:
    """Mark an honour recorded by mistake as revoked, with the reason.

    Revoking, not deleting: the audit trail is append-only, and the member's timeline finds honour
    entries through the honour rows (branches.honour_selectors), so a deleted row would leave its
    entries unreachable from the member. The row stays, out of every list of current honours and of
    the 推优 priority (HonourQuerySet.current), and may be recorded again correctly.
    """
    unit = honour_unit(honour)
    if not may_revoke_honour(actor, honour):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for revoking the honour.")})
    with transaction.atomic(), audit_context(actor, on_behalf_of=user_scope(actor).principal_for(unit)):
        locked = Honour.objects.select_for_update().get(pk=honour.pk)
        if locked.is_revoked:
            raise ValidationError(_("This honour has already been revoked."))
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.revoked_reason = reason.strip()
        locked.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        return locked
