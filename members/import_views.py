"""Pages of the roster import: upload, the checked preview (with progress for large files), commit,
the rows to fix, the template, and transfer requests for people active elsewhere."""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

from auditlog.models import LogEntry
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from branches import unit_search
from branches.audit import audit_event
from members import idnumbers, imports, tasks
from members.forms import add_branch_field
from members.models import ImportBatch
from members.services import may_edit_members_in, may_see_full_id_numbers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Roster file (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, branches, **kwargs):
        """`branches`: those of the `branches` purpose (unit_search.record_branches)."""
        super().__init__(*args, **kwargs)
        add_branch_field(self, "branch", branches, label=gettext_lazy("Into branch"))
        self.order_fields(["branch", "file"])


def _get_batch_for_user(request: HttpRequest, pk: int) -> ImportBatch:
    batch = get_object_or_404(ImportBatch.objects.select_related("branch"), pk=pk)
    if not imports.batch_visible_to(request.user, batch):
        raise Http404  # the same answer as for a missing batch
    return batch


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    branches = unit_search.record_branches(request.user)
    if not branches.exists():
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None, branches=branches)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            form.add_error("file", _("The file is larger than %(mb)d MB.") % {"mb": imports.MAX_FILE_BYTES // 1048576})
        else:
            content = upload.read()
            try:
                table = imports.read_table(upload.name, content)
            except imports.ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                batch = imports.create_batch(
                    actor=request.user, branch=form.cleaned_data["branch"], file_name=upload.name
                )
                if len(table) - 1 > imports.BACKGROUND_THRESHOLD:
                    batch.total_rows = len(table) - 1
                    batch.upload_encrypted = idnumbers.encrypt_bytes(content)
                    batch.save(update_fields=["total_rows", "upload_encrypted"])
                    tasks.check_import.delay_on_commit(batch.pk)  # the task takes the id, not the data
                else:
                    imports.check_batch(batch, table)
                return redirect("members:import", pk=batch.pk)
    return render(request, "members/import_upload.html", {"form": form, "threshold": imports.BACKGROUND_THRESHOLD})


@login_required
def import_batch(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch_for_user(request, pk)
    actions = Counter(row["action"] for row in batch.rows)
    return render(
        request,
        "members/import_batch.html",
        {
            "batch": batch,
            "counts": actions,
            "problem_rows": [row for row in batch.rows if row["action"] == "error"][:500],
            "elsewhere_rows": [row for row in batch.rows if row["action"] == "elsewhere"],
            "working": batch.status
            in (ImportBatch.Status.QUEUED, ImportBatch.Status.CHECKING, ImportBatch.Status.COMMITTING),
            "committable": actions["create"] + actions["update"],
        },
    )


@login_required
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    batch = get_object_or_404(ImportBatch.objects.defer("rows", "upload_encrypted").select_related("branch"), pk=pk)
    if not may_edit_members_in(request.user, batch.branch):
        raise Http404
    return JsonResponse({"status": batch.status, "percent": batch.progress_percent, "message": batch.message})


@login_required
@require_POST
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch_for_user(request, pk)
    if len(batch.rows) > imports.BACKGROUND_THRESHOLD:
        if batch.status != ImportBatch.Status.CHECKED:
            messages.error(request, _("This import is not waiting to be committed."))
        else:
            tasks.commit_import.delay_on_commit(batch.pk, request.user.pk)
        return redirect("members:import", pk=batch.pk)
    try:
        result = imports.commit_batch(actor=request.user, batch=batch)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(created)d members added and %(updated)d updated.")
            % {"created": result.created, "updated": result.updated},
        )
    return redirect("members:import", pk=batch.pk)


@login_required
def import_problems(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch_for_user(request, pk)
    full = batch.created_by_id == request.user.pk or may_see_full_id_numbers(request.user, batch.branch)
    audit_event(
        request.user,
        actor=request.user,
        action=LogEntry.Action.ACCESS,
        changes={"export": ["", f"{batch.file_name} · {_('rows to fix')}"], "full_id_numbers": ["", full]},
    )
    return _xlsx_response(imports.problem_rows_xlsx(batch, full_id_numbers=full), _("rows to fix"))


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    if not unit_search.record_branches(request.user).exists():
        raise PermissionDenied
    return _xlsx_response(imports.template_xlsx(), _("roster template"))


@login_required
@require_POST
def import_request_transfers(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch_for_user(request, pk)
    try:
        count = imports.request_transfers(actor=request.user, batch=batch)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(n)d transfer requests sent.") % {"n": count})
    return redirect("members:import", pk=batch.pk)


def _xlsx_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}.xlsx"
    response["Cache-Control"] = "no-store"
    return response
