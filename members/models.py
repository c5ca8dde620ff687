"""Member records (团员): the county's member database and the dated events of each member's life
in the League (annual registration, education evaluation, transfers)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import BRANCH_KINDS, Education, Organization, Sex, subtree_filter
from members import idnumbers

if TYPE_CHECKING:
    from branches.models import User


# The 56 ethnic groups in the order and with the codes of GB/T 3304.
ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族", "白族",
    "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族",
    "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族",
    "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族",
    "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
]  # fmt: skip
ETHNICITY_CHOICES = [(f"{code:02d}", name) for code, name in enumerate(ETHNICITIES, start=1)]


class Occupation(models.TextChoices):
    STUDENT = "student", _("Student")
    FARMER = "farmer", _("Farmer")
    WORKER = "worker", _("Worker")
    ENTERPRISE = "enterprise", _("Enterprise employee")
    CIVIL_SERVANT = "civil_servant", _("Civil servant")
    PUBLIC_INSTITUTION = "public", _("Public institution staff")
    SELF_EMPLOYED = "self_employed", _("Self-employed")
    MIGRANT = "migrant", _("Migrant worker (进城务工青年)")
    UNEMPLOYED = "unemployed", _("Not employed")
    OTHER = "other", _("Other")


class LeaguePost(models.TextChoices):
    NONE = "", _("None")
    SECRETARY = "secretary", _("Secretary (书记)")
    DEPUTY_SECRETARY = "deputy", _("Deputy secretary (副书记)")
    ORGANIZATION = "organization", _("Organization member (组织委员)")
    PUBLICITY = "publicity", _("Publicity member (宣传委员)")
    COMMITTEE = "committee", _("Committee member (委员)")
    GROUP_LEADER = "group_leader", _("Group leader (团小组长)")


class PoliticalStatus(models.TextChoices):
    LEAGUE_MEMBER = "league", _("League member (共青团员)")
    PROBATIONARY_PARTY = "probationary", _("Probationary Party member (中共预备党员)")
    PARTY_MEMBER = "party", _("Party member keeping League membership (中共党员)")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out of the county")
    LEFT_OVER_AGE = "over_age", _("Left: over age (超龄离团)")
    LEFT_WITHDRAWN = "withdrawn", _("Left: withdrew (退团)")
    LEFT_LAPSED = "lapsed", _("Left: lapsed (脱团)")
    LEFT_REMOVED = "removed", _("Left: removed (除名)")


LEFT_STATUSES = frozenset(
    {
        MemberStatus.TRANSFERRED_OUT,
        MemberStatus.LEFT_OVER_AGE,
        MemberStatus.LEFT_WITHDRAWN,
        MemberStatus.LEFT_LAPSED,
        MemberStatus.LEFT_REMOVED,
    }
)


class MemberQuerySet(models.QuerySet["Member"]):
    def visible_to(self, user: User) -> Self:
        """Members of the units the user works in through a League role (see branches.scope)."""
        from branches.scope import user_scope

        if user.is_superuser:
            return self
        return self.filter(subtree_filter(user_scope(user).record_paths, "branch__path"))

    def active(self) -> Self:
        return self.filter(status=MemberStatus.ACTIVE)

    def with_id_number(self, number: str) -> Self:
        return self.filter(id_number_hash=idnumbers.lookup_hash(number))


class Member(models.Model):
    """One member of the League, recorded in exactly one branch.

    The national ID number is never stored in clear: `id_number_encrypted` holds it encrypted,
    `id_number_hash` a keyed hash for uniqueness and exact lookup, `id_number_masked` what most
    people may see, and `id_number_tail` its last four characters for searching.
    """

    branch = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("branch"),
        limit_choices_to={"kind__in": sorted(BRANCH_KINDS)},
    )
    name = models.CharField(_("full name"), max_length=50, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, db_index=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=2, choices=ETHNICITY_CHOICES, default="01")
    id_number_encrypted = models.TextField(editable=False)
    id_number_hash = models.CharField(max_length=64, editable=False, db_index=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18, editable=False)
    id_number_tail = models.CharField(max_length=4, editable=False, db_index=True)
    birth_date = models.DateField(_("date of birth"), db_index=True)
    native_place = models.CharField(_("native place"), max_length=100, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    education = models.CharField(_("education"), max_length=20, choices=Education.choices, db_index=True)
    occupation = models.CharField(_("occupation"), max_length=20, choices=Occupation.choices, db_index=True)
    workplace = models.CharField(_("workplace or school"), max_length=100, blank=True)
    joined_on = models.DateField(_("date joined the League"), db_index=True)
    admission_number = models.CharField(_("admission number (发展团员编号)"), max_length=20, blank=True, db_index=True)
    card_number = models.CharField(_("membership card number (团员证编号)"), max_length=20, blank=True, db_index=True)
    league_post = models.CharField(_("League post"), max_length=20, choices=LeaguePost.choices, blank=True)
    political_status = models.CharField(
        _("political status"),
        max_length=20,
        choices=PoliticalStatus.choices,
        default=PoliticalStatus.LEAGUE_MEMBER,
        db_index=True,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.ACTIVE, db_index=True
    )
    left_on = models.DateField(_("date left"), null=True, blank=True)
    leaving_reason = models.CharField(_("reason for leaving"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["branch__path", "name", "pk"]
        constraints = [
            # A person is an active member in one branch at most, across the whole instance.
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=Q(status="active"), name="member_one_active_record_per_person"
            ),
            models.CheckConstraint(
                name="member_joined_after_birth",
                condition=Q(joined_on__gt=models.F("birth_date")),
                violation_error_message=_("The joining date must come after the date of birth."),
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "status", "name"]),
            models.Index(fields=["status", "birth_date"]),
        ]

    def __str__(self) -> str:
        return self.name

    # --- the national ID number -------------------------------------------------------------

    @property
    def id_number(self) -> str:
        """The full number: only for roles that need it, and an access to be audited by the caller."""
        return idnumbers.decrypt(self.id_number_encrypted)

    @id_number.setter
    def id_number(self, raw: str) -> None:
        number = idnumbers.normalize(raw)
        self.id_number_encrypted = idnumbers.encrypt(number)
        self.id_number_hash = idnumbers.lookup_hash(number)
        self.id_number_masked = idnumbers.mask(number)
        self.id_number_tail = number[-4:]

    # --- derived values, never stored ------------------------------------------------------

    def age_on(self, day: date | None = None) -> int:
        return years_between(self.birth_date, day or timezone.localdate())

    @property
    def age(self) -> int:
        return self.age_on()

    @property
    def league_years(self) -> int:
        """League age (团龄) in whole years."""
        return years_between(self.joined_on, timezone.localdate())

    @property
    def turns_over_age_on(self) -> date:
        """The day the member reaches the leaving age (28 by default)."""
        return add_years(self.birth_date, settings.LEAGUE_RULES["leaving_age"])

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


def choice_labels(field_name: str) -> dict[str, str]:
    """A member field's choices as value → label in the current language: built once for a list or
    an export, where get_<field>_display() would rebuild and translate them for every cell."""
    return {value: str(label) for value, label in Member._meta.get_field(field_name).flatchoices}


def years_between(start: date, end: date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none: the birthday falls on 1 March
        return date(day.year + years, 3, 1)


class EvaluationGrade(models.TextChoices):
    """The four grades of the annual education evaluation (团员教育评议), best first."""

    EXCELLENT = "excellent", _("Excellent (优秀)")
    QUALIFIED = "qualified", _("Qualified (合格)")
    BASIC = "basic", _("Basically qualified (基本合格)")
    UNQUALIFIED = "unqualified", _("Unqualified (不合格)")


# Only grade 基本合格 or better may register for the year (domain.md §5.1).
REGISTRABLE_GRADES = frozenset({EvaluationGrade.EXCELLENT, EvaluationGrade.QUALIFIED, EvaluationGrade.BASIC})


class Evaluation(models.Model):
    """A member's grade in one year's education evaluation."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("member"))
    year = models.PositiveSmallIntegerField(_("year"))
    grade = models.CharField(_("grade"), max_length=12, choices=EvaluationGrade.choices)
    follow_up_on = models.DateField(
        _("follow-up date"), null=True, blank=True, help_text=_("For an unqualified grade: when to review again.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="evaluation_once_a_year")]
        indexes = [models.Index(fields=["year", "grade"])]

    def __str__(self) -> str:
        return f"{self.member} {self.year} {self.get_grade_display()}"


class Registration(models.Model):
    """A member's annual registration (团籍注册) for one year."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("member"))
    year = models.PositiveSmallIntegerField(_("year"))
    registered_on = models.DateField(_("registered on"), default=timezone.localdate)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="registration_once_a_year")]
        indexes = [models.Index(fields=["year", "member"])]

    def __str__(self) -> str:
        return f"{self.member} {self.year}"


class SanctionKind(models.TextChoices):
    """Sanctions within the League (团内处分), from the mildest."""

    WARNING = "warning", _("Warning (警告)")
    SERIOUS_WARNING = "serious_warning", _("Serious warning (严重警告)")
    POST_REMOVED = "post_removed", _("Removal from League posts (撤销团内职务)")
    PROBATION = "probation", _("Probation within the League (留团察看)")
    EXPELLED = "expelled", _("Expulsion (开除团籍)")


class SanctionQuerySet(models.QuerySet["Sanction"]):
    def open_on(self, day: date) -> Self:
        """Sanctions imposed by `day` and not lifted by then."""
        return self.filter(Q(imposed_on__lte=day), Q(lifted_on__isnull=True) | Q(lifted_on__gt=day))


class Sanction(models.Model):
    """A sanction on a member; while open it bars recommendation to the Party (推优, domain.md §6.2)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="sanctions", verbose_name=_("member"))
    kind = models.CharField(_("sanction"), max_length=20, choices=SanctionKind.choices)
    imposed_on = models.DateField(_("imposed on"))
    reason = models.CharField(_("reason"), max_length=200)
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = SanctionQuerySet.as_manager()

    class Meta:
        verbose_name = _("sanction")
        verbose_name_plural = _("sanctions")
        ordering = ["-imposed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="sanction_lifted_after_imposed",
                condition=Q(lifted_on__isnull=True) | Q(lifted_on__gte=models.F("imposed_on")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()} {self.imposed_on}"


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    LAPSED = "lapsed", _("Lapsed")
    CANCELLED = "cancelled", _("Withdrawn")


class TransferQuerySet(models.QuerySet["Transfer"]):
    def visible_to(self, user: User) -> Self:
        """Transfers from or to the units the user works in: both sides see them."""
        from branches.scope import user_scope

        if user.is_superuser:
            return self
        paths = user_scope(user).record_paths
        return self.filter(subtree_filter(paths, "from_branch__path") | subtree_filter(paths, "to_unit__path"))

    def pending(self) -> Self:
        return self.filter(status=TransferStatus.PENDING)


class Transfer(models.Model):
    """A member's organizational relationship moving (组织关系转接) from one branch to another unit of
    the county, approved by both sides; or out of the county, recorded by the sending side."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("member"))
    from_branch = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="transfers_out", verbose_name=_("from branch")
    )
    to_unit = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_in",
        verbose_name=_("to unit"),
        help_text=_("A branch, or a committee that places the member in one of its branches."),
    )
    to_branch = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("placed in")
    )
    destination = models.CharField(_("destination outside the county"), max_length=200, blank=True)
    initiated_by_receiving_side = models.BooleanField(_("requested by the receiving side"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=TransferStatus.choices, default=TransferStatus.PENDING, db_index=True
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    expires_on = models.DateField(_("lapses after"))
    sending_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    receiving_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # No member is ever in two branches: one open transfer at a time.
            models.UniqueConstraint(
                fields=["member"], condition=Q(status="pending"), name="transfer_one_open_per_member"
            ),
            models.CheckConstraint(
                name="transfer_has_a_destination", condition=Q(to_unit__isnull=False) | ~Q(destination="")
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.member} → {self.to_unit or self.destination}"

    @property
    def out_of_county(self) -> bool:
        return self.to_unit_id is None


class ImportBatch(models.Model):
    """One uploaded roster: parsed and checked (the preview), then committed, all valid rows or none.

    Parsed rows are kept as JSON with the ID numbers encrypted, so that the preview, the commit and the
    file of rows to fix all work from one reading of the upload (which is not kept)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be checked")
        CHECKING = "checking", _("Being checked")
        CHECKED = "checked", _("Checked: ready to commit")
        COMMITTING = "committing", _("Being committed")
        COMMITTED = "committed", _("Committed")
        FAILED = "failed", _("Could not be read")

    branch = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("branch"))
    file_name = models.CharField(_("file"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    message = models.CharField(_("message"), max_length=300, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    rows = models.JSONField(default=list, editable=False)
    # The upload waiting for a background check, encrypted like the ID numbers in it; emptied once read.
    upload_encrypted = models.BinaryField(null=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress_percent(self) -> int:
        return round(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
