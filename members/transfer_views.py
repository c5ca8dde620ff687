"""Pages of transfers: the list both sides work from, starting one from either side, and deciding."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches import unit_search
from branches.forms import attach_service_errors
from branches.models import Organization
from members import transfers
from members.forms import TransferApproveForm, TransferReceiveForm, TransferRejectForm, TransferRequestForm
from members.models import Transfer, TransferStatus
from members.services import may_edit_members_in


@login_required
def transfer_list(request: HttpRequest) -> HttpResponse:
    if not unit_search.record_branches(request.user).exists():
        raise PermissionDenied
    status = request.GET.get("status", TransferStatus.PENDING)
    items = Transfer.objects.visible_to(request.user).select_related("member", "from_branch", "to_unit", "to_branch")
    if status in TransferStatus.values:
        items = items.filter(status=status)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    rows = [(t, transfers.waiting_for(request.user, t)) for t in page.object_list]
    return render(
        request,
        "members/transfer_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": TransferStatus.choices,
            "query_string": f"status={status}",
        },
    )


@login_required
def member_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """The sending side starts a transfer from the member's page."""
    member = transfers.get_member_to_transfer(request.user, pk)
    form = TransferRequestForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["to_unit"]:
                transfer = transfers.transfer_request(
                    actor=request.user, member=member, to_unit=data["to_unit"], note=data["note"]
                )
            else:
                transfer = transfers.transfer_out_of_county(
                    actor=request.user, member=member, destination=data["destination"], on_date=data["on_date"]
                )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The transfer has been recorded."))
            return redirect("members:transfer", pk=transfer.pk)
    return render(request, "members/transfer_form.html", {"form": form, "member": member, "title": _("Transfer")})


@login_required
def transfer_receive(request: HttpRequest) -> HttpResponse:
    """The receiving side asks for a member of another branch, named by full ID number."""
    branches = unit_search.record_branches(request.user)
    if not branches.exists():
        raise PermissionDenied
    form = TransferReceiveForm(request.POST or None, branches=branches)
    if request.method == "POST" and form.is_valid():
        member = transfers.find_member_for_receiving(request.user, form.cleaned_data["id_number"])
        if member is None:
            form.add_error("id_number", _("No active member has this ID number."))
        else:
            try:
                transfer = transfers.transfer_request(
                    actor=request.user,
                    member=member,
                    to_unit=form.cleaned_data["to_unit"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                attach_service_errors(form, exc)
            else:
                where = (
                    member.branch.name if may_edit_members_in(request.user, member.branch) else _("the member's branch")
                )
                messages.success(request, _("The request has been sent to %(branch)s.") % {"branch": where})
                return redirect("members:transfer", pk=transfer.pk)
    return render(request, "members/transfer_form.html", {"form": form, "title": _("Request a member's transfer")})


@login_required
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = transfers.get_transfer_for_user(request.user, pk)
    starter_side = (
        transfers.may_act_for_receiving_side
        if transfer.initiated_by_receiving_side
        else transfers.may_act_for_sending_side
    )
    return render(
        request,
        "members/transfer_detail.html",
        {
            "transfer": transfer,
            "waiting": transfers.waiting_for(request.user, transfer),
            "may_cancel": transfer.status == TransferStatus.PENDING and starter_side(request.user, transfer),
            "approve_form": (
                TransferApproveForm(transfer=transfer) if transfers.places_member(request.user, transfer) else None
            ),
            "reject_form": TransferRejectForm(),
        },
    )


@login_required
@require_POST
def transfer_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    transfer = transfers.get_transfer_for_user(request.user, pk)
    try:
        if decision == "approve":
            transfers.transfer_approve(
                actor=request.user, transfer=transfer, to_branch=_branch_to_place_in(request, transfer)
            )
            messages.success(request, _("Approved."))
        elif decision == "reject":
            transfers.transfer_reject(actor=request.user, transfer=transfer, reason=request.POST.get("reason", ""))
            messages.success(request, _("Rejected."))
        else:
            transfers.transfer_cancel(actor=request.user, transfer=transfer)
            messages.success(request, _("Withdrawn."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("members:transfer", pk=transfer.pk)


def _branch_to_place_in(request: HttpRequest, transfer: Transfer) -> Organization | None:
    """The branch a receiving committee named, if it places the member; one it may not name is
    refused here with the picker's message (transfer_approve says when one is missing)."""
    if not transfers.places_member(request.user, transfer):
        return None
    form = TransferApproveForm(request.POST, transfer=transfer)
    if not form.is_valid():
        raise ValidationError(form.errors["to_branch"])
    return form.cleaned_data["to_branch"]
