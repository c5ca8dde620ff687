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
            WorkReminder,
        )

        # Fields are listed, not excluded: reverse relations and treebeard's bookkeeping columns stay
        # out (a move changes those through queryset updates and is audited explicitly).
        auditlog.register(
            Organization,
            include_fields=[
                "name",
                "code",
                "kind",
                "sector",
                "founded_on",
                "approved_by",
                "party_organization",
                "contact_phone",
                "dissolved_on",
                "dissolution_reason",
            ],
        )
        auditlog.register(PartyOrganization, include_fields=["county", "name", "contact_name", "contact_phone"])
        auditlog.register(WorkReminder, include_fields=["title", "body", "send_on"])
        auditlog.register(
            RoleAssignment,
            include_fields=[
                "user",
                "role",
                "organization",
                "party_organization",
                "starts_on",
                "ends_on",
                "deputy_for",
                "may_export_records",
            ],
        )
        # Password events are recorded explicitly (account_services), once each.
        auditlog.register(User, include_fields=["username", "full_name", "phone", "email", "is_active"])
        from branches import (
            activity_reminders,  # noqa: F401  (registers the branch-life reminder rule)
            checks,  # noqa: F401  (registers the system checks of the League rules)
        )
        from branches.models import Activity, ThemedDayTopic

        # Attendance and attachments are recorded explicitly on the activity (branches.activity_services).
        auditlog.register(
            Activity,
            include_fields=[
                "kind",
                "held_on",
                "place",
                "topic",
                "themed_day_topic",
                "chair",
                "note_taker",
                "content",
                "resolutions",
                "votes_for",
                "votes_against",
                "votes_abstaining",
                "present_count",
                "absent_count",
                "voided_at",
                "voided_by",
                "void_reason",
            ],
        )
        auditlog.register(ThemedDayTopic, include_fields=["month", "title", "description", "record_by"])
        from branches.models import Honour, HonourTitle

        auditlog.register(HonourTitle, include_fields=["name", "for_members", "for_units"])
        # The creation entry keeps every value; a revocation adds its own entry (branches.honour_services).
        auditlog.register(
            Honour,
            include_fields=[
                "title",
                "level",
                "year",
                "issuer",
                "member",
                "organization",
                "note",
                "revoked_at",
                "revoked_by",
                "revoked_reason",
            ],
        )
        from branches import committee_reminders  # noqa: F401  (registers the committee-term reminder rule)
        from branches.models import Cadre, CommitteeSeat, CommitteeTerm

        # Elections, changes during a term and cadre records (branches.committee_services).
        auditlog.register(
            CommitteeTerm, include_fields=["organization", "starts_on", "length_years", "due_on", "ended_on", "note"]
        )
        auditlog.register(CommitteeSeat, include_fields=["term", "cadre", "post", "since", "until"])
        auditlog.register(
            Cadre,
            include_fields=[
                "organization",
                "member",
                "name",
                "sex",
                "birth_date",
                "education",
                "employment",
                "establishment",
                "phone",
                "age_exception",
            ],
        )
