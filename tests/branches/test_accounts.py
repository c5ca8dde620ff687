"""Account administration: creating accounts, roles with periods, hand-over, deputies, 三员分立."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from branches import account_services as services
from branches.models import Organization, Role, RoleAssignment, User
from branches.scope import user_scope
from tests.branches.test_unit_search import picker
from tests.conftest import add


def test_county_staff_create_a_secretary_account_through_the_page(client, tree, people, login):
    login(people["county_staff"])
    response = client.post(
        reverse("branches:account-create"),
        {
            "username": "New_Secretary",
            "full_name": "王新",
            "phone": "13812345678",
            "email": "",
            "role": Role.BRANCH_SECRETARY,
            "organization": tree["branch_b1"].pk,
            "starts_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 200
    password = response.context["password"]
    account = User.objects.get(username="new_secretary")
    assert account.must_change_password
    assert account.check_password(password)
    assert user_scope(account).sees(tree["branch_b1"])
    assert not user_scope(account).sees(tree["branch_a1"])
    assert response["Cache-Control"] == "no-store"


def test_bad_input_shows_field_errors_and_saves_nothing(client, tree, people, login):
    login(people["county_staff"])
    before = User.objects.count()
    response = client.post(
        reverse("branches:account-create"),
        {"username": "secretary_a1", "full_name": "", "phone": "12345", "role": Role.BRANCH_SECRETARY},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"username", "full_name", "phone", "organization"}
    assert User.objects.count() == before


def test_a_secretary_role_cannot_be_bound_to_a_township(tree, people):
    with pytest.raises(ValidationError):
        services.account_create(
            actor=people["county_staff"],
            username="x1",
            full_name="X",
            role=Role.BRANCH_SECRETARY,
            organization=tree["township_a"],
        )
    assert not User.objects.filter(username="x1").exists()


@pytest.mark.parametrize("actor", ["county_staff", "security_admin"])
def test_only_the_operator_grants_administrator_roles(tree, people, actor):
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=people[actor], user=people["nobody"], role=Role.AUDIT_ADMIN)


def test_an_administrator_account_holds_no_other_role(tree, people):
    operator = User.objects.create(username="operator", is_superuser=True)
    services.role_grant(actor=operator, user=people["nobody"], role=Role.AUDIT_ADMIN)
    assert user_scope(User.objects.get(pk=people["nobody"].pk)).has_role(Role.AUDIT_ADMIN)
    with pytest.raises(ValidationError):
        services.role_grant(actor=operator, user=people["nobody"], role=Role.COUNTY_STAFF, organization=tree["county"])
    with pytest.raises(ValidationError):
        services.role_grant(actor=operator, user=people["secretary_a1"], role=Role.SYSTEM_ADMIN)


def test_nobody_changes_their_own_roles(tree, people):
    with pytest.raises((PermissionDenied, ValidationError)):
        services.role_grant(
            actor=people["county_staff"],
            user=people["county_staff"],
            role=Role.BRANCH_SECRETARY,
            organization=tree["branch_a1"],
        )


def test_the_security_administrator_cannot_reach_other_administrators(tree, people):
    for target in ["audit_admin", "system_admin", "security_admin"]:
        with pytest.raises((PermissionDenied, ValidationError)):
            services.account_reset_password(actor=people["security_admin"], user=people[target])
    services.account_reset_password(actor=people["security_admin"], user=people["secretary_b1"])


def test_county_staff_cannot_give_roles_to_accounts_outside_their_county(tree, people):
    with pytest.raises(PermissionDenied):
        services.role_grant(
            actor=people["county_staff"],
            user=people["audit_admin"],
            role=Role.BRANCH_SECRETARY,
            organization=tree["branch_a1"],
        )


def test_a_role_is_not_held_twice(tree, people):
    with pytest.raises(ValidationError):
        services.role_grant(
            actor=people["county_staff"],
            user=people["secretary_a1"],
            role=Role.BRANCH_SECRETARY,
            organization=tree["branch_a1"],
        )


def test_township_staff_cannot_manage_accounts(tree, people):
    with pytest.raises(PermissionDenied):
        services.account_create(
            actor=people["township_a_staff"],
            username="x2",
            full_name="X",
            role=Role.BRANCH_SECRETARY,
            organization=tree["branch_a1"],
        )


def test_hand_over_ends_the_holder_and_starts_the_successor_in_one_action(tree, people):
    successor = User.objects.create(username="successor", full_name="继任者")
    RoleAssignment.objects.create(
        user=successor, role=Role.BRANCH_SECRETARY, organization=tree["branch_b1"], starts_on=date(2024, 1, 1)
    )  # the successor is already an account in the county
    holder_role = people["secretary_a1"].roles.get()
    today = timezone.localdate()
    new_role = services.role_hand_over(
        actor=people["county_staff"], assignment=holder_role, successor=successor, on_date=today
    )
    holder_role.refresh_from_db()
    assert holder_role.ends_on == today - timedelta(days=1)
    assert new_role.starts_on == today and new_role.organization == tree["branch_a1"]
    # The deputy of the outgoing secretary loses the rights with them.
    deputy_role = people["deputy_a1"].roles.get()
    assert deputy_role.ends_on == today - timedelta(days=1)
    assert not user_scope(User.objects.get(pk=people["secretary_a1"].pk)).sees(tree["branch_a1"])
    assert user_scope(User.objects.get(pk=successor.pk)).sees(tree["branch_a1"])


def test_a_role_with_an_end_date_stops_giving_rights_after_it(tree, people):
    role = people["secretary_b1"].roles.get()
    yesterday = timezone.localdate() - timedelta(days=1)
    services.role_end(actor=people["county_staff"], assignment=role, on_date=yesterday)
    assert not user_scope(User.objects.get(pk=people["secretary_b1"].pk)).sees(tree["branch_b1"])


def test_a_deputy_must_stand_in_for_a_real_holder(tree, people):
    with pytest.raises(ValidationError):
        services.role_grant(
            actor=people["county_staff"],
            user=people["township_b_staff"],
            role=Role.BRANCH_SECRETARY,
            organization=tree["branch_b1"],
            deputy_for=people["secretary_a1"],  # who is secretary of A1, not B1
        )


def test_the_admin_site_follows_the_system_administrator_role_dates(client, tree, people, login):
    account = people["nobody"]
    tomorrow = timezone.localdate() + timedelta(days=1)
    role = RoleAssignment.objects.create(user=account, role=Role.SYSTEM_ADMIN, starts_on=tomorrow)
    assert login(account).get(reverse("admin:index")).status_code == 302  # not yet
    role.starts_on = date(2024, 1, 1)
    role.ends_on = timezone.localdate() - timedelta(days=1)
    role.save()
    assert login(account).get(reverse("admin:index")).status_code == 302  # no longer
    role.ends_on = None
    role.save()
    assert login(account).get(reverse("admin:index")).status_code == 200


def test_a_deputy_loses_the_rights_when_the_principal_s_term_runs_out(tree, people):
    principal_role = people["secretary_a1"].roles.get()
    principal_role.ends_on = timezone.localdate() - timedelta(days=1)  # the term ran out by date
    principal_role.save()
    assert not user_scope(User.objects.get(pk=people["deputy_a1"].pk)).sees(tree["branch_a1"])


def test_roles_at_a_dissolved_unit_end_with_it_and_can_still_be_handed_over(tree, people):
    from branches import services as tree_services

    staff = people["county_staff"]
    today = timezone.localdate()
    tree_services.organization_dissolve(actor=staff, organization=tree["branch_b1"], on_date=today, reason="撤并")
    role = people["secretary_b1"].roles.get()
    assert role.ends_on == today
    with pytest.raises(ValidationError):  # no new role at a dissolved unit
        services.role_grant(
            actor=staff,
            user=people["secretary_a1"],
            role=Role.BRANCH_SECRETARY,
            organization=Organization.objects.get(pk=tree["branch_b1"].pk),
        )


def test_handing_over_a_role_that_began_today(tree, people):
    today = timezone.localdate()
    holder, _password = services.account_create(
        actor=people["county_staff"],
        username="holder",
        full_name="甲",
        role=Role.BRANCH_SECRETARY,
        organization=tree["branch_b1"],
    )
    successor, _password = services.account_create(
        actor=people["county_staff"],
        username="successor2",
        full_name="乙",
        role=Role.TOWNSHIP_STAFF,
        organization=tree["township_b"],
    )
    new = services.role_hand_over(
        actor=people["county_staff"], assignment=holder.roles.get(), successor=successor, on_date=today
    )
    assert new.starts_on == today


def test_resetting_a_password_is_audited_without_the_password(tree, people):
    password = services.account_reset_password(actor=people["county_staff"], user=people["secretary_a1"])
    entry = LogEntry.objects.get_for_object(people["secretary_a1"]).first()
    assert entry.actor == people["county_staff"]
    assert password not in str(entry.changes)


def test_account_list_searches_and_counts_in_a_bounded_number_of_queries(
    client, tree, people, login, django_assert_max_num_queries
):
    login(people["county_staff"])
    for i in range(30):
        account = User.objects.create(username=f"bulk{i:02d}")
        RoleAssignment.objects.create(
            user=account, role=Role.BRANCH_SECRETARY, organization=tree["branch_b1"], starts_on=date(2024, 1, 1)
        )
    with django_assert_max_num_queries(12):
        response = client.get(reverse("branches:accounts"))
    # the six other unit and Party personas of the county and the thirty new ones; not the
    # administrators, and not the county staff member themself
    assert response.context["page"].paginator.count == 36
    response = client.get(reverse("branches:accounts"), {"q": "bulk0"})
    assert response.context["page"].paginator.count == 10


# --- the unit of a role: searched as you type (issue 8) --------------------------------------------


@pytest.mark.parametrize("page", ["branches:account-create", "branches:role-grant"])
def test_the_role_s_unit_picker_renders_only_the_chosen_unit(client, tree, people, login, page):
    url = reverse(page, kwargs={"pk": people["secretary_b1"].pk} if page == "branches:role-grant" else None)
    login(people["county_staff"])
    response = client.get(url)
    select = picker(response, "organization")
    assert select.count("<option") == 1 and 'data-unit-for="roles"' in select
    size = len(response.content)
    for i in range(30):
        add(tree["township_b"], name=f"乙{i:02d}村团支部", code=f"C-B-{i + 10}", kind="branch", sector="village")
    assert len(client.get(url).content) == size  # the page does not grow with the tree
    # Refused for another reason (no start date), the chosen unit stays chosen.
    response = client.post(url, {"role": Role.BRANCH_SECRETARY, "organization": tree["branch_b1"].pk})
    assert "starts_on" in response.context["form"].errors and "organization" not in response.context["form"].errors
    select = picker(response, "organization")
    assert select.count("<option") == 2 and f'value="{tree["branch_b1"].pk}" selected' in select


def test_a_role_s_unit_outside_the_remit_is_refused_with_a_message(client, tree, people, login):
    county = Organization.objects.add_root(
        {"name": "共青团外县委员会", "code": "X", "kind": "county", "sector": "public"}
    )
    login(people["county_staff"])
    response = client.post(
        reverse("branches:account-create"),
        {
            "username": "x1",
            "full_name": "外",
            "role": Role.COUNTY_STAFF,
            "organization": county.pk,
            "starts_on": "2026-01-01",
        },
    )
    assert response.context["form"].errors["organization"] == [
        "此处不能选择这个组织。请输入组织名称中的几个字，再从列表中选取。"
    ]
    assert "共青团外县委员会" not in picker(response, "organization")
    assert not User.objects.filter(username="x1").exists()
