"""A step on the case page beside those of promotion/views.py: a returned case taken back to
cultivation (the branch does not resubmit it as it is). Thin: fetch in scope, form, service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from branches.forms import attach_service_errors
from promotion import services
from promotion.forms import ReasonForm
from promotion.views import STEP_PAGES, get_case_for_worker

STEP = STEP_PAGES["back-to-cultivation"]  # offered on the case page by the same transition


@login_required
def case_back_to_cultivation(request: HttpRequest, pk: int) -> HttpResponse:
    """Out of scope: 404; in scope but not a worker of the branch: 403 (get_case_for_worker)."""
    case = get_case_for_worker(request, pk)
    if STEP.transition not in services.next_actions(case, request.user):
        messages.error(request, _("This cannot be done on the case at its current stage."))
        return redirect("promotion:case", pk=case.pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_back_to_cultivation(case=case, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(
                request, _("The case is back in cultivation: list the member in a later round when they are ready.")
            )
            return redirect("promotion:case", pk=case.pk)
    return render(request, "promotion/case_rules_back_to_cultivation.html", {"case": case, "form": form})
