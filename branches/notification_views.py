"""The inbox: the account's own notifications, by kind, read or not; and the e-mail preferences."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_celery_beat.models import PeriodicTask

from branches.audit import audit_context
from branches.forms import DateInput
from branches.models import NotificationKind, NotificationPreference, Organization, ReminderRun, Role, WorkReminder
from branches.notifications import RULES, preview_rule
from branches.scope import user_scope
from branches.selectors import manageable_accounts


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    notifications = request.user.notifications.all()
    kind = request.GET.get("kind", "")
    if kind in NotificationKind.values:
        notifications = notifications.filter(kind=kind)
    if request.GET.get("unread") == "1":
        notifications = notifications.unread()
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "branches/inbox.html",
        {
            "page": page,
            "kind": kind,
            "kinds": NotificationKind.choices,
            "unread_only": request.GET.get("unread") == "1",
            "query_string": urlencode(
                {k: v for k, v in {"kind": kind, "unread": request.GET.get("unread")}.items() if v}
            ),
        },
    )


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and go where it points (only to a page of this site)."""
    notification = get_object_or_404(request.user.notifications, pk=pk)  # someone else's: 404
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    target = notification.link if url_has_allowed_host_and_scheme(notification.link, allowed_hosts=None) else ""
    return redirect(target or "branches:inbox")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = request.user.notifications.unread().update(read_at=timezone.now())
    messages.success(request, _("%(n)d notifications marked as read.") % {"n": count})
    return redirect("branches:inbox")


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    current = dict(request.user.notification_preferences.values_list("kind", "by_email"))
    if request.method == "POST":
        with transaction.atomic():
            for kind in NotificationKind.values:
                NotificationPreference.objects.update_or_create(
                    user=request.user, kind=kind, defaults={"by_email": request.POST.get(kind) == "on"}
                )
        messages.success(request, _("Your choices have been saved."))
        return redirect("branches:notification-preferences")
    return render(
        request,
        "branches/notification_preferences.html",
        {"kinds": [(value, label, current.get(value, False)) for value, label in NotificationKind.choices]},
    )


class WorkReminderForm(forms.ModelForm):
    class Meta:
        model = WorkReminder
        fields = ["title", "body", "send_on"]
        widgets = {"send_on": DateInput(), "body": forms.Textarea(attrs={"rows": 6})}

    def clean_send_on(self):
        send_on = self.cleaned_data["send_on"]
        if send_on < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later day."))
        return send_on


def _county_of_staff(request: HttpRequest) -> Organization:
    county = next((a.organization for a in user_scope(request.user).assignments if a.role == Role.COUNTY_STAFF), None)
    if county is None:
        raise PermissionDenied
    return county


@login_required
def work_reminder_list(request: HttpRequest) -> HttpResponse:
    """County staff write the monthly work reminder once; it reaches everyone on its date."""
    county = _county_of_staff(request)
    form = WorkReminderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reminder = form.save(commit=False)
        reminder.county = county
        reminder.created_by = request.user
        with transaction.atomic(), audit_context(request.user):
            reminder.save()
        messages.success(request, _("The reminder will be sent on %(day)s.") % {"day": reminder.send_on.isoformat()})
        return redirect("branches:work-reminders")
    reminders = WorkReminder.objects.filter(county=county)[:50]
    return render(request, "branches/work_reminders.html", {"form": form, "reminders": reminders})


@login_required
def reminder_rules(request: HttpRequest) -> HttpResponse:
    """Each reminder rule, its schedule and its last run (for county staff and the system administrator)."""
    scope = user_scope(request.user)
    if not (request.user.is_superuser or scope.has_role(Role.COUNTY_STAFF, Role.SYSTEM_ADMIN)):
        raise PermissionDenied
    latest_of_rule = ReminderRun.objects.filter(rule=OuterRef("rule")).order_by("-ran_at", "-pk").values("pk")[:1]
    runs = {run.rule: run for run in ReminderRun.objects.filter(pk=Subquery(latest_of_rule))}
    schedule = PeriodicTask.objects.filter(task="branches.run_reminders").select_related("crontab").first()
    rows = [(rule, runs.get(name)) for name, rule in sorted(RULES.items())]
    return render(request, "branches/reminder_rules.html", {"rows": rows, "schedule": schedule})


@login_required
def reminder_preview(request: HttpRequest) -> HttpResponse:
    """Who would be reminded of what on a chosen day (county staff: the accounts of their county)."""
    if not user_scope(request.user).has_role(Role.COUNTY_STAFF):
        raise PermissionDenied
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    accounts = {u.pk: u for u in manageable_accounts(request.user).only("pk", "username", "full_name")}
    rows = []
    for name, rule in sorted(RULES.items()):
        for reminder in preview_rule(name, day):
            recipients = [accounts[pk] for pk in sorted(reminder.recipients) if pk in accounts]
            if recipients:  # only what reaches the county's own accounts
                rows.append((rule.label, reminder.subject, recipients))
    return render(request, "branches/reminder_preview.html", {"day": day, "rows": rows})
