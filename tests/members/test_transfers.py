"""Transfers: two-sided approval, placement by a committee, refusals, lapse, out of the county,
and the pages both sides use."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from members import transfers
from members.models import Member, Transfer
from members.tasks import lapse_transfers
from tests.conftest import make_member


@pytest.fixture
def member(tree):
    return make_member(tree["branch_a1"], "转出人")


def test_the_sender_starts_and_the_receiving_secretary_accepts(tree, people, member):
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    assert transfer.status == "pending"
    assert Member.objects.get(pk=member.pk).branch == tree["branch_a1"]  # nothing moves before approval
    with pytest.raises(PermissionDenied):  # the sender cannot approve for the receiver
        transfers.transfer_approve(actor=people["secretary_a1"], transfer=transfer)
    transfers.transfer_approve(actor=people["secretary_b1"], transfer=transfer)
    moved = Member.objects.get(pk=member.pk)
    assert moved.branch == tree["branch_b1"]
    assert Transfer.objects.get(pk=transfer.pk).status == "completed"


def test_the_receiving_side_starts_by_id_number_and_the_sender_approves(client, tree, people, login, member):
    login(people["secretary_b1"])
    response = client.post(
        reverse("members:transfer-receive"), {"id_number": member.id_number, "to_unit": tree["branch_b1"].pk}
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302 and transfer.initiated_by_receiving_side
    login(people["secretary_a1"])
    assert client.get(reverse("members:transfers")).context["rows"] == [(transfer, True)]
    client.post(reverse("members:transfer-decide", kwargs={"pk": transfer.pk, "decision": "approve"}))
    assert Member.objects.get(pk=member.pk).branch == tree["branch_b1"]


def test_a_committee_places_the_member_in_one_of_its_branches(tree, people, member):
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["township_b"])
    with pytest.raises(ValidationError):  # the committee must choose the branch
        transfers.transfer_approve(actor=people["township_b_staff"], transfer=transfer)
    with pytest.raises(ValidationError):  # and one of its own branches
        transfers.transfer_approve(actor=people["township_b_staff"], transfer=transfer, to_branch=tree["branch_a1"])
    transfers.transfer_approve(actor=people["township_b_staff"], transfer=transfer, to_branch=tree["branch_b1"])
    assert Member.objects.get(pk=member.pk).branch == tree["branch_b1"]


def test_county_staff_move_a_member_at_once(tree, people, member):
    transfer = transfers.transfer_request(actor=people["county_staff"], member=member, to_unit=tree["branch_b1"])
    assert transfer.status == "completed"
    assert Member.objects.get(pk=member.pk).branch == tree["branch_b1"]


def test_one_open_transfer_per_member(tree, people, member):
    transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    with pytest.raises(ValidationError):
        transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_ag1"])


def test_rejecting_needs_a_reason_and_leaves_the_member_in_place(tree, people, member):
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    with pytest.raises(ValidationError):
        transfers.transfer_reject(actor=people["secretary_b1"], transfer=transfer, reason=" ")
    with pytest.raises(PermissionDenied):  # the sender withdraws, it does not reject
        transfers.transfer_reject(actor=people["secretary_a1"], transfer=transfer, reason="不同意")
    transfers.transfer_reject(actor=people["secretary_b1"], transfer=transfer, reason="非本单位人员")
    assert Member.objects.get(pk=member.pk).branch == tree["branch_a1"]
    with pytest.raises(ValidationError):  # closed
        transfers.transfer_approve(actor=people["secretary_b1"], transfer=transfer)


def test_the_starting_side_withdraws(tree, people, member):
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    with pytest.raises(PermissionDenied):
        transfers.transfer_cancel(actor=people["secretary_b1"], transfer=transfer)
    assert transfers.transfer_cancel(actor=people["secretary_a1"], transfer=transfer).status == "cancelled"


def test_a_member_who_left_meanwhile_is_not_moved(tree, people, member):
    from members.lifecycle import member_leave

    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    member_leave(
        actor=people["secretary_a1"], member=member, status="withdrawn", on_date=timezone.localdate(), reason="本人申请"
    )
    with pytest.raises(ValidationError):
        transfers.transfer_approve(actor=people["secretary_b1"], transfer=transfer)
    assert Member.objects.get(pk=member.pk).branch == tree["branch_a1"]


def test_overdue_transfers_lapse_once(tree, people, member, settings):
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    Transfer.objects.filter(pk=transfer.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    assert lapse_transfers() == 1
    assert lapse_transfers() == 0  # running it again changes nothing
    assert Transfer.objects.get(pk=transfer.pk).status == "lapsed"


def test_out_of_the_county_the_member_leaves_with_the_destination(client, tree, people, login, member):
    login(people["secretary_a1"])
    response = client.post(
        reverse("members:member-transfer", kwargs={"pk": member.pk}),
        {"destination": "共青团某市某区委员会", "on_date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.status, member.leaving_reason) == ("transferred_out", "共青团某市某区委员会")


def test_the_transfer_form_needs_exactly_one_destination(client, tree, people, login, member):
    login(people["secretary_a1"])
    url = reverse("members:member-transfer", kwargs={"pk": member.pk})
    both = client.post(url, {"to_unit": tree["branch_b1"].pk, "destination": "外地"})
    neither = client.post(url, {})
    assert both.status_code == neither.status_code == 200
    assert not Transfer.objects.exists()


def test_transfers_are_seen_by_both_sides_only(client, tree, people, login, member):
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    url = reverse("members:transfer", kwargs={"pk": transfer.pk})
    for persona, status in [
        ("secretary_a1", 200),
        ("secretary_b1", 200),
        ("township_b_staff", 200),
        ("county_staff", 200),
    ]:
        assert login(people[persona]).get(url).status_code == status
    for persona in ["party_a", "audit_admin", "nobody"]:
        assert login(people[persona]).get(url).status_code == 404
    decide = reverse("members:transfer-decide", kwargs={"pk": transfer.pk, "decision": "approve"})
    assert login(people["secretary_a1"]).get(decide).status_code == 405


def test_the_member_s_timeline_shows_the_transfer_and_its_lapse(client, tree, people, login, member):
    from auditlog.models import LogEntry

    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    Transfer.objects.filter(pk=transfer.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    lapse_transfers()
    lapse = LogEntry.objects.get_for_object(transfer).filter(actor__isnull=True).get()
    assert lapse.changes == {"status": ["pending", "lapsed"]}
    response = login(people["secretary_a1"]).get(reverse("members:member", kwargs={"pk": member.pk}))
    details = " ".join(item.detail for item in response.context["timeline"])
    assert "已过期" in details and tree["branch_b1"].name in details


def test_both_sides_are_told_on_their_home_page_when_a_transfer_lapses(client, tree, people, login, member):
    transfer = transfers.transfer_request(actor=people["secretary_a1"], member=member, to_unit=tree["branch_b1"])
    Transfer.objects.filter(pk=transfer.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    lapse_transfers()
    for persona in ["secretary_a1", "secretary_b1"]:
        response = login(people[persona]).get(reverse("home"))
        assert response.context["members"].transfers_lapsed == 1
        assert "因未审批而过期" in response.content.decode()
    assert login(people["township_a_staff"]).get(reverse("home")).context["members"].transfers_lapsed == 1
