"""Account administration: creating accounts, roles with periods, hand-over, deputies, 三员分立."""

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from branches import services
from branches.models import Role, RoleAssignment, User
from branches.scope import user_scope


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


def test_county_staff_cannot_grant_instance_roles(tree, people):
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=people["county_staff"], user=people["nobody"], role=Role.AUDIT_ADMIN)
    services.role_grant(actor=people["security_admin"], user=people["nobody"], role=Role.AUDIT_ADMIN)
    assert user_scope(people["nobody"]).has_role(Role.AUDIT_ADMIN)


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
            user=people["nobody"],
            role=Role.BRANCH_SECRETARY,
            organization=tree["branch_b1"],
            deputy_for=people["secretary_a1"],  # who is secretary of A1, not B1
        )


def test_the_system_administrator_role_opens_the_admin_and_ending_it_closes_it(tree, people):
    account = people["nobody"]
    two_days_ago = timezone.localdate() - timedelta(days=2)
    role = services.role_grant(
        actor=people["security_admin"], user=account, role=Role.SYSTEM_ADMIN, starts_on=two_days_ago
    )
    account.refresh_from_db()
    assert account.is_staff
    assert account.has_perm("django_celery_beat.change_periodictask")
    assert not account.has_perm("auditlog.view_logentry")
    assert not account.has_perm("branches.change_user")
    services.role_end(actor=people["security_admin"], assignment=role, on_date=two_days_ago + timedelta(days=1))
    account = User.objects.get(pk=account.pk)
    assert not account.is_staff


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
    # the seven unit and Party personas of the county, and the thirty new ones; not the administrators
    assert response.context["page"].paginator.count == 37
    response = client.get(reverse("branches:accounts"), {"q": "bulk0"})
    assert response.context["page"].paginator.count == 10
