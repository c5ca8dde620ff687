"""Navigation links for the roles the signed-in account holds."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from branches.models import STAFF_ROLES, Role
from branches.scope import user_scope


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = user_scope(user)
    items = []
    if user.is_superuser or scope.record_paths:
        items.append({"url": reverse("members:list"), "label": _("Members")})
        items.append({"url": reverse("members:registration"), "label": _("Registration and evaluation")})
        items.append({"url": reverse("members:transfers"), "label": _("Transfers")})
        items.append({"url": reverse("branches:honours"), "label": _("Honours")})
    if user.is_superuser or scope.record_paths:  # a secretary's branch, or the staff's completeness table
        items.append({"url": reverse("branches:activities"), "label": _("Organizational life")})
        items.append({"url": reverse("promotion:branches"), "label": _("推优")})  # the branches' boards
    if user.is_superuser or scope.has_role(*STAFF_ROLES):
        items.append({"url": reverse("promotion:review-queue"), "label": _("推优 review")})
        items.append({"url": reverse("promotion:overview"), "label": _("推优 overview")})
    if scope.has_role(Role.PARTY_ORGANIZER):
        items.append({"url": reverse("promotion:party-cases"), "label": _("推优 people")})
    if scope.sees_everything or scope.has_role(*STAFF_ROLES):
        items.append({"url": reverse("branches:party-organizations"), "label": _("Party organizations")})
    if scope.has_role(*STAFF_ROLES):
        items.append({"url": reverse("branches:committee-terms"), "label": _("Committees and cadres")})
    if scope.has_role(Role.COUNTY_STAFF):
        items.append({"url": reverse("branches:work-reminders"), "label": _("Work reminders")})
    if user.is_superuser or scope.has_role(Role.COUNTY_STAFF, Role.SECURITY_ADMIN):
        items.append({"url": reverse("branches:accounts"), "label": _("Accounts")})
    if user.is_superuser or scope.has_role(Role.SECURITY_ADMIN):
        items.append({"url": reverse("branches:sign-ins"), "label": _("Sign-in log")})
    if user.is_superuser or scope.has_role(Role.AUDIT_ADMIN):
        items.append({"url": reverse("branches:audit"), "label": _("Audit trail")})
    if user.is_superuser or scope.has_role(Role.SYSTEM_ADMIN):
        items.append({"url": reverse("admin:index"), "label": _("System administration")})
    return {"nav_items": items, "unread_notifications": user.notifications.unread().count()}
