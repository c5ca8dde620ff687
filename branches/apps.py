from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BranchesConfig(AppConfig):
    name = "branches"
    verbose_name = _("Organization and accounts")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from branches import security  # noqa: F401  (connects the sign-in signal receivers)
        from branches.models import (
            Organization,
            PartyOrganization,
            RoleAssignment,
            User,
        )

        # treebeard's bookkeeping columns change through queryset updates; moves are audited explicitly.
        auditlog.register(Organization, exclude_fields=["path", "depth", "numchild"])
        auditlog.register(PartyOrganization)
        auditlog.register(RoleAssignment)
        auditlog.register(
            User, include_fields=["username", "full_name", "phone", "email", "is_active", "must_change_password"]
        )
