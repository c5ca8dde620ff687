"""The Django admin site: the system administrator's tool (三员分立: not the security or audit
administrator's). Who may enter follows the active role, so it ends with the role's end date."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def is_system_administrator(request: HttpRequest) -> bool:
    from branches.models import Role
    from branches.scope import user_scope

    user = request.user
    return user.is_active and (user.is_superuser or user_scope(user).has_role(Role.SYSTEM_ADMIN))


class LeagueAdminSite(admin.AdminSite):
    site_header = _("LeagueAdmin system administration")
    site_title = _("LeagueAdmin")

    def has_permission(self, request: HttpRequest) -> bool:
        return is_system_administrator(request)


class SystemAdministratorAccess:
    """ModelAdmin mixin: the system administrator's rights come from the role, not model permissions."""

    read_only = False

    def has_module_permission(self, request):
        return is_system_administrator(request)

    def has_view_permission(self, request, obj=None):
        return is_system_administrator(request)

    def has_add_permission(self, request):
        return not self.read_only and is_system_administrator(request)

    def has_change_permission(self, request, obj=None):
        return not self.read_only and is_system_administrator(request)

    def has_delete_permission(self, request, obj=None):
        return not self.read_only and is_system_administrator(request)
