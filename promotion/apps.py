from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionConfig(AppConfig):
    name = "promotion"
    verbose_name = _("Recommendation to the Party")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from promotion import (  # noqa: F401
            checks,  # registers the system check of PROMOTION_RULES
            reminders,  # registers the pipeline's reminder rules
        )
        from promotion.models import (
            CalendarDay,
            CultivationReport,
            FollowUpReport,
            Nomination,
            Objection,
            Opinion,
            PlanTarget,
            PromotionPlan,
            PromotionRound,
            Talk,
        )

        # PromotionCase is not registered: its services write one explicit entry per transition
        # (promotion.services._step), which an automatic entry on save would double. CaseTransition is
        # itself history (append-only).
        auditlog.register(
            PromotionRound,
            include_fields=[
                "title",
                "stage",
                "meeting",
                "meeting_on",
                "voting_members",
                "present_members",
                "publicity_starts_on",
                "publicity_ends_on",
            ],
        )
        auditlog.register(
            Nomination,
            include_fields=[
                "round",
                "case",
                "eligibility",
                "short_wait_reason",
                "exception_reason",
                "exception_by",
                "votes_for",
                "votes_against",
                "votes_abstaining",
                "passed",
                "removed_at",
                "removed_reason",
            ],
        )
        auditlog.register(Opinion, include_fields=["nomination", "source", "content", "favourable"])
        auditlog.register(
            Objection, include_fields=["nomination", "received_on", "content", "resolution", "upheld", "resolved_on"]
        )
        auditlog.register(CultivationReport, include_fields=["case", "year", "quarter", "content"])
        auditlog.register(FollowUpReport, include_fields=["case", "month", "thinking", "work", "study"])
        auditlog.register(Talk, include_fields=["case", "held_on", "held_by", "summary"])
        auditlog.register(PromotionPlan, include_fields=["committee", "year", "note"])
        auditlog.register(PlanTarget, include_fields=["plan", "organization", "track", "target"])
        auditlog.register(CalendarDay, include_fields=["day", "is_working_day", "note"])
