"""What the system administrator sees in the Django admin: the schedules of the periodic tasks
(editable), and the organization tree and Party organizations (read-only: they change through their
own pages, where the rules and the audit trail apply), and the honour titles the county records
(editable: configuration). Accounts are the security administrator's and the audit trail the audit
administrator's, so neither is in the admin."""

from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.models import Group
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from branches.models import HonourTitle, Organization, PartyOrganization
from leagueadmin.admin import SystemAdministratorAccess

for model in (LogEntry, Group):
    if admin.site.is_registered(model):
        admin.site.unregister(model)

# django-celery-beat registers its own admin classes; keep them, opened by the role instead.
for model in (PeriodicTask, CrontabSchedule, IntervalSchedule, ClockedSchedule, SolarSchedule):
    beat_admin = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(model, type(beat_admin.__name__, (SystemAdministratorAccess, beat_admin), {}))


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(SystemAdministratorAccess, admin.ModelAdmin):
    read_only = True
    list_display = ["name", "county", "contact_name", "contact_phone"]
    list_filter = ["county"]
    search_fields = ["name", "contact_name"]


@admin.register(Organization)
class OrganizationAdmin(SystemAdministratorAccess, admin.ModelAdmin):
    read_only = True
    list_display = ["name", "code", "kind", "sector", "dissolved_on"]
    list_filter = ["kind", "sector"]
    search_fields = ["name", "code"]


@admin.register(HonourTitle)
class HonourTitleAdmin(SystemAdministratorAccess, admin.ModelAdmin):
    """The titles the county records are configuration; a title in use cannot be deleted (its
    honours protect it), only renamed. Changes are audited (AuditlogMiddleware names the actor)."""

    list_display = ["name", "for_members", "for_units"]
    list_filter = ["for_members", "for_units"]
    search_fields = ["name"]
