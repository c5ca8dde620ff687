"""Who may open which page of branch life, for every persona, inside and outside their scope (the
pattern of test_scope_matrix). Activities are records about people: seen through League roles only,
so out of scope — also for Party organizers and administrators — is 404; the staff pages are 403 for
those in scope but not staff."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from branches import activity_services as services
from branches.models import ActivityKind, ThemedDayTopic
from tests.branches.test_activities import pdf_file
from tests.branches.test_scope_matrix import PERSONAS, expect
from tests.conftest import make_member

ADMINS_FORBIDDEN = dict(system_admin=403, security_admin=403, audit_admin=403)
KEEPERS_OF_A1 = dict(county_staff=200, township_a_staff=200, secretary_a1=200, deputy_a1=200)


@pytest.fixture
def objects(tree, people):
    member = make_member(tree["branch_a1"], "张三")
    activity = services.activity_record(
        organization=tree["branch_a1"],
        actor=people["secretary_a1"],
        data={"kind": ActivityKind.THEMED_DAY, "held_on": timezone.localdate(), "topic": "学习"},
        attendance={member.pk: (True, "")},
        files=[pdf_file()],
    )
    topic = ThemedDayTopic.objects.create(
        county=tree["county"],
        month=timezone.localdate().replace(day=1),
        title="主题",
        record_by=timezone.localdate(),
        created_by=people["county_staff"],
    )
    return {"activity": activity, "attachment": activity.attachments.get(), "topic": topic, **tree}


# (url name, the object it is about, expected status per persona)
MATRIX = [
    ("branches:unit-activities", "branch_a1", expect(404, **KEEPERS_OF_A1)),
    ("branches:unit-activity-calendar", "branch_a1", expect(404, **KEEPERS_OF_A1)),
    ("branches:activity-create", "branch_a1", expect(404, **KEEPERS_OF_A1)),
    ("branches:activity", "activity", expect(404, **KEEPERS_OF_A1)),
    ("branches:activity-edit", "activity", expect(404, **KEEPERS_OF_A1)),
    ("branches:activity-void", "activity", expect(404, **KEEPERS_OF_A1)),
    ("branches:attachment", "attachment", expect(404, **KEEPERS_OF_A1)),
    ("branches:attachment-remove", "attachment", expect(404, **KEEPERS_OF_A1)),
    # A committee's own activities: its staff and the county; party_a may open township A's page
    # (it is paired with it) but sees no records of it.
    ("branches:unit-activities", "township_a", expect(404, county_staff=200, township_a_staff=200)),
    ("branches:activity-create", "township_a", expect(404, county_staff=200, township_a_staff=200)),
    (
        "branches:activity-completeness",
        None,
        expect(403, county_staff=200, township_a_staff=200, township_b_staff=200),
    ),
    (
        "branches:activity-completeness-export",
        None,
        expect(403, county_staff=200, township_a_staff=200, township_b_staff=200),
    ),
    ("branches:themed-topics", None, expect(403, county_staff=200)),
    ("branches:themed-topic-edit", "topic", expect(403, county_staff=200)),
    (
        "branches:activities",
        None,
        expect(
            403,
            county_staff=302,
            township_a_staff=302,
            township_b_staff=302,
            secretary_a1=302,
            deputy_a1=302,
            secretary_b1=302,
        ),
    ),
]
assert set(MATRIX[0][2]) == set(PERSONAS)


def _url(name, target, objects):
    return reverse(name) if target is None else reverse(name, kwargs={"pk": objects[target].pk})


@pytest.mark.parametrize(
    ("name", "target", "persona", "status"),
    [(name, target, persona, status) for name, target, table in MATRIX for persona, status in table.items()],
)
def test_scope_matrix(client, objects, people, login, name, target, persona, status):
    login(people[persona])
    assert client.get(_url(name, target, objects)).status_code == status


@pytest.mark.parametrize(("name", "target", "_table"), MATRIX)
def test_anonymous_visitors_are_sent_to_sign_in(client, objects, name, target, _table):
    response = client.get(_url(name, target, objects))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_posting_out_of_scope_changes_nothing(client, objects, people, login, persona):
    activity, attachment = objects["activity"], objects["attachment"]
    login(people[persona])
    photo = SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", "application/pdf")
    responses = [
        client.post(reverse("branches:activity-attachments", kwargs={"pk": activity.pk}), {"files": [photo]}),
        client.post(reverse("branches:attachment-remove", kwargs={"pk": attachment.pk})),
        client.post(reverse("branches:activity-edit", kwargs={"pk": activity.pk}), {"topic": "改"}),
        client.post(reverse("branches:activity-void", kwargs={"pk": activity.pk}), {"reason": "录错了"}),
    ]
    if persona in KEEPERS_OF_A1:
        assert all(r.status_code in (200, 302) for r in responses)
    else:
        assert [r.status_code for r in responses] == [404, 404, 404, 404]
        activity.refresh_from_db()
        assert activity.topic == "学习" and activity.attachments.count() == 1 and not activity.is_voided


def test_adding_attachments_is_post_only(client, objects, people, login):
    url = reverse("branches:activity-attachments", kwargs={"pk": objects["activity"].pk})
    assert login(people["secretary_a1"]).get(url).status_code == 405
