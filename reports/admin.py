"""The report archive in the Django admin, for the system administrator: read-only, and without the
figures or the files (a monthly progress report names people; administrators see no personal
records, domain rule 三员分立). Useful to see what the schedule made and which generations failed.
Reports are asked for on their pages; the Party's totals are entered on theirs (audited there)."""

from django.contrib import admin

from leagueadmin.admin import SystemAdministratorAccess
from reports.models import PartyIntake, Report


@admin.register(Report)
class ReportAdmin(SystemAdministratorAccess, admin.ModelAdmin):
    read_only = True
    list_display = ["kind", "organization", "party_organization", "period_start", "status", "progress", "generated_at"]
    list_filter = ["kind", "status", "period_start"]
    list_select_related = ["organization", "party_organization"]
    date_hierarchy = "period_start"
    fields = [
        "kind",
        "organization",
        "party_organization",
        "period_start",
        "period_end",
        "status",
        "progress",
        "message",
        "requested_by",
        "requested_at",
        "started_at",
        "generated_at",
        "frozen_at",
    ]
    readonly_fields = fields


@admin.register(PartyIntake)
class PartyIntakeAdmin(SystemAdministratorAccess, admin.ModelAdmin):
    read_only = True
    list_display = ["organization", "year", "quarter", "new_members", "new_young_members", "entered_at"]
    list_filter = ["year", "quarter"]
    list_select_related = ["organization"]
    fields = ["organization", "year", "quarter", "new_members", "new_young_members", "entered_by", "entered_at"]
    readonly_fields = fields
