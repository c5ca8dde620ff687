"""The report archive, and the Party's own intake totals that the quarterly report compares with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import Organization, PartyOrganization, Role, subtree_filter

if TYPE_CHECKING:
    from branches.models import User


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", _("Monthly progress report (月度进展报告)")
    QUARTERLY = "quarterly", _("Quarterly report (季度报告)")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be generated")
    RUNNING = "running", _("Being generated")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ReportQuerySet(models.QuerySet["Report"]):
    def visible_to(self, user: User) -> Self:
        """Reports of the League units the user works in (their subtrees), and the monthly reports of
        the user's Party organizations: a Party organizer's own, or any in a county staff member's county."""
        from branches.scope import user_scope

        if user.is_superuser:
            return self
        scope = user_scope(user)
        party_ids = [a.party_organization_id for a in scope.assignments if a.role == Role.PARTY_ORGANIZER]
        county_ids = [a.organization_id for a in scope.assignments if a.role == Role.COUNTY_STAFF]
        units = subtree_filter(scope.record_paths, "organization__path") if scope.record_paths else Q(pk__in=[])
        return self.filter(
            units | Q(party_organization_id__in=party_ids) | Q(party_organization__county_id__in=county_ids)
        )


def reports_storage():
    """The private storage of generated files (settings.STORAGES["reports"]), looked up when used so
    that tests can point it elsewhere."""
    from django.core.files.storage import storages

    return storages["reports"]


def _report_file_path(report: Report, filename: str) -> str:
    return f"{report.kind}/{report.period_start:%Y-%m}/{filename}"


class Report(models.Model):
    """One report of one kind, for one scope and period: its figures and its files.

    Regenerating updates this row (the constraints keep one per kind, scope and period). Once the
    period has closed and its grace has passed (REPORTS_FREEZE_AFTER_DAYS, for entries about its last
    days), the figures are frozen (`frozen_at`): regenerating re-renders the files from them, so later
    corrections to the records do not change a report already sent upward. Only the Party's intake
    totals, entered later by design, are patched into a frozen report (reports/services.py).
    """

    kind = models.CharField(_("report"), max_length=12, choices=ReportKind.choices)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("League unit"),
    )
    party_organization = models.ForeignKey(
        PartyOrganization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("Party organization"),
    )
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)  # per cent
    message = models.CharField(_("message"), max_length=300, blank=True)
    document = models.JSONField(null=True, blank=True, editable=False)
    frozen_at = models.DateTimeField(_("figures frozen at"), null=True, blank=True)
    pdf = models.FileField(storage=reports_storage, upload_to=_report_file_path, blank=True)
    xlsx = models.FileField(storage=reports_storage, upload_to=_report_file_path, blank=True)
    # Empty when the quarterly or monthly schedule asked for it.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    # When a worker claimed the generation: a row still "running" long after (past the task time
    # limit) belongs to a worker that died, and may be claimed again (reports/tasks.py).
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-period_start", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                name="report_has_one_scope",
                condition=Q(organization__isnull=False, party_organization__isnull=True)
                | Q(organization__isnull=True, party_organization__isnull=False),
            ),
            models.CheckConstraint(
                name="report_quarterly_is_for_a_league_unit",
                condition=~Q(kind="quarterly") | Q(organization__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["kind", "period_start", "organization"],
                condition=Q(organization__isnull=False),
                name="report_one_per_unit_and_period",
            ),
            models.UniqueConstraint(
                fields=["kind", "period_start", "party_organization"],
                condition=Q(party_organization__isnull=False),
                name="report_one_per_party_organization_and_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.scope} · {self.period_start:%Y-%m}"

    @property
    def scope(self) -> Organization | PartyOrganization:
        return self.organization or self.party_organization


class PartyIntake(models.Model):
    """The Party's own count of new members in a League unit's area for a quarter, entered by League
    staff from the Party's figures: the quarterly report's share of new young Party members who came
    through 推优 is computed only where these totals are entered (issue 7)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="party_intakes", verbose_name=_("League unit")
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    quarter = models.PositiveSmallIntegerField(_("quarter"), validators=[MinValueValidator(1), MaxValueValidator(4)])
    new_members = models.PositiveIntegerField(_("new Party members (all ages)"))
    new_young_members = models.PositiveIntegerField(_("of whom young people (28 or under)"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    class Meta:
        verbose_name = _("Party intake totals")
        verbose_name_plural = _("Party intake totals")
        ordering = ["-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "quarter"], name="party_intake_one_per_quarter"),
            models.CheckConstraint(
                name="party_intake_young_within_all", condition=Q(new_young_members__lte=models.F("new_members"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}Q{self.quarter}"
