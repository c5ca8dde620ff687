from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from members import reminders  # noqa: F401  (registers the members' reminder rules)
        from members.models import Member, Transfer
        from members.services import MEMBER_FIELDS

        # Fields are listed: the masked number is shown, never the ciphertext, hash or tail (they would
        # only leak it), and reverse relations stay out.
        auditlog.register(
            Member, include_fields=["branch", "id_number_masked", "status", "left_on", "leaving_reason", *MEMBER_FIELDS]
        )
        auditlog.register(
            Transfer,
            include_fields=[
                "from_branch",
                "to_unit",
                "to_branch",
                "destination",
                "status",
                "sending_approved_by",
                "receiving_approved_by",
                "decision_reason",
            ],
        )
