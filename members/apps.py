from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from members.models import Member

        # The audit trail shows the masked number; the ciphertext, hash and tail would only leak it.
        auditlog.register(
            Member, exclude_fields=["id_number_encrypted", "id_number_hash", "id_number_tail", "updated_at"]
        )
