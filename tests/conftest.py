"""Shared fixtures: a small county tree and one persona per role (in scope and out of it).

county C (团县委)
├── township A (乡镇团委) ── branch A1, general branch AG ── branch AG1
└── township B (乡镇团委) ── branch B1
"""

from __future__ import annotations

import importlib
import os
from datetime import date

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.files.storage import storages

from branches.models import (
    ActivityAttachment,
    Organization,
    OrganizationKind,
    PartyOrganization,
    Role,
    RoleAssignment,
    Sector,
    User,
)
from reports.models import Report

# Playwright's sync API runs an event loop in the test thread; the Django ORM calls made by fixtures
# there are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Correct-Horse-9-Battery"


TEST_SETTINGS = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    # A memory cache of this process, empty for each test: tests (and parallel test workers) never see
    # each other's entries, as they would in the shared Redis or file cache of the settings.
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
}


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """TEST_SETTINGS for every test; a fixture that builds data for several tests applies them too
    (override_settings), so that the passwords it sets are checked by the same hasher."""
    for name, value in TEST_SETTINGS.items():
        setattr(settings, name, value)
    cache.clear()


@pytest.fixture(autouse=True)
def _private_file_storages(settings, tmp_path):
    """Uploaded attachments and generated reports go to a folder of the test, not to var/: parallel
    workers would otherwise share var/ and a report's sweep of orphan files (the same names, as each
    worker's database numbers its reports from 1) could delete another worker's files."""
    private = {}
    for name in ("default", "attachments", "reports"):
        storage = settings.STORAGES[name]
        private[name] = {**storage, "OPTIONS": {**storage["OPTIONS"], "location": tmp_path / name}}
    settings.STORAGES = {**settings.STORAGES, **private}
    # A FileField resolves its storage callable once, when the model class is built: follow the setting.
    # Put back here, not with monkeypatch: the test shares that fixture, and a test that ends its own
    # patches halfway with monkeypatch.undo() (some do) would send its files to var/ for the rest of it.
    fields = {
        ActivityAttachment._meta.get_field("file"): "attachments",
        Report._meta.get_field("pdf"): "reports",
        Report._meta.get_field("xlsx"): "reports",
    }
    shared = {field: field.storage for field in fields}
    for field, name in fields.items():
        field.storage = storages[name]
    yield
    for field, storage in shared.items():
        field.storage = storage


def _restore_default_honour_titles() -> None:
    """Transactional tests (browser journeys, thread tests) flush the database, data migrations' rows
    included; put back the honour titles branches/migrations/0011 creates, whatever ran before."""
    from django.apps import apps

    importlib.import_module("branches.migrations.0011_default_honour_titles").create_titles(apps, None)


@pytest.fixture
def tree(db):
    _restore_default_honour_titles()
    county = Organization.objects.add_root(
        dict(name="共青团测试县委员会", code="C", kind=OrganizationKind.COUNTY, sector=Sector.PUBLIC_INSTITUTION)
    )
    party_a = PartyOrganization.objects.create(county=county, name="中共甲镇委员会", contact_name="李书记")
    party_b = PartyOrganization.objects.create(county=county, name="中共乙镇委员会")
    township_a = add(
        county,
        name="共青团甲镇委员会",
        code="C-A",
        kind=OrganizationKind.TOWNSHIP,
        sector=Sector.PUBLIC_INSTITUTION,
        party_organization=party_a,
    )
    township_b = add(
        county,
        name="共青团乙镇委员会",
        code="C-B",
        kind=OrganizationKind.TOWNSHIP,
        sector=Sector.PUBLIC_INSTITUTION,
        party_organization=party_b,
    )
    branch_a1 = add(township_a, name="甲一村团支部", code="C-A-1", kind=OrganizationKind.BRANCH, sector=Sector.VILLAGE)
    general_ag = add(
        township_a, name="甲镇中学团总支", code="C-A-G", kind=OrganizationKind.GENERAL_BRANCH, sector=Sector.SCHOOL
    )
    branch_ag1 = add(
        general_ag, name="甲镇中学九年级团支部", code="C-A-G-1", kind=OrganizationKind.BRANCH, sector=Sector.SCHOOL
    )
    branch_b1 = add(township_b, name="乙一村团支部", code="C-B-1", kind=OrganizationKind.BRANCH, sector=Sector.VILLAGE)
    units = {
        "county": county,
        "township_a": township_a,
        "township_b": township_b,
        "branch_a1": branch_a1,
        "general_ag": general_ag,
        "branch_ag1": branch_ag1,
        "branch_b1": branch_b1,
    }
    for unit in units.values():
        unit.refresh_from_db()
    units["party_a"] = party_a
    units["party_b"] = party_b
    return units


def add(parent: Organization, **fields) -> Organization:
    parent.refresh_from_db()  # treebeard reads the parent's child count
    return Organization.objects.add_child(parent, fields)


def make_user(username: str, role: str | None = None, **binding) -> User:
    user = User.objects.create(username=username, full_name=username.title(), password=make_password(PASSWORD))
    if role:
        RoleAssignment.objects.create(user=user, role=role, starts_on=date(2024, 1, 1), **binding)
    return user


@pytest.fixture
def people(tree):
    """One account per persona, named for what they are."""
    secretary_a1 = make_user("secretary_a1", Role.BRANCH_SECRETARY, organization=tree["branch_a1"])
    system_admin = make_user("system_admin", Role.SYSTEM_ADMIN)
    return {
        "county_staff": make_user("county_staff", Role.COUNTY_STAFF, organization=tree["county"]),
        "township_a_staff": make_user("township_a_staff", Role.TOWNSHIP_STAFF, organization=tree["township_a"]),
        "township_b_staff": make_user("township_b_staff", Role.TOWNSHIP_STAFF, organization=tree["township_b"]),
        "secretary_a1": secretary_a1,
        "deputy_a1": make_user(
            "deputy_a1", Role.BRANCH_SECRETARY, organization=tree["branch_a1"], deputy_for=secretary_a1
        ),
        "secretary_b1": make_user("secretary_b1", Role.BRANCH_SECRETARY, organization=tree["branch_b1"]),
        "party_a": make_user("party_a", Role.PARTY_ORGANIZER, party_organization=tree["party_a"]),
        "system_admin": system_admin,
        "security_admin": make_user("security_admin", Role.SECURITY_ADMIN),
        "audit_admin": make_user("audit_admin", Role.AUDIT_ADMIN),
        "nobody": make_user("nobody"),
    }


@pytest.fixture
def login(client):
    """Sign a persona in on the test client (the sign-in signal starts the session clock)."""

    def _login(user: User):
        client.force_login(user)
        return client

    return _login


_id_sequence = iter(range(1, 10**6))


def valid_id_number(born: date = date(2004, 5, 17), sex: str = "M", region: str = "520123") -> str:
    """A fresh, valid ID number for the given birth date and sex."""
    from members import idnumbers

    n = next(_id_sequence)
    sequence = (n % 100) * 10 + (1 if sex == "M" else 2) + 2 * ((n // 100) % 4)
    return idnumbers.with_check_character(f"{region}{born:%Y%m%d}{sequence:03d}")


def make_member(branch: Organization, name: str = "张三", **fields):
    from members.models import Member

    born = fields.pop("birth_date", date(2004, 5, 17))
    sex = fields.pop("sex", "M")
    member = Member(
        branch=branch,
        name=name,
        sex=sex,
        birth_date=born,
        education=fields.pop("education", "senior"),
        occupation=fields.pop("occupation", "farmer"),
        joined_on=fields.pop("joined_on", date(born.year + 15, 5, 4)),
        **fields,
    )
    member.id_number = valid_id_number(born, sex)
    member.save()
    return member
