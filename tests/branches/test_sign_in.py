"""Sign-in security: the password policy, lockout, session lifetimes, temporary passwords, reset."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches import account_services as services
from branches.middleware import SESSION_RENEWAL_SECONDS
from branches.models import LoginEvent
from tests.conftest import PASSWORD

LOGIN = reverse("login")


def sign_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def is_signed_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize(
    "password",
    ["Short-1a", "alllowercaseletters", "ALLUPPER12345678", "secretary_a1-Pass-9", "Secretary_A1!xyz99"],
)
def test_weak_passwords_are_refused(people, password):
    with pytest.raises(ValidationError):
        validate_password(password, people["secretary_a1"])


@pytest.mark.parametrize("password", ["Correct-Horse-9-Battery", "lower-and-digits-123", "UPPER lower words"])
def test_strong_passwords_pass(people, password):
    validate_password(password, people["secretary_a1"])


def test_sign_in_with_the_right_password(client, people):
    response = sign_in(client, "secretary_a1", PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(client)
    assert LoginEvent.objects.filter(username="secretary_a1", kind=LoginEvent.Kind.SUCCESS).exists()


def _fail(client, username, times):
    for _ in range(times):
        response = sign_in(client, username, "wrong-password-1A")
        assert response.status_code == 200
    return response


def test_five_failures_within_fifteen_minutes_lock_the_username_for_thirty(client, people):
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False) as clock:
        _fail(client, "secretary_a1", 4)
        clock.shift(timedelta(minutes=14))
        _fail(client, "secretary_a1", 1)
        response = sign_in(client, "secretary_a1", PASSWORD)  # the right password, but locked
        assert "locked" in response.context["form"].errors.as_data()["__all__"][0].code
        assert not is_signed_in(client)
        clock.shift(timedelta(minutes=29))
        assert sign_in(client, "secretary_a1", PASSWORD).status_code == 200  # still locked
        clock.shift(timedelta(minutes=1, seconds=1))
        assert sign_in(client, "secretary_a1", PASSWORD).status_code == 302


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(client, people):
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False) as clock:
        _fail(client, "secretary_a1", 4)
        clock.shift(timedelta(minutes=16))
        _fail(client, "secretary_a1", 1)
        assert sign_in(client, "secretary_a1", PASSWORD).status_code == 302


def _error_codes(response) -> list[str]:
    return [error.code for error in response.context["form"].non_field_errors().as_data()]


def test_the_lock_message_is_the_same_for_an_unknown_username(client, people):
    with time_machine.travel("2026-03-02 09:00 +0800", tick=False):
        known = _fail(client, "secretary_a1", 5)
        unknown = _fail(client, "no_such_user", 5)
        assert _error_codes(known) == _error_codes(unknown) == ["invalid_login"]
        locked_known = sign_in(client, "secretary_a1", "wrong-password-1A")
        locked_unknown = sign_in(client, "no_such_user", "wrong-password-1A")
        assert _error_codes(locked_known) == _error_codes(locked_unknown) == ["locked"]
        assert locked_known.context["form"].non_field_errors() == locked_unknown.context["form"].non_field_errors()


def test_the_lock_holds_on_the_admin_sign_in_page_too(client, people):
    _fail(client, "system_admin", 5)
    response = client.post(reverse("admin:login"), {"username": "system_admin", "password": PASSWORD})
    assert response.status_code == 200
    assert not client.session.get("_auth_user_id")
    assert LoginEvent.objects.filter(username="system_admin", kind=LoginEvent.Kind.LOCKED).exists()


def test_usernames_match_in_any_letter_case(client, people):
    assert sign_in(client, "Secretary_A1", PASSWORD).status_code == 302


def test_the_security_administrator_can_lift_a_lock(client, people):
    _fail(client, "secretary_a1", 5)
    services.account_unlock(actor=people["security_admin"], username="secretary_a1")
    assert sign_in(client, "secretary_a1", PASSWORD).status_code == 302


def test_an_active_session_still_ends_twelve_hours_after_sign_in(client, people):
    with time_machine.travel("2026-03-02 08:00 +0800", tick=False) as clock:
        assert sign_in(client, "secretary_a1", PASSWORD).status_code == 302
        for _ in range(11 * 4):  # active every 15 minutes for 11 hours
            clock.shift(timedelta(minutes=15))
            assert is_signed_in(client)
        clock.shift(timedelta(hours=1, minutes=1))
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


def test_an_idle_session_ends_after_thirty_minutes_and_activity_renews_it(client, people):
    with time_machine.travel("2026-03-02 08:00 +0800", tick=False) as clock:
        sign_in(client, "secretary_a1", PASSWORD)
        clock.shift(timedelta(minutes=29))
        assert is_signed_in(client)  # renews the idle period
        clock.shift(timedelta(minutes=29))
        assert is_signed_in(client)
        clock.shift(timedelta(minutes=31))
        assert not is_signed_in(client)


def _session_updates(client) -> tuple[list[str], object]:
    """The django_session UPDATEs of one page, and the response."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]]
    return updates, response


def test_a_page_soon_after_the_last_renewal_does_not_write_the_session(client, people):
    with time_machine.travel("2026-03-02 08:00 +0800", tick=False) as clock:
        sign_in(client, "secretary_a1", PASSWORD)
        signed_in_at = timezone.now()
        clock.shift(timedelta(seconds=SESSION_RENEWAL_SECONDS - 1))
        updates, response = _session_updates(client)
        assert updates == []
        assert settings.SESSION_COOKIE_NAME not in response.cookies  # the cookie keeps its expiry too
        session = Session.objects.get(session_key=client.session.session_key)
        assert session.expire_date == signed_in_at + timedelta(minutes=30)


def test_a_page_after_the_renewal_interval_renews_the_session_and_its_cookie(client, people):
    with time_machine.travel("2026-03-02 08:00 +0800", tick=False) as clock:
        sign_in(client, "secretary_a1", PASSWORD)
        clock.shift(timedelta(seconds=SESSION_RENEWAL_SECONDS))
        updates, response = _session_updates(client)
        assert len(updates) == 1
        assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 30 * 60
        session = Session.objects.get(session_key=client.session.session_key)
        assert session.expire_date == timezone.now() + timedelta(minutes=30)
        clock.shift(timedelta(seconds=1))
        assert _session_updates(client)[0] == []  # renewed just now


def test_pages_that_do_not_renew_the_session_do_not_extend_it(client, people):
    with time_machine.travel("2026-03-02 08:00 +0800", tick=False) as clock:
        sign_in(client, "secretary_a1", PASSWORD)
        clock.shift(timedelta(seconds=SESSION_RENEWAL_SECONDS - 1))
        assert is_signed_in(client)  # too soon to renew: the session still ends at 08:30
        clock.shift(timedelta(minutes=30, seconds=-(SESSION_RENEWAL_SECONDS - 1)))
        assert not is_signed_in(client)


def test_a_short_idle_limit_renews_active_sessions_more_often(client, people, settings):
    settings.SESSION_COOKIE_AGE = 60
    with time_machine.travel("2026-03-02 08:00 +0800", tick=False) as clock:
        sign_in(client, "secretary_a1", PASSWORD)
        for _ in range(5):  # active every 50 seconds: each page renews the session
            clock.shift(timedelta(seconds=50))
            assert is_signed_in(client)
        clock.shift(timedelta(seconds=61))
        assert not is_signed_in(client)


def test_sign_out_ends_the_session_on_the_server(client, people):
    sign_in(client, "secretary_a1", PASSWORD)
    session_key = client.session.session_key
    assert Session.objects.filter(session_key=session_key).exists()
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=session_key).exists()
    assert LoginEvent.objects.filter(username="secretary_a1", kind=LoginEvent.Kind.LOGOUT).exists()


def test_a_temporary_password_must_be_replaced_before_anything_else(client, people):
    temporary = services.account_reset_password(actor=people["county_staff"], user=people["secretary_a1"])
    assert sign_in(client, "secretary_a1", PASSWORD).status_code == 200  # the old password is gone
    assert sign_in(client, "secretary_a1", temporary).status_code == 302
    response = client.get(reverse("branches:tree"))
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change")
    new_password = "Brand-New-Passw0rd"
    response = client.post(
        reverse("password_change"),
        {"old_password": temporary, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert client.get(reverse("branches:tree")).status_code == 200
    people["secretary_a1"].refresh_from_db()
    assert not people["secretary_a1"].must_change_password


def test_password_reset_by_email(client, people):
    user = people["secretary_a1"]
    user.email = "secretary@example.org"
    user.save()
    client.post(reverse("password_reset"), {"email": "secretary@example.org"})
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    new_password = "Reset-Via-Mail-2026"
    client.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert sign_in(client, "secretary_a1", new_password).status_code == 302


def test_failed_sign_ins_are_logged_with_time_and_address(client, people):
    before = timezone.now()
    _fail(client, "secretary_a1", 1)
    event = LoginEvent.objects.get(kind=LoginEvent.Kind.FAILURE)
    assert event.username == "secretary_a1"
    assert event.ip_address == "127.0.0.1"
    assert event.at >= before
