"""Notifications and reminder rules: targeting at the date edges, once only however often a rule
runs, the inbox's scope, the e-mail preference."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from branches.models import Notification, NotificationPreference, ReminderRun
from branches.notifications import RULES, notify, preview_rule, run_rule, send_pending_emails
from members.models import Transfer, add_years
from members.transfers import transfer_request, transfers_lapse_due
from tests.conftest import make_member

TODAY = date(2026, 6, 10)


@pytest.fixture
def transfer(tree, people):
    member = make_member(tree["branch_a1"], "转接人")
    return transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])


def _recipients(key_prefix: str) -> set[str]:
    return set(Notification.objects.filter(key__startswith=key_prefix).values_list("recipient__username", flat=True))


def test_both_sides_are_reminded_three_days_before_a_transfer_lapses(tree, people, transfer):
    Transfer.objects.filter(pk=transfer.pk).update(expires_on=TODAY + timedelta(days=3))
    assert run_rule("transfers_expiring", TODAY - timedelta(days=1)) == 0  # four days before: not yet
    created = run_rule("transfers_expiring", TODAY)
    assert _recipients("transfer-expiring") == {"secretary_a1", "deputy_a1", "secretary_b1"}
    assert created == 3
    assert run_rule("transfers_expiring", TODAY + timedelta(days=1)) == 0  # a reminder arrives once


def test_a_lapse_is_told_to_both_sides_even_after_a_missed_day(tree, people, transfer):
    Transfer.objects.filter(pk=transfer.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    transfers_lapse_due()
    later = timezone.localdate() + timedelta(days=5)  # the scheduler was down for five days
    run_rule("transfers_lapsed", later)
    assert _recipients("transfer-lapsed") == {"secretary_a1", "deputy_a1", "secretary_b1"}
    assert run_rule("transfers_lapsed", later) == 0


def test_a_lapse_older_than_a_week_is_not_told_any_more(tree, people, transfer):
    Transfer.objects.filter(pk=transfer.pk).update(status="lapsed", decided_at=timezone.now() - timedelta(days=8))
    assert run_rule("transfers_lapsed", timezone.localdate()) == 0


def test_the_secretary_hears_once_a_month_of_members_reaching_28(tree, people):
    make_member(tree["branch_a1"], "将满28", birth_date=add_years(TODAY, -28) + timedelta(days=90))
    make_member(tree["branch_a1"], "还早", birth_date=add_years(TODAY, -28) + timedelta(days=91))
    make_member(tree["branch_a1"], "在职", birth_date=add_years(TODAY, -29), league_post="secretary")
    (reminder,) = preview_rule("members_over_age", TODAY)
    assert reminder.body == "将满28"
    assert run_rule("members_over_age", TODAY) == 2  # the secretary and their deputy
    assert run_rule("members_over_age", TODAY + timedelta(days=5)) == 0  # same month
    assert run_rule("members_over_age", TODAY + timedelta(days=30)) == 2  # next month, again


def test_concurrent_runs_create_each_notification_once(tree, people, transfer, monkeypatch):
    from branches import notifications
    from branches.notifications import Reminder

    reminder = Reminder(frozenset({people["secretary_a1"].pk}), "transfer", "k:1", "subject")
    assert notify([reminder, reminder]) == 1  # the same reminder twice in one run
    # Another run that checked before this one inserted: only the unique constraint stops it.
    real_bulk_create = Notification.objects.bulk_create
    monkeypatch.setattr(notifications.Notification.objects, "filter", lambda **kw: Notification.objects.none())
    monkeypatch.setattr(notifications.Notification.objects, "bulk_create", real_bulk_create)
    notify([reminder])
    monkeypatch.undo()
    assert Notification.objects.filter(key="k:1").count() == 1


def test_the_inbox_shows_only_one_s_own_notifications(client, tree, people, login):
    from branches.notifications import Reminder

    notify([Reminder(frozenset({people["secretary_a1"].pk}), "transfer", "k:2", "给甲", link="/members/")])
    mine = Notification.objects.get()
    response = login(people["secretary_b1"]).get(reverse("branches:inbox"))
    assert list(response.context["page"]) == []
    assert client.post(reverse("branches:notification-open", kwargs={"pk": mine.pk})).status_code == 404
    response = login(people["secretary_a1"]).get(reverse("home"))
    assert response.context["unread_notifications"] == 1
    opened = client.post(reverse("branches:notification-open", kwargs={"pk": mine.pk}))
    assert opened["Location"] == "/members/"
    assert Notification.objects.get().read_at is not None


def test_links_only_lead_inside_the_site(client, tree, people, login):
    from branches.notifications import Reminder

    notify([Reminder(frozenset({people["secretary_a1"].pk}), "transfer", "k:3", "x", link="https://evil.example/")])
    login(people["secretary_a1"])
    response = client.post(reverse("branches:notification-open", kwargs={"pk": Notification.objects.get().pk}))
    assert response["Location"] == reverse("branches:inbox")


def test_email_goes_only_to_those_who_asked_and_only_once(tree, people, settings):
    from branches.notifications import Reminder

    settings.SITE_URL = "https://league.example.gov.cn"
    a, b, c = people["secretary_a1"], people["secretary_b1"], people["township_a_staff"]
    for user in (a, b, c):
        user.email = f"{user.username}@example.org"
        user.save()
    # Many notifications nobody asked to have by e-mail must not crowd out the wanted ones.
    notify([Reminder(frozenset({b.pk}), "transfer", f"noise:{i}", "x") for i in range(5)])
    NotificationPreference.objects.create(user=a, kind="transfer", by_email=True)
    NotificationPreference.objects.create(user=c, kind="transfer", by_email=True)
    c.is_active = False
    c.save()
    notify([Reminder(frozenset({a.pk, b.pk, c.pk}), "transfer", "k:4", "转接提醒", link="/members/transfers/")])
    assert send_pending_emails(limit=3) == 1
    assert send_pending_emails(limit=3) == 0
    assert [m.to for m in mail.outbox] == [["secretary_a1@example.org"]]
    assert "https://league.example.gov.cn/members/transfers/" in mail.outbox[0].body


def test_no_backlog_is_mailed_when_someone_asks_for_e_mail(tree, people):
    from branches.notifications import Reminder

    a = people["secretary_a1"]
    a.email = "a@example.org"
    a.save()
    notify([Reminder(frozenset({a.pk}), "transfer", "old", "旧通知")])
    Notification.objects.update(created_at=timezone.now() - timedelta(days=10))
    NotificationPreference.objects.create(user=a, kind="transfer", by_email=True)
    assert send_pending_emails() == 0


def test_a_failed_send_is_sent_by_the_retry(tree, people, monkeypatch):
    from branches import notifications
    from branches.notifications import Reminder

    a = people["secretary_a1"]
    a.email = "a@example.org"
    a.save()
    NotificationPreference.objects.create(user=a, kind="transfer", by_email=True)
    notify([Reminder(frozenset({a.pk}), "transfer", "k:5", "转接")])

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(notifications, "send_mail", broken)
    with pytest.raises(OSError):
        send_pending_emails()
    monkeypatch.undo()
    assert send_pending_emails() == 1


def test_ended_deputies_and_disabled_accounts_are_not_reminded(tree, people, transfer):
    principal = people["secretary_a1"].roles.get()
    principal.ends_on = timezone.localdate() - timedelta(days=1)
    principal.save()
    people["secretary_b1"].is_active = False
    people["secretary_b1"].save()
    today = timezone.localdate()
    Transfer.objects.filter(pk=transfer.pk).update(expires_on=today + timedelta(days=1))
    run_rule("transfers_expiring", today)
    assert _recipients("transfer-expiring") == set()


def test_the_command_runs_and_previews_rules_for_any_day(tree, people, transfer, capsys):
    Transfer.objects.filter(pk=transfer.pk).update(expires_on=TODAY + timedelta(days=2))
    call_command("run_reminders", "--date", TODAY.isoformat(), "--rule", "transfers_expiring", "--preview")
    assert "3 account(s)" in capsys.readouterr().out
    assert not Notification.objects.exists()
    call_command("run_reminders", "--date", TODAY.isoformat())
    assert Notification.objects.filter(kind="transfer").count() == 3  # (the tree's committees are unrecorded too)
    assert ReminderRun.objects.filter(rule="transfers_expiring", created=3).exists()


def test_the_default_schedules_are_created_by_the_migrations(db):
    """Run the data migrations' functions again (a transactional test elsewhere may have flushed
    their rows): they create the daily schedules, and running them twice adds nothing."""
    from importlib import import_module

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    for module in ["branches.migrations.0006_schedule_reminders", "members.migrations.0003_schedule_transfer_lapse"]:
        create_schedule = import_module(module).create_schedule
        create_schedule(apps, None)
        create_schedule(apps, None)
    assert PeriodicTask.objects.filter(task="branches.run_reminders", enabled=True).count() == 1
    assert PeriodicTask.objects.filter(task="members.lapse_transfers", enabled=True).count() == 1


def test_the_county_s_work_reminder_reaches_secretaries_and_committees_on_its_day(client, tree, people, login):
    login(people["county_staff"])
    send_on = timezone.localdate() + timedelta(days=2)
    response = client.post(
        reverse("branches:work-reminders"),
        {"title": "十二月工作提醒", "body": "请按时完成团籍注册。", "send_on": send_on.isoformat()},
    )
    assert response.status_code == 302
    assert run_rule("work_reminders", send_on - timedelta(days=1)) == 0  # not before its day
    run_rule("work_reminders", send_on)
    assert _recipients("work-reminder") == {
        "secretary_a1",
        "deputy_a1",
        "secretary_b1",
        "township_a_staff",
        "township_b_staff",
    }
    assert run_rule("work_reminders", send_on + timedelta(days=1)) == 0
    past = client.post(reverse("branches:work-reminders"), {"title": "x", "body": "y", "send_on": "2020-01-01"})
    assert "send_on" in past.context["form"].errors


def test_branches_not_registered_are_reminded_weekly_in_the_window(tree, people):
    make_member(tree["branch_a1"], "未注册")
    in_window = date(timezone.localdate().year, 2, 3)
    assert run_rule("registration_window", in_window) == 2  # the secretary and the deputy
    assert run_rule("registration_window", in_window + timedelta(days=2)) == 0  # same week
    assert run_rule("registration_window", in_window + timedelta(days=7)) == 2  # next week
    assert run_rule("registration_window", date(in_window.year, 4, 2)) == 0  # the window has closed


@pytest.mark.parametrize(
    ("persona", "url_name", "status"),
    [
        ("county_staff", "branches:work-reminders", 200),
        ("township_a_staff", "branches:work-reminders", 403),
        ("secretary_a1", "branches:work-reminders", 403),
        ("county_staff", "branches:reminder-rules", 200),
        ("system_admin", "branches:reminder-rules", 200),
        ("secretary_a1", "branches:reminder-rules", 403),
        ("party_a", "branches:inbox", 200),
    ],
)
def test_who_may_open_the_reminder_pages(client, tree, people, login, persona, url_name, status):
    assert login(people[persona]).get(reverse(url_name)).status_code == status


def test_county_staff_preview_a_day_without_sending(client, tree, people, login, transfer):
    Transfer.objects.filter(pk=transfer.pk).update(expires_on=TODAY + timedelta(days=1))
    response = login(people["county_staff"]).get(reverse("branches:reminder-preview"), {"date": TODAY.isoformat()})
    (row,) = [row for row in response.context["rows"] if row[0] == RULES["transfers_expiring"].label]
    assert {u.username for u in row[2]} == {"secretary_a1", "deputy_a1", "secretary_b1"}
    assert not Notification.objects.exists()
    assert (
        login(people["county_staff"]).get(reverse("branches:reminder-preview"), {"date": "garbage"}).status_code == 200
    )
    assert login(people["township_a_staff"]).get(reverse("branches:reminder-preview")).status_code == 403
