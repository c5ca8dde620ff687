"""The audit trail: every change recorded with actor, old and new values; append-only; readable by
the audit administrator and on each unit's page."""

import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from branches import services


def test_a_change_through_the_page_is_recorded_and_shown_on_the_unit(client, tree, people, login):
    login(people["township_a_staff"])
    unit = tree["branch_a1"]
    response = client.post(
        reverse("branches:unit-edit", kwargs={"pk": unit.pk}),
        {"name": "甲一村团支部(新)", "code": unit.code, "sector": unit.sector, "contact_phone": "13800001111"},
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get_for_object(unit).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == people["township_a_staff"]
    assert entry.changes["name"] == ["甲一村团支部", "甲一村团支部(新)"]
    assert entry.remote_addr == "127.0.0.1"
    page = client.get(reverse("branches:unit", kwargs={"pk": unit.pk}))
    assert "甲一村团支部(新)" in page.content.decode()
    assert page.context["history"][0] == entry


def test_invalid_input_changes_nothing_and_records_nothing(client, tree, people, login):
    login(people["township_a_staff"])
    unit = tree["branch_a1"]
    response = client.post(
        reverse("branches:unit-edit", kwargs={"pk": unit.pk}),
        {"name": "", "code": tree["branch_b1"].code, "sector": "nonsense", "contact_phone": "12"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "code", "sector", "contact_phone"}
    unit.refresh_from_db()
    assert unit.name == "甲一村团支部"
    assert not LogEntry.objects.get_for_object(unit).filter(action=LogEntry.Action.UPDATE).exists()


def test_the_audit_administrator_reads_the_trail(client, tree, people, login):
    services.organization_update(
        actor=people["county_staff"], organization=tree["branch_b1"], contact_phone="13900000000"
    )
    login(people["audit_admin"])
    response = client.get(reverse("branches:audit"), {"actor": "county_staff"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1
    assert "13900000000" in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_the_database_refuses_to_change_or_delete_audit_entries(tree, people):
    services.organization_update(
        actor=people["county_staff"], organization=tree["branch_b1"], contact_phone="13900000000"
    )
    entry = LogEntry.objects.latest("timestamp")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(changes_text="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    assert LogEntry.objects.filter(pk=entry.pk).exists()
