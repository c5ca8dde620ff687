"""The organization tree, accounts and the roles that give them their scope.

Scope in one sentence: a user sees the subtrees of the units their active roles are bound to
(a Party organizer: the units paired with their Party organization), and instance-wide roles see
everything. `Organization.objects.visible_to(user)` is the one entry point every app builds on.
"""

from __future__ import annotations

from datetime import date
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Self

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

if TYPE_CHECKING:
    from collections.abc import Iterable


class OrganizationKind(models.TextChoices):
    COUNTY = "county", _("County committee (团县委)")
    TOWNSHIP = "township", _("Township committee (乡镇团委)")
    STREET = "street", _("Street working committee (街道团工委)")
    GRASSROOTS = "grassroots", _("Other grassroots committee (基层团委)")
    GENERAL_BRANCH = "general_branch", _("General branch (团总支)")
    BRANCH = "branch", _("Branch (团支部)")
    JOINT_BRANCH = "joint_branch", _("Joint branch (联合团支部)")
    TEMPORARY_BRANCH = "temporary_branch", _("Temporary branch (临时团支部)")
    MOBILE_BRANCH = "mobile_branch", _("Mobile-member branch (流动团员团支部)")


BRANCH_KINDS = frozenset(
    {
        OrganizationKind.BRANCH,
        OrganizationKind.JOINT_BRANCH,
        OrganizationKind.TEMPORARY_BRANCH,
        OrganizationKind.MOBILE_BRANCH,
    }
)
# Township-level committees: what township staff are bound to and what reviews a branch's work.
COMMITTEE_KINDS = frozenset({OrganizationKind.TOWNSHIP, OrganizationKind.STREET, OrganizationKind.GRASSROOTS})

# Which kinds may sit directly under which (domain.md §2.1): members are recorded only in
# branches, so a branch holds nothing; a county sits at the top of a county's tree.
ALLOWED_CHILD_KINDS: dict[str, frozenset[str]] = {
    OrganizationKind.COUNTY: COMMITTEE_KINDS | {OrganizationKind.GENERAL_BRANCH} | BRANCH_KINDS,
    OrganizationKind.TOWNSHIP: {OrganizationKind.GRASSROOTS, OrganizationKind.GENERAL_BRANCH} | BRANCH_KINDS,
    OrganizationKind.STREET: {OrganizationKind.GRASSROOTS, OrganizationKind.GENERAL_BRANCH} | BRANCH_KINDS,
    OrganizationKind.GRASSROOTS: {OrganizationKind.GENERAL_BRANCH} | BRANCH_KINDS,
    OrganizationKind.GENERAL_BRANCH: BRANCH_KINDS,
    **{kind: frozenset() for kind in BRANCH_KINDS},
}


class Sector(models.TextChoices):
    VILLAGE = "village", _("Village")
    COMMUNITY = "community", _("Community")
    SCHOOL = "school", _("School")
    NON_PUBLIC_ENTERPRISE = "enterprise", _("Non-public enterprise")
    SOCIAL_ORGANIZATION = "social", _("Social organization")
    PUBLIC_INSTITUTION = "public", _("Government or public institution")
    OTHER = "other", _("Other")


class PartyOrganizationQuerySet(models.QuerySet["PartyOrganization"]):
    def visible_to(self, user: User) -> Self:
        """Party organizations of the counties the user works in."""
        from branches.scope import user_scope

        scope = user_scope(user)
        if scope.sees_everything:
            return self
        county_paths = {path[: Organization.steplen] for path in (*scope.visible_paths, *scope.exact_paths)}
        return self.filter(county__path__in=county_paths)


class PartyOrganization(models.Model):
    """A Party organization (党组织) paired with League units; 推优 hands members over to it."""

    county = models.ForeignKey(
        "Organization",
        on_delete=models.PROTECT,
        related_name="party_organizations",
        verbose_name=_("county committee"),
        limit_choices_to={"kind": OrganizationKind.COUNTY},
    )
    name = models.CharField(_("name"), max_length=100)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)

    objects = PartyOrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("Party organization")
        verbose_name_plural = _("Party organizations")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="party_org_unique_name_in_county")]

    def __str__(self) -> str:
        return self.name


class OrganizationQuerySet(MP_NodeQuerySet):
    def visible_to(self, user: User) -> Self:
        """Units the user may see: subtrees of their active roles' units."""
        from branches.scope import user_scope  # the scope module reads these models

        scope = user_scope(user)
        if scope.sees_everything:
            return self
        return self.filter(subtree_filter(scope.visible_paths) | Q(path__in=scope.exact_paths))

    def manageable_by(self, user: User) -> Self:
        """Units whose structure the user may change (create under, edit): staff subtrees."""
        from branches.scope import user_scope

        scope = user_scope(user)
        return self.filter(subtree_filter(scope.managed_paths))

    def subtree_of(self, paths: Iterable[str]) -> Self:
        return self.filter(subtree_filter(paths))

    def active(self) -> Self:
        return self.filter(dissolved_on__isnull=True)

    def branches(self) -> Self:
        return self.filter(kind__in=BRANCH_KINDS)


class OrganizationManager(MP_NodeManager.from_queryset(OrganizationQuerySet)):
    """treebeard's tree operations plus our queryset methods (visible_to, active…)."""

    def get_queryset(self) -> OrganizationQuerySet:
        return OrganizationQuerySet(self.model, using=self._db).order_by("path")


def subtree_filter(paths: Iterable[str], field: str = "path") -> Q:
    """A Q matching every node under (and including) any of the given materialized paths."""
    conditions = [Q(**{f"{field}__startswith": path}) for path in sorted(set(paths))]
    if not conditions:
        return Q(pk__in=[])
    return reduce(or_, conditions)


class Organization(MP_Node):
    """A League unit: county committee, township committee, general branch, branch…

    Never deleted: dissolving sets `dissolved_on` so that history (members, meetings, audit) stays.
    """

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(
        _("code"), max_length=32, unique=True, help_text=_("The unit's unique code in the county's numbering.")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=OrganizationKind.choices, db_index=True)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices, db_index=True)
    founded_on = models.DateField(_("founding date"), null=True, blank=True)
    approved_by = models.CharField(
        _("approving organization"),
        max_length=100,
        blank=True,
        help_text=_("The committee above that approved the unit's founding."),
    )
    party_organization = models.ForeignKey(
        PartyOrganization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("paired Party organization"),
    )
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    dissolution_reason = models.CharField(_("reason for dissolution"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    node_order_by = ["code"]
    objects = OrganizationManager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_branch(self) -> bool:
        return self.kind in BRANCH_KINDS

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None

    def may_hold(self, child_kind: str) -> bool:
        return child_kind in ALLOWED_CHILD_KINDS[self.kind]


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username: str) -> User:
        """Usernames are stored in lower case; sign-in accepts them in any case."""
        return self.get(username__iexact=username)


class User(AbstractUser):
    """An account. What it may see and do comes from its role assignments, never from flags."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set when an administrator issues a temporary password."),
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class Role(models.TextChoices):
    COUNTY_STAFF = "county_staff", _("County committee staff (团县委工作人员)")
    TOWNSHIP_STAFF = "township_staff", _("Township committee staff (乡镇团委工作人员)")
    BRANCH_SECRETARY = "branch_secretary", _("Branch secretary (团支部书记)")
    PARTY_ORGANIZER = "party_organizer", _("Party organizer (党组织联系人)")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


# The unit kinds each unit-bound role may be bound to.
ROLE_UNIT_KINDS: dict[str, frozenset[str]] = {
    Role.COUNTY_STAFF: frozenset({OrganizationKind.COUNTY}),
    Role.TOWNSHIP_STAFF: COMMITTEE_KINDS,
    Role.BRANCH_SECRETARY: BRANCH_KINDS | {OrganizationKind.GENERAL_BRANCH},
}
STAFF_ROLES = frozenset({Role.COUNTY_STAFF, Role.TOWNSHIP_STAFF})
# Instance-wide roles (三员分立: system, security and audit administration kept apart).
INSTANCE_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def active_on(self, day: date | None = None) -> Self:
        day = day or timezone.localdate()
        return self.filter(Q(starts_on__lte=day), Q(ends_on__isnull=True) | Q(ends_on__gte=day))


class RoleAssignment(models.Model):
    """One role of one account, bound to a unit (or a Party organization), for a period.

    A deputy assignment (`deputy_for` set) gives the same rights as the principal's role on the
    same unit; what the deputy does is recorded as done on the principal's behalf.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles", verbose_name=_("account"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("unit"),
    )
    party_organization = models.ForeignKey(
        PartyOrganization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("Party organization"),
    )
    may_export_records = models.BooleanField(
        _("may export records"),
        default=False,
        help_text=_("Exporting people's records to files is a right of its own, given role by role."),
    )
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    deputy_for = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deputies",
        verbose_name=_("deputy for"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["-starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                name="role_binding_matches_role",
                condition=(
                    Q(role__in=sorted(ROLE_UNIT_KINDS), organization__isnull=False, party_organization__isnull=True)
                    | Q(role=Role.PARTY_ORGANIZER, organization__isnull=True, party_organization__isnull=False)
                    | Q(role__in=sorted(INSTANCE_ROLES), organization__isnull=True, party_organization__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="role_period_ordered",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
            ),
        ]
        indexes = [models.Index(fields=["user", "starts_on", "ends_on"])]

    def __str__(self) -> str:
        bound_to = self.organization or self.party_organization
        label = self.get_role_display()
        return f"{label} · {bound_to}" if bound_to else str(label)

    def is_active_on(self, day: date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)


class LoginEvent(models.Model):
    """Sign-ins, failures and sign-outs: the security log, and what lockout counts."""

    class Kind(models.TextChoices):
        SUCCESS = "success", _("Signed in")
        FAILURE = "failure", _("Failed sign-in")
        LOCKED = "locked", _("Sign-in refused: locked")
        LOGOUT = "logout", _("Signed out")
        UNLOCKED = "unlocked", _("Unlocked by an administrator")

    username = models.CharField(_("username"), max_length=150)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("account")
    )
    kind = models.CharField(_("event"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in events")
        ordering = ["-at"]
        indexes = [models.Index(fields=["username", "kind", "at"])]

    def __str__(self) -> str:
        return f"{self.username} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class NotificationKind(models.TextChoices):
    TRANSFER = "transfer", _("Transfers")
    OVER_AGE = "over_age", _("Members reaching the leaving age")
    WORK_REMINDER = "work_reminder", _("County work reminders")
    REGISTRATION = "registration", _("Annual registration")
    BRANCH_LIFE = "branch_life", _("Meetings and activities")
    COMMITTEE_TERM = "committee_term", _("Committee terms and elections")
    PROMOTION = "promotion", _("Recommendation to the Party (推优)")
    REPORTS = "reports", _("Reports")


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> Self:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """A message in one account's inbox. `key` names the reminder (rule, target, period): the unique
    constraint makes every reminder arrive once, however often or concurrently its rule runs."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    key = models.CharField(max_length=120)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_recipient")]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.subject


class NotificationPreference(models.Model):
    """Whether an account also wants one kind of notification by email (the inbox always has it)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    by_email = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)  # e-mail covers notifications from this moment on

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}"


class ReminderRun(models.Model):
    """One run of one reminder rule: when, for which day, and how many notifications it created."""

    rule = models.CharField(max_length=50, db_index=True)
    for_date = models.DateField()
    ran_at = models.DateTimeField(default=timezone.now)
    created = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.rule} {self.for_date}"


class WorkReminder(models.Model):
    """The county committee's monthly work reminder (团县委每月工作提醒): written once by county staff,
    sent on its date to every branch secretary and committee staff member under the county."""

    county = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("county committee")
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    send_on = models.DateField(_("send on"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("work reminder")
        verbose_name_plural = _("work reminders")
        ordering = ["-send_on", "-pk"]

    def __str__(self) -> str:
        return self.title
