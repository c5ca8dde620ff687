"""The inbox: the account's own notifications, by kind, read or not; and the e-mail preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.models import NotificationKind, NotificationPreference


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
