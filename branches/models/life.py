"""Branch life (支部组织生活): meetings and activities with their attendance and attachments, the county's
monthly themed-day topics, committees with their terms and cadres (团干部), and honours.

Rules: domain.md §2.3–§2.4 (committees, terms) and §3 (三会两制一课, themed League days). Cadences, term
lengths and cadre norms are configuration (`settings.LEAGUE_RULES`), because the sources disagree.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Self

from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models.core import Organization, User, subtree_filter
from branches.models.people import Education, Sex

if TYPE_CHECKING:
    from django.core.files.storage import Storage

    from members.models import Member


class ActivityKind(models.TextChoices):
    GENERAL_MEETING = "general_meeting", _("Branch general meeting (支部团员大会)")
    COMMITTEE_MEETING = "committee_meeting", _("Branch committee meeting (支部委员会)")
    GROUP_MEETING = "group_meeting", _("Group meeting (团小组会)")
    LEAGUE_CLASS = "league_class", _("League class (团课)")
    THEMED_DAY = "themed_day", _("Themed League day (主题团日)")
    LIFE_MEETING = "life_meeting", _("Organizational life meeting (组织生活会)")
    VOLUNTEER = "volunteer", _("Volunteer service (志愿服务)")
    OTHER = "other", _("Other activity")


class Cadence(models.TextChoices):
    """How often a kind of activity is required (settings.LEAGUE_RULES["activity_cadence"])."""

    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")
    AS_NEEDED = "as_needed", _("As needed")


class RecordScopedQuerySet(models.QuerySet):
    """Branch-life records are about people (attendance, cadres): seen through League roles only,
    like member records (see branches.scope: `record_paths`)."""

    unit_field = "organization"

    def visible_to(self, user: User) -> Self:
        from branches.scope import user_scope

        if user.is_superuser:
            return self
        return self.filter(subtree_filter(user_scope(user).record_paths, f"{self.unit_field}__path"))


class ThemedDayTopic(models.Model):
    """The county committee's topic for one month's themed League day (主题团日), with the day by
    which branches should have recorded it (domain.md §3.2)."""

    county = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="themed_day_topics", verbose_name=_("county committee")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month the topic is for."))
    title = models.CharField(_("topic"), max_length=200)
    description = models.TextField(_("guidance"), blank=True)
    record_by = models.DateField(_("record by"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("themed League day topic")
        verbose_name_plural = _("themed League day topics")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["county", "month"], name="one_themed_day_topic_per_month"),
            models.CheckConstraint(name="themed_day_topic_month_is_first_day", condition=Q(month__day=1)),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.title}"


class ActivityQuerySet(RecordScopedQuerySet):
    def between(self, first: date, last: date) -> Self:
        return self.filter(held_on__gte=first, held_on__lte=last)

    def not_voided(self) -> Self:
        """Records that stand: a voided record (made by mistake) counts nowhere but stays for the trail."""
        return self.filter(voided_at__isnull=True)


class Activity(models.Model):
    """One meeting or activity a unit held, with its minutes. Attendance is recorded per member of the
    unit's roster; `present_count` and `absent_count` are kept by the service so that completeness
    tables read them without touching attendance rows."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="activities", verbose_name=_("unit")
    )
    kind = models.CharField(_("type"), max_length=20, choices=ActivityKind.choices)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    topic = models.CharField(_("topic"), max_length=200)
    themed_day_topic = models.ForeignKey(
        ThemedDayTopic,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("county topic"),
    )
    chair = models.CharField(_("chair"), max_length=50, blank=True)
    note_taker = models.CharField(_("note-taker"), max_length=50, blank=True)
    content = models.TextField(_("content and minutes"), blank=True)
    resolutions = models.TextField(_("resolutions"), blank=True)
    votes_for = models.PositiveSmallIntegerField(_("votes for"), null=True, blank=True)
    votes_against = models.PositiveSmallIntegerField(_("votes against"), null=True, blank=True)
    votes_abstaining = models.PositiveSmallIntegerField(_("abstentions"), null=True, blank=True)
    present_count = models.PositiveIntegerField(_("present"), default=0)
    absent_count = models.PositiveIntegerField(_("absent"), default=0)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Voiding marks a record made by mistake instead of deleting it (branches.activity_services).
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("voided by")
    )
    void_reason = models.CharField(_("reason for voiding"), max_length=200, blank=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-held_on", "-pk"]
        indexes = [
            models.Index(fields=["organization", "held_on"]),
            models.Index(fields=["held_on", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.held_on} {self.get_kind_display()} {self.topic}"

    @property
    def attendance_rate(self) -> float | None:
        expected = self.present_count + self.absent_count
        return self.present_count / expected if expected else None

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class Attendance(models.Model):
    """Whether one member of the roster attended one activity, and why not."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="attendance", verbose_name=_("member")
    )
    present = models.BooleanField(_("present"), default=True)
    absence_reason = models.CharField(_("reason for absence"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [models.UniqueConstraint(fields=["activity", "member"], name="attendance_once_per_member")]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.member_id} {self.present}"


def attachment_storage() -> Storage:
    """Attachments live outside MEDIA/STATIC: only the scoped download view serves them."""
    return storages["attachments"]


# The suffix on disk follows the type found in the content, never the name the client sent.
ATTACHMENT_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}


def attachment_path(instance: ActivityAttachment, filename: str) -> str:
    # A random name on disk: the original name is kept in the row, never trusted as a path.
    import uuid

    suffix = ATTACHMENT_SUFFIXES.get(instance.content_type, "")
    return f"activities/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class ActivityAttachment(models.Model):
    """A photo or PDF attached to an activity's record."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, storage=attachment_storage, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class CommitteeTermQuerySet(RecordScopedQuerySet):
    def current(self) -> Self:
        return self.filter(ended_on__isnull=True)

    def due_by(self, day: date) -> Self:
        """Current terms that end on or before `day` (overdue ones included)."""
        return self.current().filter(due_on__lte=day)


class CommitteeTerm(models.Model):
    """One term of office (届) of a unit's committee. Recording an election (换届) ends the current term
    and starts the next; old terms and their seats are kept."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="committee_terms", verbose_name=_("unit")
    )
    starts_on = models.DateField(_("elected on"))
    length_years = models.PositiveSmallIntegerField(_("term length (years)"))
    due_on = models.DateField(_("term ends on"), editable=False)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    note = models.TextField(_("election note"), blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CommitteeTermQuerySet.as_manager()

    class Meta:
        verbose_name = _("committee term")
        verbose_name_plural = _("committee terms")
        ordering = ["organization", "-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(ended_on__isnull=True), name="one_current_term_per_unit"
            ),
            models.CheckConstraint(name="term_length_positive", condition=Q(length_years__gte=1)),
        ]
        indexes = [models.Index(fields=["ended_on", "due_on"])]

    def __str__(self) -> str:
        return f"{self.organization} {self.starts_on}–{self.due_on}"

    def save(self, *args, **kwargs) -> None:
        self.due_on = add_years(self.starts_on, self.length_years)
        if kwargs.get("update_fields") is not None and "due_on" not in kwargs["update_fields"]:
            kwargs["update_fields"] = [*kwargs["update_fields"], "due_on"]
        super().save(*args, **kwargs)

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class Employment(models.TextChoices):
    FULL_TIME = "full_time", _("Full-time (专职)")
    PART_TIME = "part_time", _("Part-time (兼职)")


class Establishment(models.TextChoices):
    INSIDE = "inside", _("Inside the establishment (体制内)")
    OUTSIDE = "outside", _("Outside the establishment (体制外)")


class Cadre(models.Model):
    """A League cadre (团干部): anyone holding a post on a committee, League member or not. The record is
    kept by the unit that entered it and follows the person from term to term."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="cadres", verbose_name=_("recorded by unit")
    )
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cadre_records",
        verbose_name=_("member record"),
    )
    name = models.CharField(_("full name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    education = models.CharField(_("education"), max_length=20, choices=Education.choices)
    employment = models.CharField(_("full-time or part-time"), max_length=10, choices=Employment.choices)
    establishment = models.CharField(_("establishment"), max_length=10, choices=Establishment.choices)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    age_exception = models.CharField(
        _("age exception"),
        max_length=200,
        blank=True,
        help_text=_("Why the cadre may serve beyond the usual age limit (up to the exceptional limit)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecordScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("cadre")
        verbose_name_plural = _("cadres")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class CommitteePost(models.TextChoices):
    SECRETARY = "secretary", _("Secretary (书记)")
    DEPUTY_SECRETARY = "deputy", _("Deputy secretary (副书记)")
    ORGANIZATION = "organization", _("Organization member (组织委员)")
    PUBLICITY = "publicity", _("Publicity member (宣传委员)")
    COMMITTEE = "committee", _("Committee member (委员)")


class CommitteeSeatQuerySet(RecordScopedQuerySet):
    unit_field = "term__organization"

    def held_on(self, day: date) -> Self:
        return self.filter(Q(since__lte=day), Q(until__isnull=True) | Q(until__gte=day))


class CommitteeSeat(models.Model):
    """A cadre's post on one term of a committee, from `since` until `until` (open while held)."""

    term = models.ForeignKey(CommitteeTerm, on_delete=models.PROTECT, related_name="seats", verbose_name=_("term"))
    cadre = models.ForeignKey(Cadre, on_delete=models.PROTECT, related_name="seats", verbose_name=_("cadre"))
    post = models.CharField(_("post"), max_length=20, choices=CommitteePost.choices)
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)

    objects = CommitteeSeatQuerySet.as_manager()

    class Meta:
        verbose_name = _("committee seat")
        verbose_name_plural = _("committee seats")
        ordering = ["term", "post", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "cadre"], condition=Q(until__isnull=True), name="one_open_seat_per_cadre_and_term"
            ),
            models.CheckConstraint(
                name="seat_period_ordered", condition=Q(until__isnull=True) | Q(until__gte=models.F("since"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cadre} {self.get_post_display()}"


class HonourLevel(models.TextChoices):
    COUNTY = "county", _("County")
    CITY = "city", _("City")
    PROVINCE = "province", _("Province")
    NATIONAL = "national", _("National")


class HonourTitle(models.Model):
    """A title the county records (优秀共青团员, 五四红旗团支部…): configured, not hard-coded."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    for_members = models.BooleanField(_("awarded to people"), default=True)
    for_units = models.BooleanField(_("awarded to units"), default=False)

    class Meta:
        verbose_name = _("honour title")
        verbose_name_plural = _("honour titles")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class HonourQuerySet(models.QuerySet["Honour"]):
    def visible_to(self, user: User) -> Self:
        """Honours of members and units the user works with through a League role."""
        from branches.scope import user_scope

        if user.is_superuser:
            return self
        paths = user_scope(user).record_paths
        return self.filter(subtree_filter(paths, "member__branch__path") | subtree_filter(paths, "organization__path"))

    def current(self) -> Self:
        """Honours not revoked (a revoked honour was a recording mistake: kept, but no longer held)."""
        return self.filter(revoked_at__isnull=True)


class Honour(models.Model):
    """An honour to one member or one unit, with its level, year and issuer."""

    title = models.ForeignKey(
        HonourTitle, on_delete=models.PROTECT, related_name="honours", verbose_name=_("honour title")
    )
    level = models.CharField(_("level"), max_length=10, choices=HonourLevel.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    issuer = models.CharField(_("issued by"), max_length=100)
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="honours",
        verbose_name=_("member"),
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="honours", verbose_name=_("unit")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Revoking marks a mistaken record instead of deleting it (see branches.honour_services).
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("revoked by")
    )
    revoked_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True)

    objects = HonourQuerySet.as_manager()

    class Meta:
        verbose_name = _("honour")
        verbose_name_plural = _("honours")
        ordering = ["-year", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="honour_to_member_or_unit",
                condition=Q(member__isnull=False, organization__isnull=True)
                | Q(member__isnull=True, organization__isnull=False),
            ),
            # The same honour is recorded once per recipient (two for a member and a unit, since NULLs
            # never clash); a revoked record does not stand in the way of recording it again correctly.
            models.UniqueConstraint(
                fields=["title", "level", "year", "member"],
                condition=Q(member__isnull=False, revoked_at__isnull=True),
                name="honour_once_per_member",
            ),
            models.UniqueConstraint(
                fields=["title", "level", "year", "organization"],
                condition=Q(organization__isnull=False, revoked_at__isnull=True),
                name="honour_once_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.title}"

    @property
    def recipient(self) -> Member | Organization:
        return self.member if self.member_id else self.organization

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
