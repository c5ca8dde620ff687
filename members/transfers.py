"""Transfers of organizational relationship (组织关系转接).

Within the county a transfer needs both sides: the sending branch (its secretary, or staff above it)
and the receiving unit (a branch, or a committee that then places the member in one of its
branches). Whichever side starts it has approved it; the other side approves or rejects. A transfer
left pending past LEAGUE_RULES["transfer_timeout_days"] lapses (a periodic task). Out of the county,
the sending side records the move and the member leaves the county's roll with the destination.
A member is never in two branches or in none: the move happens in one transaction, with the member
row locked, when the second approval arrives; only one transfer per member can be open.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.audit import audit_context, audit_events_bulk
from branches.models import Organization, OrganizationKind, User, subtree_filter
from branches.scope import user_scope
from members.models import Member, MemberStatus, Transfer, TransferStatus
from members.selectors import get_member_for_user
from members.services import may_edit_members_in
from promotion.services import cases_follow_member, cases_withdraw_for_leaving


def may_act_for_sending_side(actor: User, transfer: Transfer) -> bool:
    return may_edit_members_in(actor, transfer.from_branch)


def may_act_for_receiving_side(actor: User, transfer: Transfer) -> bool:
    return transfer.to_unit is not None and may_edit_members_in(actor, transfer.to_unit)


def waiting_for(actor: User, transfer: Transfer) -> bool:
    """Whether the transfer waits for the actor's decision."""
    if transfer.status != TransferStatus.PENDING:
        return False
    if transfer.sending_approved_by_id is None:
        return may_act_for_sending_side(actor, transfer)
    return may_act_for_receiving_side(actor, transfer)


def places_member(actor: User, transfer: Transfer) -> bool:
    """Whether the actor now names the branch the member joins: the transfer went to a committee and
    waits for the actor on the receiving side."""
    # Waiting on the receiving side means a unit in the county was named (not one outside it).
    return (
        waiting_for(actor, transfer) and transfer.sending_approved_by_id is not None and not transfer.to_unit.is_branch
    )


def get_transfer_for_user(user: User, pk: int) -> Transfer:
    """The transfer if the user is on either side of it; 404 otherwise, the same as missing."""
    queryset = Transfer.objects.visible_to(user).select_related("member", "from_branch", "to_unit", "to_branch")
    return get_object_or_404(queryset, pk=pk)


def get_member_to_transfer(user: User, pk: int) -> Member:
    """The member, if the user works with their branch (else 404) and may send them away (else 403)."""
    member = get_member_for_user(user, pk)
    if not may_edit_members_in(user, member.branch):
        raise PermissionDenied
    return member


def get_transfer_to_place(user: User, pk: int) -> Transfer:
    """The transfer, if the user sees it (else 404) and now places its member in a branch (else 403)."""
    transfer = get_transfer_for_user(user, pk)
    if not places_member(user, transfer):
        raise PermissionDenied
    return transfer


def destinations_in_county(member: Member) -> QuerySet[Organization]:
    """Where the sending side may transfer the member within the county: any active unit below the
    county committee but the member's own branch (transfer_request refuses a committee without
    branches, with its reason)."""
    county_path = member.branch.path[: Organization.steplen]
    return (
        Organization.objects.filter(path__startswith=county_path)
        .active()
        .exclude(kind=OrganizationKind.COUNTY)
        .exclude(pk=member.branch_id)
    )


def branches_to_place_in(transfer: Transfer) -> QuerySet[Organization]:
    """The branches of the receiving committee, one of which the member joins (_complete checks it)."""
    return Organization.objects.subtree_of([transfer.to_unit.path]).branches().active()


def _check_destination(member: Member, to_unit: Organization) -> None:
    if not to_unit.is_active:
        raise ValidationError({"to_unit": _("%(unit)s has been dissolved.") % {"unit": to_unit}})
    if to_unit.pk == member.branch_id:
        raise ValidationError({"to_unit": _("The member is already in %(unit)s.") % {"unit": to_unit}})
    if to_unit.kind == OrganizationKind.COUNTY or not (
        to_unit.is_branch or Organization.objects.subtree_of([to_unit.path]).branches().active().exists()
    ):
        raise ValidationError({"to_unit": _("Choose a branch, or a committee with branches.")})


def transfer_request(*, actor: User, member: Member, to_unit: Organization, note: str = "") -> Transfer:
    """Start a transfer within the county, from either side; the starting side's approval is given.
    The receiving side names the branch itself; the sending side may name a committee, which then
    places the member in one of its branches when it approves."""
    sending = may_edit_members_in(actor, member.branch)
    receiving = may_edit_members_in(actor, to_unit)
    if not (sending or receiving):
        raise PermissionDenied
    if not member.is_active:
        raise ValidationError(_("%(name)s is not an active member.") % {"name": member.name})
    _check_destination(member, to_unit)
    if not sending and not to_unit.is_branch:
        raise ValidationError({"to_unit": _("Choose the branch the member joins.")})
    today = timezone.localdate()
    with transaction.atomic(), audit_context(actor, note=note):
        locked = Member.objects.select_for_update().get(pk=member.pk)
        transfer = Transfer(
            member=locked,
            from_branch=locked.branch,
            to_unit=to_unit,
            note=note.strip(),
            requested_by=actor,
            initiated_by_receiving_side=not sending,
            sending_approved_by=actor if sending else None,
            receiving_approved_by=None if sending else actor,
            expires_on=today + timedelta(days=settings.LEAGUE_RULES["transfer_timeout_days"]),
        )
        try:
            with transaction.atomic():
                transfer.save()
        except IntegrityError as exc:
            raise ValidationError(
                _("%(name)s already has a transfer waiting for approval.") % {"name": locked.name}
            ) from exc
        # Someone with rights on both sides (county staff) moving a member to a named branch is done.
        if sending and receiving and to_unit.is_branch:
            transfer.receiving_approved_by = actor
            _complete(transfer, to_branch=to_unit, actor=actor)
    return transfer


def _waiting_is_receiving(transfer: Transfer) -> bool:
    return transfer.sending_approved_by_id is not None


def transfer_approve(*, actor: User, transfer: Transfer, to_branch: Organization | None = None) -> Transfer:
    """The waiting side approves and the member moves: into the named branch, or, for a transfer to
    a committee, into `to_branch`, one of the committee's branches."""
    with transaction.atomic(), audit_context(actor):
        locked = (
            Transfer.objects.select_for_update(of=("self",))
            .select_related("to_unit", "from_branch")
            .get(pk=transfer.pk)
        )
        _check_pending(locked)
        if _waiting_is_receiving(locked):
            if not may_act_for_receiving_side(actor, locked):
                raise PermissionDenied
            locked.receiving_approved_by = actor
            destination = locked.to_unit if locked.to_unit.is_branch else to_branch
            if destination is None:
                raise ValidationError({"to_branch": _("Choose the branch the member joins.")})
        else:
            if not may_act_for_sending_side(actor, locked):
                raise PermissionDenied
            locked.sending_approved_by = actor
            destination = locked.to_unit
        _complete(locked, to_branch=destination, actor=actor)
    return locked


def _complete(transfer: Transfer, *, to_branch: Organization, actor: User) -> None:
    if to_branch.pk == transfer.from_branch_id:
        raise ValidationError({"to_branch": _("The member is already in %(unit)s.") % {"unit": to_branch}})
    if not (to_branch.is_branch and to_branch.is_active and to_branch.path.startswith(transfer.to_unit.path)):
        raise ValidationError({"to_branch": _("Choose an active branch of %(unit)s.") % {"unit": transfer.to_unit}})
    member = Member.objects.select_for_update().get(pk=transfer.member_id)
    if not member.is_active or member.branch_id != transfer.from_branch_id:
        raise ValidationError(
            _("The member is no longer an active member of %(branch)s.") % {"branch": transfer.from_branch}
        )
    member.branch = to_branch
    member.save(update_fields=["branch", "updated_at"])
    cases_follow_member(member=member, from_branch=transfer.from_branch, actor=actor)  # open 推优 cases move too
    transfer.to_branch = to_branch
    transfer.status = TransferStatus.COMPLETED
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["to_branch", "status", "decided_at", "receiving_approved_by", "sending_approved_by"])


def transfer_reject(*, actor: User, transfer: Transfer, reason: str) -> Transfer:
    """The waiting side refuses, with a reason; the member stays where they are."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    return _close(actor, transfer, TransferStatus.REJECTED, reason, waiting_side=True)


def transfer_cancel(*, actor: User, transfer: Transfer) -> Transfer:
    """The side that started a transfer withdraws it."""
    return _close(actor, transfer, TransferStatus.CANCELLED, "", waiting_side=False)


def _close(actor: User, transfer: Transfer, status: str, reason: str, *, waiting_side: bool) -> Transfer:
    """Reject (the waiting side) or withdraw (the starting side) a pending transfer."""
    with transaction.atomic(), audit_context(actor, note=reason.strip()):
        locked = (
            Transfer.objects.select_for_update(of=("self",))
            .select_related("to_unit", "from_branch")
            .get(pk=transfer.pk)
        )
        _check_pending(locked)
        side_check = (
            may_act_for_receiving_side if _waiting_is_receiving(locked) == waiting_side else may_act_for_sending_side
        )
        if not side_check(actor, locked):
            raise PermissionDenied
        locked.status = status
        locked.decision_reason = reason.strip()
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decision_reason", "decided_at"])
    return locked


def _check_pending(transfer: Transfer) -> None:
    if transfer.status != TransferStatus.PENDING:
        raise ValidationError(
            _("This transfer is already closed (%(status)s).") % {"status": transfer.get_status_display()}
        )


def transfer_out_of_county(*, actor: User, member: Member, destination: str, on_date: date) -> Transfer:
    """The member moves to an organization outside the county: recorded by the sending side, and the
    member leaves the county's roll with the destination as the reason."""
    if not may_edit_members_in(actor, member.branch):
        raise PermissionDenied
    if not destination.strip():
        raise ValidationError({"destination": _("Say where the member goes.")})
    if on_date > timezone.localdate():
        raise ValidationError({"on_date": _("The date cannot be in the future.")})
    if on_date < member.joined_on:
        raise ValidationError({"on_date": _("The leaving date cannot be before the member joined.")})
    with transaction.atomic(), audit_context(actor):
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if not locked.is_active:
            raise ValidationError(_("%(name)s is not an active member.") % {"name": locked.name})
        if locked.transfers.pending().exists():
            raise ValidationError(_("%(name)s already has a transfer waiting for approval.") % {"name": locked.name})
        transfer = Transfer.objects.create(
            member=locked,
            from_branch=locked.branch,
            destination=destination.strip(),
            requested_by=actor,
            sending_approved_by=actor,
            expires_on=on_date,
            status=TransferStatus.COMPLETED,
            decided_at=timezone.now(),
        )
        locked.status = MemberStatus.TRANSFERRED_OUT
        locked.left_on = on_date
        locked.leaving_reason = destination.strip()
        locked.save(update_fields=["status", "left_on", "leaving_reason", "updated_at"])
        cases_withdraw_for_leaving(member=locked, actor=actor)  # open 推优 cases close
    return transfer


LAPSE_BATCH = 500


def transfers_lapse_due(today: date | None = None) -> int:
    """Close the pending transfers whose waiting period has run out, in bounded batches, each with an
    audit entry. Safe to run twice or in two workers at once: rows are claimed with SKIP LOCKED and
    closed only while still pending."""
    today = today or timezone.localdate()
    lapsed = 0
    while True:
        with transaction.atomic():
            due = list(
                Transfer.objects.select_for_update(skip_locked=True)
                .filter(status=TransferStatus.PENDING, expires_on__lt=today)
                .order_by("pk")[:LAPSE_BATCH]
            )
            if not due:
                return lapsed
            Transfer.objects.filter(pk__in=[t.pk for t in due], status=TransferStatus.PENDING).update(
                status=TransferStatus.LAPSED, decided_at=timezone.now()
            )
            audit_events_bulk(
                [(t, {"status": [TransferStatus.PENDING, TransferStatus.LAPSED]}) for t in due], actor=None
            )
        lapsed += len(due)


def find_member_for_receiving(actor: User, id_number: str) -> Member | None:
    """The receiving side names a person of its county by full ID number (which it must already
    know); the branch is shown to it only where it lies in its own units."""
    scope = user_scope(actor)
    if not scope.record_paths and not actor.is_superuser:
        raise PermissionDenied
    counties = {path[: Organization.steplen] for path in scope.record_paths}
    members = Member.objects.active().with_id_number(id_number).select_related("branch")
    if not actor.is_superuser:
        members = members.filter(subtree_filter(counties, "branch__path"))
    return members.first()
