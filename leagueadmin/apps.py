from django.contrib.admin.apps import AdminConfig


class LeagueAdminConfig(AdminConfig):
    """The Django admin, opened by the system administrator role instead of the is_staff flag."""

    default_site = "leagueadmin.admin.LeagueAdminSite"
