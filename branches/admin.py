"""The Django admin is the system administrator's tool: configuration and the Party organizations.
Accounts belong to the security administrator's pages, the audit trail to the audit administrator's,
so the system administrator's group has no permissions on those models (三员分立)."""

from django.contrib import admin

from branches.models import Organization, PartyOrganization


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "county", "contact_name", "contact_phone"]
    list_filter = ["county"]
    search_fields = ["name", "contact_name"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Read-only here: the tree changes through its own pages, where the rules and audit apply."""

    list_display = ["name", "code", "kind", "sector", "dissolved_on"]
    list_filter = ["kind", "sector"]
    search_fields = ["name", "code"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
