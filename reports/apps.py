from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from reports.models import PartyIntake

        # The Party's totals are entered by staff and change a report sent upward: who and when.
        auditlog.register(
            PartyIntake, include_fields=["organization", "year", "quarter", "new_members", "new_young_members"]
        )
