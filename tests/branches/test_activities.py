"""Recording meetings and activities: the service's rules (votes, roster, attachments checked by
content, nothing saved on refusal), editing and attachments later (all audited), the pages and
their scope, and attachment downloads only to people who may see the activity."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from branches import activity_services as services
from branches.models import (
    Activity,
    ActivityAttachment,
    ActivityKind,
    Attendance,
    ThemedDayTopic,
)
from tests.branches.test_activities_completeness import elect_committee
from tests.conftest import make_member


def image_file(name: str = "photo.jpg", image_format: str = "JPEG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, image_format)
    content_type = "image/png" if image_format == "PNG" else "image/jpeg"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def pdf_file(name: str = "纪要.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")


def stored_files() -> list[Path]:
    """The attachments on disk: in the test's own folder (tests/conftest.py)."""
    folder = Path(storages["attachments"].location)
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def roster(tree):
    branch = tree["branch_a1"]
    return {
        "zhang": make_member(branch, "张三", league_post="secretary"),
        "li": make_member(branch, "李四"),
        "wang": make_member(branch, "王五"),
    }


def data(**overrides):
    return {
        "kind": ActivityKind.THEMED_DAY,
        "held_on": timezone.localdate(),
        "topic": "学习团章",
        "place": "村委会",
        "chair": "张三",
        "note_taker": "李四",
        "content": "学习了团章第一章。",
        **overrides,
    }


def record(people, tree, roster, *, files=(), **overrides) -> Activity:
    attendance = {roster["zhang"].pk: (True, ""), roster["li"].pk: (True, ""), roster["wang"].pk: (False, "外出务工")}
    return services.activity_record(
        organization=tree["branch_a1"],
        actor=people["secretary_a1"],
        data=data(**overrides),
        attendance=attendance,
        files=files,
    )


# --- the service ---------------------------------------------------------------------------------


def test_a_secretary_records_an_activity_with_attendance_and_files(tree, people, roster):
    activity = record(people, tree, roster, files=[image_file(), pdf_file()], votes_for=2, votes_against=0)
    assert (activity.present_count, activity.absent_count) == (2, 1)
    absent = Attendance.objects.get(activity=activity, present=False)
    assert (absent.member, absent.absence_reason) == (roster["wang"], "外出务工")
    assert sorted(activity.attachments.values_list("content_type", flat=True)) == ["application/pdf", "image/jpeg"]
    assert len(stored_files()) == 2
    created = LogEntry.objects.get_for_object(activity).filter(action=LogEntry.Action.CREATE).get()
    assert created.actor == people["secretary_a1"]
    assert created.changes_dict["present_count"][1] == 2
    attached = LogEntry.objects.get_for_object(activity).filter(action=LogEntry.Action.UPDATE).get()
    assert "纪要.pdf" in attached.changes_dict["attachments"][1]


def test_a_deputy_records_on_behalf_of_the_secretary(tree, people, roster):
    activity = services.activity_record(
        organization=tree["branch_a1"],
        actor=people["deputy_a1"],
        data=data(),
        attendance={roster["zhang"].pk: (True, "")},
    )
    entry = LogEntry.objects.get_for_object(activity).get()
    assert entry.additional_data["on_behalf_of"] == "secretary_a1"


def test_votes_beyond_those_present_are_refused(tree, people, roster):
    with pytest.raises(ValidationError) as refused:
        record(people, tree, roster, votes_for=2, votes_against=1)
    assert "votes_for" in refused.value.error_dict
    assert not Activity.objects.exists()


def test_someone_outside_the_branch_cannot_be_on_the_attendance(tree, people, roster):
    stranger = make_member(tree["branch_b1"], "外人")
    with pytest.raises(ValidationError) as refused:
        services.activity_record(
            organization=tree["branch_a1"],
            actor=people["secretary_a1"],
            data=data(),
            attendance={roster["zhang"].pk: (True, ""), stranger.pk: (True, "")},
        )
    assert "attendance" in refused.value.error_dict
    assert not Activity.objects.exists() and not Attendance.objects.exists()


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("setup.jpg", b"MZ\x90\x00 this is a Windows program", "image/jpeg"),
        SimpleUploadedFile("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
        SimpleUploadedFile("empty.png", b"", "image/png"),
        SimpleUploadedFile("broken.png", image_file("x.png", "PNG").read()[:30], "image/png"),
        image_file("animation.gif", "GIF"),
    ],
    ids=["program-named-jpg", "html", "empty", "truncated-png", "gif"],
)
def test_files_are_judged_by_their_content_and_nothing_is_saved(tree, people, roster, upload):
    with pytest.raises(ValidationError) as refused:
        record(people, tree, roster, files=[image_file(), upload])
    assert "files" in refused.value.error_dict
    assert not Activity.objects.exists() and not ActivityAttachment.objects.exists()
    assert stored_files() == []


def test_files_over_the_size_limit_are_refused(tree, people, roster, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 200, "application/pdf")
    with pytest.raises(ValidationError):
        record(people, tree, roster, files=[big])
    assert not Activity.objects.exists()
    assert stored_files() == []


def test_at_most_ten_attachments(tree, people, roster):
    activity = record(people, tree, roster, files=[image_file(f"{n}.jpg") for n in range(9)])
    with pytest.raises(ValidationError):
        services.activity_attachments_add(
            activity=activity, actor=people["secretary_a1"], files=[image_file("a.jpg"), image_file("b.jpg")]
        )
    assert activity.attachments.count() == 9


def test_a_failed_write_leaves_no_file_behind(tree, people, roster, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "audit_event", fail)
    with pytest.raises(RuntimeError):
        record(people, tree, roster, files=[image_file()])
    assert not Activity.objects.exists()
    assert stored_files() == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"held_on": timezone.localdate() + timedelta(days=1)}, "held_on"),
        ({"kind": "picnic"}, "kind"),
        ({"topic": ""}, "topic"),
    ],
)
def test_other_rules_of_a_record(tree, people, roster, overrides, field):
    with pytest.raises(ValidationError) as refused:
        record(people, tree, roster, **overrides)
    assert field in refused.value.error_dict


def test_a_county_topic_belongs_to_themed_days_of_its_own_county(tree, people, roster):
    from branches.models import Organization, OrganizationKind, Sector

    month = timezone.localdate().replace(day=1)
    topic = ThemedDayTopic.objects.create(
        county=tree["county"], month=month, title="传承五四精神", record_by=month, created_by=people["county_staff"]
    )
    activity = record(people, tree, roster, topic="", themed_day_topic=topic)
    assert activity.topic == "传承五四精神"  # the county's title when none is typed
    with pytest.raises(ValidationError) as refused:
        record(people, tree, roster, kind=ActivityKind.LEAGUE_CLASS, themed_day_topic=topic)
    assert "themed_day_topic" in refused.value.error_dict
    other = Organization.objects.add_root(
        dict(name="别县", code="X", kind=OrganizationKind.COUNTY, sector=Sector.PUBLIC_INSTITUTION)
    )
    foreign = ThemedDayTopic.objects.create(
        county=other, month=month, title="别县主题", record_by=month, created_by=people["county_staff"]
    )
    with pytest.raises(ValidationError):
        record(people, tree, roster, themed_day_topic=foreign)


def test_committees_give_numbers_not_names(tree, people):
    activity = services.activity_record(
        organization=tree["township_a"],
        actor=people["township_a_staff"],
        data=data(kind=ActivityKind.COMMITTEE_MEETING, present_count=7, absent_count=2, votes_for=7),
        attendance={},
    )
    assert (activity.present_count, activity.absent_count, activity.votes_for) == (7, 2, 7)


def test_outsiders_cannot_record(tree, people, roster):
    from django.core.exceptions import PermissionDenied

    for persona in ("secretary_b1", "township_b_staff", "party_a", "system_admin"):
        with pytest.raises(PermissionDenied):
            services.activity_record(organization=tree["branch_a1"], actor=people[persona], data=data(), attendance={})


def test_a_dissolved_branch_takes_no_new_record(tree, people, roster):
    tree["branch_a1"].dissolved_on = date(2025, 1, 1)
    tree["branch_a1"].save()
    with pytest.raises(ValidationError):
        record(people, tree, roster)


def test_editing_keeps_counts_in_step_and_audits_attendance(tree, people, roster):
    activity = record(people, tree, roster)
    newcomer = make_member(tree["branch_a1"], "赵六")
    updated = services.activity_update(
        activity=activity,
        actor=people["township_a_staff"],
        data=data(topic="学习团章（补记）"),
        attendance={
            roster["zhang"].pk: (True, ""),
            roster["li"].pk: (False, "生病"),
            roster["wang"].pk: (True, ""),
            newcomer.pk: (True, ""),
        },
    )
    assert (updated.present_count, updated.absent_count, updated.topic) == (3, 1, "学习团章（补记）")
    assert Attendance.objects.filter(activity=activity).count() == 4
    entries = LogEntry.objects.get_for_object(activity).filter(action=LogEntry.Action.UPDATE)
    changes = {key: value for entry in entries for key, value in entry.changes_dict.items()}
    assert changes["topic"] == ["学习团章", "学习团章（补记）"]
    assert changes["present_count"] == [2, 3]
    old, new = changes["attendance"]
    assert "李四" in old and "王五" in old and "赵六" not in old
    assert "李四 缺席：生病" in new or "李四 absent: 生病" in new
    # Someone left out of the attendance given keeps their row: rows are updated, never dropped.
    services.activity_update(
        activity=activity, actor=people["secretary_a1"], data=data(), attendance={roster["zhang"].pk: (False, "病假")}
    )
    activity.refresh_from_db()
    assert (activity.present_count, activity.absent_count) == (2, 2)
    assert activity.attendance.count() == 4
    assert activity.attendance.get(member=roster["zhang"]).absence_reason == "病假"


def test_a_member_who_left_stays_on_an_old_record(tree, people, roster):
    activity = record(people, tree, roster)
    roster["wang"].status = "withdrawn"
    roster["wang"].save()
    attendance = {m.pk: (True, "") for m in roster.values()}
    services.activity_update(activity=activity, actor=people["secretary_a1"], data=data(), attendance=attendance)
    activity.refresh_from_db()
    assert activity.present_count == 3


def test_removing_an_attachment_is_audited_and_deletes_the_file(
    tree, people, roster, django_capture_on_commit_callbacks
):
    activity = record(people, tree, roster, files=[image_file("合影.jpg")])
    attachment = activity.attachments.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.activity_attachment_remove(attachment=attachment, actor=people["secretary_a1"])
    assert not ActivityAttachment.objects.exists()
    assert stored_files() == []
    entry = LogEntry.objects.get_for_object(activity).order_by("-pk").first()
    assert entry.changes_dict["attachments"] == ["合影.jpg", ""]


# --- the pages -----------------------------------------------------------------------------------


def form_post(roster, **fields):
    post = {
        "kind": ActivityKind.THEMED_DAY,
        "held_on": timezone.localdate().isoformat(),
        "topic": "学习团章",
        "place": "村委会",
        "attendee": [str(m.pk) for m in roster.values()],
        f"present-{roster['zhang'].pk}": "on",
        f"present-{roster['li'].pk}": "on",
        f"reason-{roster['wang'].pk}": "外出务工",
    }
    post.update(fields)
    return post


def test_the_record_form_offers_the_likely_values(client, tree, people, roster, login):
    month = timezone.localdate().replace(day=1)
    topic = ThemedDayTopic.objects.create(
        county=tree["county"], month=month, title="本月主题", record_by=month, created_by=people["county_staff"]
    )
    record(people, tree, roster, place="党群服务中心")
    response = login(people["secretary_a1"]).get(
        reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    )
    form = response.context["form"]
    assert form.initial["kind"] == ActivityKind.THEMED_DAY
    assert form.initial["held_on"] == timezone.localdate()
    assert form.initial["place"] == "党群服务中心"
    assert form.initial["themed_day_topic"] == topic
    assert all(row.present for row in response.context["rows"])  # everyone present by default
    assert [row.member.name for row in response.context["rows"]] == sorted(m.name for m in roster.values())


def test_recording_through_the_form(client, tree, people, roster, login):
    url = reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    response = login(people["secretary_a1"]).post(url, form_post(roster, files=[image_file()]))
    activity = Activity.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "branches:activity", kwargs={"pk": activity.pk}
    )
    assert (activity.present_count, activity.absent_count) == (2, 1)
    assert activity.attendance.get(present=False).absence_reason == "外出务工"
    assert activity.attachments.count() == 1
    page = client.get(response["Location"])
    assert "外出务工" in page.content.decode()


def test_the_form_refuses_too_many_votes_and_keeps_what_was_typed(client, tree, people, roster, login):
    url = reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    response = login(people["secretary_a1"]).post(url, form_post(roster, votes_for="3"))
    assert response.status_code == 200
    assert "只有 2 人出席" in response.content.decode()
    assert not Activity.objects.exists()
    rows = {row.member.pk: row for row in response.context["rows"]}
    assert not rows[roster["wang"].pk].present and rows[roster["wang"].pk].reason == "外出务工"


def test_the_form_refuses_an_attendee_from_another_branch(client, tree, people, roster, login):
    stranger = make_member(tree["branch_b1"], "外人")
    post = form_post(roster)
    post["attendee"] = [*post["attendee"], str(stranger.pk)]
    url = reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    response = login(people["secretary_a1"]).post(url, post)
    assert response.status_code == 200
    assert "不是本支部的团员" in response.content.decode()
    assert not Activity.objects.exists()


def test_the_form_refuses_a_bad_file_with_nothing_saved(client, tree, people, roster, login):
    url = reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    bad = SimpleUploadedFile("合影.jpg", b"not a photo at all", "image/jpeg")
    response = login(people["secretary_a1"]).post(url, form_post(roster, files=[bad]))
    assert response.status_code == 200
    assert "合影.jpg" in response.content.decode()
    assert not Activity.objects.exists() and stored_files() == []


def test_editing_through_the_form_lists_the_record_and_offers_the_others(client, tree, people, roster, login):
    activity = services.activity_record(
        organization=tree["branch_a1"],
        actor=people["secretary_a1"],
        data=data(kind=ActivityKind.COMMITTEE_MEETING),
        attendance={roster["zhang"].pk: (True, "")},
    )
    url = reverse("branches:activity-edit", kwargs={"pk": activity.pk})
    response = login(people["secretary_a1"]).get(url)
    assert [r.member.pk for r in response.context["rows"]] == [roster["zhang"].pk]
    assert {r.member.pk for r in response.context["unlisted_rows"]} == {roster["li"].pk, roster["wang"].pk}
    post = {
        "kind": ActivityKind.COMMITTEE_MEETING,
        "held_on": activity.held_on.isoformat(),
        "topic": "支委会",
        "attendee": [str(roster["zhang"].pk), str(roster["li"].pk)],
        f"present-{roster['zhang'].pk}": "on",
        f"reason-{roster['li'].pk}": "请假",
    }
    assert client.post(url, post).status_code == 302
    activity.refresh_from_db()
    assert (activity.topic, activity.present_count, activity.absent_count) == ("支委会", 1, 1)


def test_the_list_filters_and_paginates(client, tree, people, roster, login, django_assert_max_num_queries):
    for n in range(25):
        Activity.objects.create(
            organization=tree["branch_a1"],
            kind=ActivityKind.LEAGUE_CLASS if n % 2 else ActivityKind.THEMED_DAY,
            held_on=timezone.localdate() - timedelta(days=n * 20),
            topic=f"活动{n}",
            recorded_by=people["secretary_a1"],
        )
    url = reverse("branches:unit-activities", kwargs={"pk": tree["branch_a1"].pk})
    login(people["secretary_a1"])
    with django_assert_max_num_queries(20):
        response = client.get(url)
    page = response.context["page"]
    assert page.paginator.count == 25 and len(page.object_list) == 20
    assert page.object_list[0].topic == "活动0"  # newest first
    response = client.get(url, {"kind": ActivityKind.LEAGUE_CLASS})
    assert response.context["page"].paginator.count == 12
    year = timezone.localdate().year
    expected = Activity.objects.filter(held_on__year=year).count()
    assert client.get(url, {"year": year}).context["page"].paginator.count == expected


def test_the_list_shows_this_months_topic_and_what_is_still_due(client, tree, people, roster, login):
    month = timezone.localdate().replace(day=1)
    ThemedDayTopic.objects.create(
        county=tree["county"],
        month=month,
        title="本月主题",
        record_by=month + timedelta(days=40),
        created_by=people["county_staff"],
    )
    url = reverse("branches:unit-activities", kwargs={"pk": tree["branch_a1"].pk})
    response = login(people["secretary_a1"]).get(url)
    assert "本月主题" in response.content.decode()
    this_month = response.context["this_month"]
    assert this_month.topic_status == "pending"
    # Three members, no committee (domain.md §2.3): the themed day is due, no committee meeting.
    assert ActivityKind.THEMED_DAY in this_month.due and ActivityKind.COMMITTEE_MEETING not in this_month.due
    elect_committee(tree["branch_a1"], people["county_staff"])
    assert ActivityKind.COMMITTEE_MEETING in client.get(url).context["this_month"].due


def test_the_calendar_shows_the_month(client, tree, people, roster, login):
    activity = record(people, tree, roster, held_on=date(2025, 5, 4))
    url = reverse("branches:unit-activity-calendar", kwargs={"pk": tree["branch_a1"].pk})
    response = login(people["secretary_a1"]).get(url, {"month": "2025-05"})
    days = [cell for week in response.context["weeks"] for cell in week if cell.activities]
    assert [(cell.day, cell.activities) for cell in days] == [(date(2025, 5, 4), [activity])]
    assert response.context["previous"] == date(2025, 4, 1) and response.context["next"] == date(2025, 6, 1)
    assert client.get(url, {"month": "garbage"}).status_code == 200


def test_the_unit_page_links_to_activities_for_those_who_keep_its_records(client, tree, people, login):
    url = reverse("branches:unit", kwargs={"pk": tree["township_a"].pk})
    activities = reverse("branches:unit-activities", kwargs={"pk": tree["township_a"].pk})
    assert activities in login(people["township_a_staff"]).get(url).content.decode()
    assert activities not in login(people["party_a"]).get(url).content.decode()


def test_the_navigation_leads_each_to_their_own_place(client, tree, people, login):
    url = reverse("branches:activities")
    assert login(people["secretary_a1"]).get(url)["Location"] == reverse(
        "branches:unit-activities", kwargs={"pk": tree["branch_a1"].pk}
    )
    assert login(people["township_a_staff"]).get(url)["Location"] == reverse("branches:activity-completeness")
    assert login(people["party_a"]).get(url).status_code == 403
    nav = [item["url"] for item in login(people["secretary_a1"]).get(reverse("home")).context["nav_items"]]
    assert url in nav
    nav = [item["url"] for item in login(people["party_a"]).get(reverse("home")).context["nav_items"]]
    assert url not in nav


# --- downloads -----------------------------------------------------------------------------------


def test_an_attachment_is_served_to_those_in_scope_only(client, tree, people, roster, login):
    activity = record(people, tree, roster, files=[image_file("合影.jpg"), pdf_file()])
    photo, pdf = activity.attachments.order_by("content_type")
    photo, pdf = (pdf, photo) if photo.content_type == "application/pdf" else (photo, pdf)
    for persona in ("secretary_a1", "deputy_a1", "township_a_staff", "county_staff"):
        response = login(people[persona]).get(reverse("branches:attachment", kwargs={"pk": photo.pk}))
        assert response.status_code == 200, persona
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "filename*=utf-8''%E5%90%88%E5%BD%B1.jpg" in response["Content-Disposition"]
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    response = client.get(reverse("branches:attachment", kwargs={"pk": pdf.pk}))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    for persona in ("nobody", "party_a", "secretary_b1", "township_b_staff", "system_admin"):
        response = login(people[persona]).get(reverse("branches:attachment", kwargs={"pk": photo.pk}))
        assert response.status_code == 404, persona


def test_a_file_missing_on_disk_is_not_found(client, tree, people, roster, login):
    activity = record(people, tree, roster, files=[pdf_file()])
    for path in stored_files():
        path.unlink()
    url = reverse("branches:attachment", kwargs={"pk": activity.attachments.get().pk})
    assert login(people["secretary_a1"]).get(url).status_code == 404


def test_attachments_are_added_and_removed_from_the_detail_page(client, tree, people, roster, login):
    activity = record(people, tree, roster)
    login(people["secretary_a1"])
    url = reverse("branches:activity-attachments", kwargs={"pk": activity.pk})
    assert client.get(url).status_code == 405
    client.post(url, {"files": [image_file("签到表.png", "PNG")]})
    attachment = activity.attachments.get()
    assert attachment.name == "签到表.png"
    added = LogEntry.objects.get_for_object(activity).order_by("-pk").first()
    assert (added.actor, added.changes_dict["attachments"]) == (people["secretary_a1"], ["", "签到表.png"])
    remove = reverse("branches:attachment-remove", kwargs={"pk": attachment.pk})
    assert "签到表.png" in client.get(remove).content.decode()  # asks first
    assert activity.attachments.exists()
    client.post(remove)
    assert not activity.attachments.exists()
    client.post(url, {"files": [SimpleUploadedFile("x.exe", b"MZ", "application/octet-stream")]})
    assert not activity.attachments.exists()


def test_a_county_topic_left_selected_does_not_follow_another_kind(client, tree, people, roster, login):
    month = timezone.localdate().replace(day=1)
    topic = ThemedDayTopic.objects.create(
        county=tree["county"], month=month, title="本月主题", record_by=month, created_by=people["county_staff"]
    )
    url = reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    post = form_post(roster, kind=ActivityKind.LEAGUE_CLASS, themed_day_topic=str(topic.pk), topic="团课")
    assert login(people["secretary_a1"]).post(url, post).status_code == 302
    activity = Activity.objects.get()
    assert (activity.kind, activity.themed_day_topic) == (ActivityKind.LEAGUE_CLASS, None)


# --- attendance is never lost on editing ---------------------------------------------------------


def test_editing_a_committee_meeting_keeps_the_attendance_of_members_without_a_post(
    client, tree, people, roster, login
):
    """The page once sent only the committee's rows of a committee meeting (the others were disabled),
    and the service dropped the rows not sent: 李四, who holds no post but attended, vanished."""
    activity = services.activity_record(
        organization=tree["branch_a1"],
        actor=people["secretary_a1"],
        data=data(kind=ActivityKind.COMMITTEE_MEETING),
        attendance={roster["zhang"].pk: (True, ""), roster["li"].pk: (True, "")},
    )
    url = reverse("branches:activity-edit", kwargs={"pk": activity.pk})
    post = {  # what the old page sent: 张三 only
        "kind": ActivityKind.COMMITTEE_MEETING,
        "held_on": activity.held_on.isoformat(),
        "topic": "支委会（更正）",
        "attendee": [str(roster["zhang"].pk)],
        f"present-{roster['zhang'].pk}": "on",
    }
    assert login(people["secretary_a1"]).post(url, post).status_code == 302
    activity.refresh_from_db()
    assert activity.topic == "支委会（更正）"
    assert dict(activity.attendance.values_list("member", "present")) == {
        roster["zhang"].pk: True,
        roster["li"].pk: True,
    }
    assert (activity.present_count, activity.absent_count) == (2, 0)


def test_the_edit_page_marks_itself_so_the_script_keeps_every_recorded_row(client, tree, people, roster, login):
    activity = record(people, tree, roster, kind=ActivityKind.COMMITTEE_MEETING)
    login(people["secretary_a1"])
    edit = client.get(reverse("branches:activity-edit", kwargs={"pk": activity.pk})).content.decode()
    new = client.get(reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})).content.decode()
    assert 'data-editing="1"' in edit and 'data-editing="0"' in new


# --- nobody present, quorum --------------------------------------------------------------------


def test_a_meeting_nobody_attended_is_refused(tree, people, roster):
    for attendance in ({}, {m.pk: (False, "") for m in roster.values()}):
        with pytest.raises(ValidationError) as refused:
            services.activity_record(
                organization=tree["branch_a1"], actor=people["secretary_a1"], data=data(), attendance=attendance
            )
        assert "attendance" in refused.value.error_dict
    assert not Activity.objects.exists()
    # A branch with no active member has nobody to list.
    activity = services.activity_record(
        organization=tree["branch_b1"], actor=people["secretary_b1"], data=data(), attendance={}
    )
    assert (activity.present_count, activity.absent_count) == (0, 0)


def test_the_form_says_why_nobody_present_is_refused(client, tree, people, roster, login):
    url = reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    post = form_post(roster)
    del post[f"present-{roster['zhang'].pk}"], post[f"present-{roster['li'].pk}"]
    response = login(people["secretary_a1"]).post(url, post)
    assert response.status_code == 200 and not Activity.objects.exists()
    assert response.context["attendance"].non_field_errors()


def test_a_general_meeting_below_quorum_is_kept_with_a_warning(client, tree, people, roster, login):
    """§3.1: more than half of the members. 1 of 3 present: recorded, and warned about."""
    url = reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    post = form_post(roster, kind=ActivityKind.GENERAL_MEETING)
    del post[f"present-{roster['li'].pk}"]
    response = login(people["secretary_a1"]).post(url, post, follow=True)
    activity = Activity.objects.get()
    assert (activity.present_count, activity.absent_count) == (1, 2)
    assert [m.level_tag for m in response.context["messages"]] == ["success", "warning"]
    assert response.context["quorum_warning"]
    assert 'data-testid="quorum-warning"' in response.content.decode()
    # 2 of 3 is more than half: no warning.
    response = client.post(url, form_post(roster, kind=ActivityKind.GENERAL_MEETING), follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    assert response.context["quorum_warning"] is None


# --- attachments: bombs, suffixes, one check -----------------------------------------------------


def png_of(width: int, height: int, name: str = "bomb.png") -> SimpleUploadedFile:
    """A valid 1-bit PNG of blank rows: tiny on disk however large the image it declares."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (height * (1 + (width + 7) // 8)), 9)
    content = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return SimpleUploadedFile(name, content, "image/png")


def test_a_decompression_bomb_is_refused_with_a_message(client, tree, people, roster, login):
    bomb = png_of(20000, 20000)
    assert len(bomb) < 100_000  # 400 megapixels in a few dozen kilobytes
    with pytest.raises(ValidationError) as refused:
        record(people, tree, roster, files=[bomb])
    assert "万像素" in refused.value.messages[0]
    bomb.seek(0)
    url = reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    response = login(people["secretary_a1"]).post(url, form_post(roster, files=[bomb]))
    assert response.status_code == 200
    assert "bomb.png" in response.content.decode() and "万像素" in response.content.decode()
    assert not Activity.objects.exists() and stored_files() == []


def test_an_image_over_the_pixel_cap_is_refused_before_it_is_decoded(tree, people, roster, monkeypatch):
    """Over 50 megapixels but under Pillow's own limit: refused by ours, without decoding."""
    with monkeypatch.context() as patched:
        patched.setattr(Image.Image, "verify", lambda self: pytest.fail("decoded"))
        with pytest.raises(ValidationError) as refused:
            record(people, tree, roster, files=[png_of(8000, 7000, "huge.png")])
    assert "huge.png" in refused.value.messages[0] and "50" in refused.value.messages[0]
    assert record(people, tree, roster, files=[png_of(7000, 7000, "big.png")]).attachments.count() == 1


def test_the_file_on_disk_takes_the_suffix_of_its_content(tree, people, roster):
    activity = record(people, tree, roster, files=[image_file("page.html", "PNG"), pdf_file("纪要")])
    names = dict(activity.attachments.values_list("name", "file"))
    assert names["page.html"].endswith(".png") and names["纪要"].endswith(".pdf")


def test_files_are_checked_once_per_upload(client, tree, people, roster, login, monkeypatch):
    calls = []
    check = services.check_attachment
    monkeypatch.setattr(services, "check_attachment", lambda upload: calls.append(upload.name) or check(upload))
    url = reverse("branches:activity-create", kwargs={"pk": tree["branch_a1"].pk})
    login(people["secretary_a1"]).post(url, form_post(roster, files=[image_file("a.jpg"), pdf_file("b.pdf")]))
    assert sorted(calls) == ["a.jpg", "b.pdf"]
    activity = Activity.objects.get()
    calls.clear()
    client.post(reverse("branches:activity-attachments", kwargs={"pk": activity.pk}), {"files": [image_file("c.jpg")]})
    assert calls == ["c.jpg"] and activity.attachments.count() == 3


@pytest.mark.parametrize("change", ["update", "attach"])
def test_a_failed_change_leaves_no_file_behind(tree, people, roster, monkeypatch, change):
    activity = record(people, tree, roster)

    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "audit_event", fail)
    with pytest.raises(RuntimeError):
        if change == "update":
            services.activity_update(
                activity=activity, actor=people["secretary_a1"], data=data(), attendance={}, files=[image_file()]
            )
        else:
            services.activity_attachments_add(activity=activity, actor=people["secretary_a1"], files=[pdf_file()])
    assert not ActivityAttachment.objects.exists()
    assert stored_files() == []


# --- a secretary of two branches --------------------------------------------------------------


def test_a_secretary_of_two_branches_chooses_which(client, tree, people, login):
    from branches.models import Role, RoleAssignment

    secretary = people["secretary_a1"]
    RoleAssignment.objects.create(
        user=secretary, role=Role.BRANCH_SECRETARY, organization=tree["branch_ag1"], starts_on=date(2024, 1, 1)
    )
    response = login(secretary).get(reverse("branches:activities"))
    assert response.status_code == 200
    expected = sorted([tree["branch_a1"], tree["branch_ag1"]], key=lambda unit: unit.path)
    assert response.context["units"] == expected
    text = response.content.decode()
    for unit in (tree["branch_a1"], tree["branch_ag1"]):
        assert reverse("branches:unit-activities", kwargs={"pk": unit.pk}) in text
