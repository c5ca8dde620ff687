"""Voiding a record made by mistake: a reason, a confirmation, an audit entry; the record then counts
nowhere (completeness, calendar, topics, the unit page, reminders) but stays on the branch's list,
struck through with the reason, and in the audit trail; it no longer changes."""

from __future__ import annotations

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from branches import activity_services as services
from branches.activity_selectors import branch_completeness, month_calendar, topic_recording_counts
from branches.models import Activity, ActivityKind, Organization, ThemedDayTopic
from tests.branches.test_activities import (  # noqa: F401  (fixtures)
    data,
    image_file,
    record,
    roster,
)


@pytest.fixture
def activity(tree, people, roster):  # noqa: F811
    return record(people, tree, roster)


def test_voiding_needs_a_reason_and_is_audited(tree, people, activity):
    with pytest.raises(ValidationError) as refused:
        services.activity_void(activity=activity, reason="  ", actor=people["secretary_a1"])
    assert "reason" in refused.value.error_dict
    voided = services.activity_void(activity=activity, reason="重复录入", actor=people["deputy_a1"])
    assert voided.is_voided and voided.voided_by == people["deputy_a1"] and voided.void_reason == "重复录入"
    entry = LogEntry.objects.get_for_object(activity).order_by("-pk").first()
    assert entry.actor == people["deputy_a1"]
    assert entry.changes_dict["void_reason"] == ["", "重复录入"]
    assert entry.additional_data["on_behalf_of"] == "secretary_a1"
    with pytest.raises(ValidationError):
        services.activity_void(activity=activity, reason="再来一次", actor=people["secretary_a1"])


def test_outsiders_cannot_void(tree, people, activity):
    for persona in ("secretary_b1", "township_b_staff", "party_a", "system_admin"):
        with pytest.raises(PermissionDenied):
            services.activity_void(activity=activity, reason="x", actor=people[persona])
    activity.refresh_from_db()
    assert not activity.is_voided


def test_a_voided_record_no_longer_changes(tree, people, roster, activity):  # noqa: F811
    services.activity_void(activity=activity, reason="录错支部", actor=people["secretary_a1"])
    activity.refresh_from_db()
    with pytest.raises(ValidationError):
        services.activity_update(activity=activity, actor=people["secretary_a1"], data=data(topic="改"), attendance={})
    with pytest.raises(ValidationError):
        services.activity_attachments_add(activity=activity, actor=people["secretary_a1"], files=[image_file()])
    activity.refresh_from_db()
    assert activity.topic == "学习团章" and not activity.attachments.exists()


def test_a_voided_record_counts_nowhere(tree, people, roster):  # noqa: F811
    today = timezone.localdate()
    month = today.replace(day=1)
    topic = ThemedDayTopic.objects.create(
        county=tree["county"], month=month, title="主题", record_by=today, created_by=people["county_staff"]
    )
    activity = record(people, tree, roster, themed_day_topic=topic)
    units = Organization.objects.filter(pk=tree["branch_a1"].pk)

    def seen() -> tuple:
        cell = branch_completeness(units, month, month, today=today).rows[0].cells[0]
        on_calendar = [a for week in month_calendar(tree["branch_a1"], month) for day in week for a in day.activities]
        return cell.held, cell.topic_status, on_calendar, topic_recording_counts([topic])[topic.pk]

    assert seen() == ({ActivityKind.THEMED_DAY: 1}, "on_time", [activity], (1, 1))
    services.activity_void(activity=activity, reason="活动未举行", actor=people["secretary_a1"])
    assert seen() == ({}, "missing" if today > topic.record_by else "pending", [], (0, 0))


def test_void_pages_ask_first_then_strike_the_record_through(client, tree, people, activity, login):
    login(people["secretary_a1"])
    url = reverse("branches:activity-void", kwargs={"pk": activity.pk})
    page = client.get(url)
    assert page.status_code == 200 and activity.topic in page.content.decode()
    activity.refresh_from_db()
    assert not activity.is_voided  # asking changed nothing
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    response = client.post(url, {"reason": "重复录入"})
    assert response["Location"] == reverse("branches:unit-activities", kwargs={"pk": tree["branch_a1"].pk})
    activity.refresh_from_db()
    assert activity.is_voided

    listing = client.get(response["Location"])
    assert listing.context["page"].object_list[0] == activity  # still listed
    text = listing.content.decode()
    assert 'data-voided="1"' in text and "重复录入" in text and f"<del>{activity.topic}</del>" in text
    unit_page = client.get(reverse("branches:unit", kwargs={"pk": tree["branch_a1"].pk})).content.decode()
    assert reverse("branches:activity", kwargs={"pk": activity.pk}) not in unit_page

    detail = client.get(reverse("branches:activity", kwargs={"pk": activity.pk}))
    assert not detail.context["may_edit"] and 'data-testid="voided"' in detail.content.decode()
    assert any("void_reason" in entry.changes_dict for entry in detail.context["history"])  # in the trail
    edit = client.get(reverse("branches:activity-edit", kwargs={"pk": activity.pk}))
    assert edit["Location"] == reverse("branches:activity", kwargs={"pk": activity.pk})
    assert client.get(url)["Location"] == reverse("branches:activity", kwargs={"pk": activity.pk})


def test_a_dissolved_branch_keeps_its_records_as_they_are(client, tree, people, activity, login):
    Organization.objects.filter(pk=tree["branch_a1"].pk).update(dissolved_on=date(2026, 1, 1))
    url = reverse("branches:activity-void", kwargs={"pk": activity.pk})
    assert login(people["secretary_a1"]).post(url, {"reason": "x"}).status_code == 302
    assert not Activity.objects.get(pk=activity.pk).is_voided
