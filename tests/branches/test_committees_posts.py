"""What the reviewers of issue 4 found in the committee services: the member record's League post
follows the seats; the unit's own people do not grant themselves an age exception; a mistaken term is
corrected (who, which dates, what moves with it, the page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from branches.activity_selectors import sits_on_committee
from branches.committee_services import SeatInput, cadre_update, election_record, seat_add, seat_end, term_correct
from branches.models import Cadre, CommitteeSeat, CommitteeTerm, Organization, add_years
from members.lifecycle import over_age_due
from members.models import Member
from members.selectors import member_timeline
from tests.branches.test_committees import make_cadre, make_term, person
from tests.conftest import make_member

TODAY = timezone.localdate()


def post_of(member: Member) -> str:
    return Member.objects.get(pk=member.pk).league_post


def cadre_fields(cadre: Cadre, **changes) -> dict:
    fields = {
        name: getattr(cadre, name)
        for name in ("member", "name", "sex", "birth_date", "education", "employment", "establishment", "phone")
    }
    return {**fields, "age_exception": cadre.age_exception, **changes}


# --- the League post on the member record ---------------------------------------------------------


@pytest.fixture
def veteran(tree):
    """A member of branch A1 past the leaving age (28), still active."""
    return make_member(tree["branch_a1"], "老团员", birth_date=add_years(TODAY, -29))


def test_an_election_gives_the_member_the_post_and_the_member_s_history_says_so(tree, people, veteran):
    assert veteran in over_age_due(Member.objects.all(), today=TODAY)
    term = election_record(
        organization=tree["branch_a1"],
        actor=people["deputy_a1"],
        elected_on=TODAY - timedelta(days=3),
        seats=[SeatInput("secretary", person=person("", member=veteran))],
    )
    assert post_of(veteran) == "secretary"
    assert sits_on_committee(Member.objects.get(pk=veteran.pk))  # the branch committee's meetings
    assert veteran not in over_age_due(Member.objects.all(), today=TODAY)  # exempt while in post
    entry = LogEntry.objects.get_for_object(veteran).get(action=LogEntry.Action.UPDATE)
    assert entry.changes_dict == {"league_post": ["", "secretary"]}
    assert entry.actor == people["deputy_a1"] and entry.additional_data == {"on_behalf_of": "secretary_a1"}
    assert any("团内职务" in item.detail for item in member_timeline(veteran))
    # The seat ends: the post is cleared and the member is on the over-age list again.
    seat_end(seat=term.seats.get(), actor=people["secretary_a1"], until=TODAY)
    assert post_of(veteran) == ""
    assert veteran in over_age_due(Member.objects.all(), today=TODAY)
    assert LogEntry.objects.get_for_object(veteran).filter(action=LogEntry.Action.UPDATE).count() == 2


def test_a_new_election_clears_those_not_re_elected_and_sets_the_new_posts(tree, people):
    unit = tree["branch_a1"]
    leaving, staying = make_member(unit, "离任"), make_member(unit, "连任")
    election_record(
        organization=unit,
        actor=people["secretary_a1"],
        elected_on=TODAY - timedelta(days=400),
        seats=[
            SeatInput("secretary", person=person("", member=leaving)),
            SeatInput("publicity", person=person("", member=staying)),
        ],
    )
    assert (post_of(leaving), post_of(staying)) == ("secretary", "publicity")
    again = Cadre.objects.get(member=staying)
    election_record(
        organization=unit,
        actor=people["secretary_a1"],
        elected_on=TODAY,
        seats=[SeatInput("secretary", cadre=again), SeatInput("committee", person=person("非团员"))],
    )
    assert (post_of(leaving), post_of(staying)) == ("", "secretary")


def test_the_highest_post_on_any_committee_counts_and_the_last_seat_clears_it(tree, people):
    """A branch's organization member who is also the township's deputy secretary: deputy until the
    township seat ends, then organization member again, then nothing."""
    member = make_member(tree["branch_a1"], "兼职副书记")
    branch_term = election_record(
        organization=tree["branch_a1"],
        actor=people["secretary_a1"],
        elected_on=TODAY - timedelta(days=100),
        seats=[SeatInput("organization", person=person("", member=member))],
    )
    township_term = make_term(tree["township_a"], TODAY - timedelta(days=100), [])
    township_seat = seat_add(
        term=township_term,
        actor=people["county_staff"],
        post="deputy",
        since=TODAY - timedelta(days=10),
        person=person("", member=member),
    )
    assert post_of(member) == "deputy"
    assert Cadre.objects.filter(member=member).count() == 2  # each committee keeps its record
    seat_end(seat=township_seat, actor=people["county_staff"], until=TODAY)
    assert post_of(member) == "organization"  # still on the branch committee
    seat_end(seat=branch_term.seats.get(), actor=people["secretary_a1"], until=TODAY)
    assert post_of(member) == ""


def test_a_group_leader_without_a_seat_keeps_the_post(tree, people):
    unit = tree["branch_a1"]
    leader = make_member(unit, "组长", league_post="group_leader")
    term = make_term(unit, TODAY - timedelta(days=30), [])
    # Someone else's seat ends, and the group leader is linked to a cadre record with no seat.
    seat = seat_add(term=term, actor=people["secretary_a1"], post="committee", since=TODAY, person=person("甲"))
    cadre = make_cadre(unit, "组长")
    cadre_update(cadre=cadre, actor=people["secretary_a1"], **cadre_fields(cadre, member=leader))
    seat_end(seat=seat, actor=people["secretary_a1"], until=TODAY)
    assert post_of(leader) == "group_leader"
    # Elected to the committee, the committee post is the one that counts (and is cleared after).
    leader_seat = seat_add(term=term, actor=people["secretary_a1"], post="publicity", since=TODAY, cadre=cadre)
    assert post_of(leader) == "publicity"
    seat_end(seat=leader_seat, actor=people["secretary_a1"], until=TODAY)
    assert post_of(leader) == ""


def test_linking_a_sitting_cadre_to_a_member_record_moves_the_post(tree, people):
    unit = tree["branch_a1"]
    first, second = make_member(unit, "甲"), make_member(unit, "乙")
    cadre = make_cadre(unit, "甲")
    make_term(unit, TODAY - timedelta(days=30), [(cadre, "deputy")])
    cadre_update(cadre=cadre, actor=people["secretary_a1"], **cadre_fields(cadre, member=first))
    assert post_of(first) == "deputy"
    cadre.refresh_from_db()
    cadre_update(cadre=cadre, actor=people["secretary_a1"], **cadre_fields(cadre, member=second))
    assert (post_of(first), post_of(second)) == ("", "deputy")


def test_a_refused_change_leaves_the_post_as_it_was(tree, people, veteran):
    term = make_term(tree["branch_a1"], TODAY - timedelta(days=30), [])
    with pytest.raises(ValidationError):
        seat_add(
            term=term,
            actor=people["secretary_a1"],
            post="secretary",
            since=TODAY + timedelta(days=1),
            person=person("", member=veteran),
        )
    assert post_of(veteran) == ""


# --- age exceptions -------------------------------------------------------------------------------


@pytest.fixture
def over_age(tree):
    """A cadre of 37 on branch A1's committee and one on township A's."""
    born = add_years(TODAY, -37)
    branch_cadre = make_cadre(tree["branch_a1"], "支部老书记", birth_date=born)
    township_cadre = make_cadre(tree["township_a"], "镇老书记", birth_date=born)
    make_term(tree["branch_a1"], TODAY - timedelta(days=30), [(branch_cadre, "secretary")])
    make_term(tree["township_a"], TODAY - timedelta(days=30), [(township_cadre, "secretary")])
    return {"branch": branch_cadre, "township": township_cadre}


@pytest.mark.parametrize(
    ("persona", "cadre", "allowed"),
    [
        ("secretary_a1", "branch", False),  # the branch's own secretary
        ("deputy_a1", "branch", False),
        ("township_a_staff", "township", False),  # the township's staff on their own committee
        ("township_a_staff", "branch", True),  # the committee above the branch
        ("county_staff", "township", True),
        ("county_staff", "branch", True),
    ],
)
def test_only_the_committee_above_records_an_age_exception(people, over_age, persona, cadre, allowed):
    record = over_age[cadre]
    call = lambda: cadre_update(  # noqa: E731
        cadre=record, actor=people[persona], **cadre_fields(record, age_exception="组织部批准")
    )
    if allowed:
        assert call().age_exception == "组织部批准"
    else:
        with pytest.raises(PermissionDenied):
            call()
        assert Cadre.objects.get(pk=record.pk).age_exception == ""


def test_the_unit_s_people_still_edit_the_rest_of_a_record_with_an_exception(people, over_age):
    record = over_age["branch"]
    Cadre.objects.filter(pk=record.pk).update(age_exception="县委批准")
    record.refresh_from_db()
    updated = cadre_update(cadre=record, actor=people["secretary_a1"], **cadre_fields(record, phone="13800000000"))
    assert (updated.phone, updated.age_exception) == ("13800000000", "县委批准")
    with pytest.raises(PermissionDenied):  # removing it is changing it too
        cadre_update(cadre=record, actor=people["secretary_a1"], **cadre_fields(record, age_exception=""))


def test_nobody_brings_an_exception_in_with_a_new_person(tree, people):
    with pytest.raises(PermissionDenied):
        election_record(
            organization=tree["branch_a1"],
            actor=people["secretary_a1"],
            elected_on=TODAY,
            seats=[SeatInput("secretary", person=person("甲", age_exception="自己批准"))],
        )
    term = make_term(tree["township_a"], TODAY - timedelta(days=30), [])
    with pytest.raises(PermissionDenied):
        seat_add(
            term=term,
            actor=people["township_a_staff"],
            post="committee",
            since=TODAY,
            person=person("乙", age_exception="自己批准"),
        )
    assert not Cadre.objects.exists() and not CommitteeTerm.objects.filter(organization=tree["branch_a1"]).exists()


@pytest.mark.parametrize(("persona", "cadre"), [("secretary_a1", "branch"), ("township_a_staff", "township")])
def test_the_edit_page_shows_the_exception_but_does_not_take_it(client, login, people, over_age, persona, cadre):
    record = over_age[cadre]
    Cadre.objects.filter(pk=record.pk).update(age_exception="县委批准")
    url = reverse("branches:cadre-edit", kwargs={"pk": record.pk})
    login(people[persona])
    form = client.get(url).context["form"]
    assert form.fields["age_exception"].disabled
    data = {
        key: value
        for key, value in cadre_fields(record, age_exception="自己改的", phone="13800000000").items()
        if key != "member"
    }
    data["birth_date"] = record.birth_date.isoformat()
    assert client.post(url, data).status_code == 302
    record.refresh_from_db()
    assert (record.phone, record.age_exception) == ("13800000000", "县委批准")  # the rest is saved


def test_the_committee_above_records_the_exception_on_the_page(client, login, people, over_age):
    record = over_age["township"]
    url = reverse("branches:cadre-edit", kwargs={"pk": record.pk})
    login(people["county_staff"])
    assert not client.get(url).context["form"].fields["age_exception"].disabled
    data = {key: value for key, value in cadre_fields(record, age_exception="县委批准").items() if key != "member"}
    data["birth_date"] = record.birth_date.isoformat()
    assert client.post(url, data).status_code == 302
    assert Cadre.objects.get(pk=record.pk).age_exception == "县委批准"


# --- correcting a term ----------------------------------------------------------------------------


@pytest.fixture
def history(tree, people):
    """Branch A1: a term elected 400 days ago and ended by the current one, elected 30 days ago
    (both recorded through the service: the old seats closed on the election day)."""
    unit = tree["branch_a1"]
    old = election_record(
        organization=unit,
        actor=people["county_staff"],
        elected_on=TODAY - timedelta(days=400),
        seats=[SeatInput("secretary", person=person("老书记")), SeatInput("deputy", person=person("老副书记"))],
    )
    current = election_record(
        organization=unit,
        actor=people["secretary_a1"],
        elected_on=TODAY - timedelta(days=30),
        seats=[SeatInput("secretary", person=person("新书记"))],
    )
    old.refresh_from_db()
    return {"unit": unit, "old": old, "current": current}


def test_a_mistyped_election_date_is_corrected_with_what_follows_from_it(people, history):
    current, old = history["current"], history["old"]
    day = TODAY - timedelta(days=35)
    corrected = term_correct(term=current, starts_on=day, length_years=5, note=" 补正 ", actor=people["secretary_a1"])
    assert (corrected.starts_on, corrected.length_years, corrected.due_on, corrected.note) == (
        day,
        5,
        add_years(day, 5),
        "补正",
    )
    assert set(current.seats.values_list("since", flat=True)) == {day}  # elected that day
    old.refresh_from_db()
    assert old.ended_on == day and set(old.seats.values_list("until", flat=True)) == {day}
    entries = LogEntry.objects.filter(actor=people["secretary_a1"], timestamp__gte=corrected.created_at)
    changed = {(e.content_type.model, e.object_pk) for e in entries.filter(action=LogEntry.Action.UPDATE)}
    assert ("committeeterm", str(current.pk)) in changed and ("committeeterm", str(old.pk)) in changed
    entry = entries.get(content_type__model="committeeterm", object_pk=str(current.pk), action=LogEntry.Action.UPDATE)
    assert entry.changes_dict["starts_on"] == [str(TODAY - timedelta(days=30)), str(day)]


@pytest.mark.parametrize(
    ("days_ago", "length", "field", "message"),
    [
        (-1, 3, "starts_on", "选举日期不能晚于今天"),
        (30, 0, "length_years", "任期应为 1 至"),
        (500, 3, "starts_on", "上一届委员会最后一次变动"),  # before the old term even began
    ],
)
def test_a_correction_must_make_sense(people, history, days_ago, length, field, message):
    current = history["current"]
    with pytest.raises(ValidationError) as exc:
        term_correct(
            term=current,
            starts_on=TODAY - timedelta(days=days_ago),
            length_years=length,
            note="",
            actor=people["county_staff"],
        )
    assert message in " ".join(exc.value.message_dict[field])
    current.refresh_from_db()
    assert current.starts_on == TODAY - timedelta(days=30) and current.length_years == 3


def test_a_past_term_cannot_start_after_the_next_one(people, history):
    old = history["old"]
    with pytest.raises(ValidationError) as exc:
        term_correct(
            term=old, starts_on=TODAY - timedelta(days=20), length_years=3, note="", actor=people["county_staff"]
        )
    assert "下一届" in exc.value.message_dict["starts_on"][0]
    fine = term_correct(
        term=old, starts_on=TODAY - timedelta(days=410), length_years=3, note="", actor=people["county_staff"]
    )
    assert set(fine.seats.values_list("since", flat=True)) == {TODAY - timedelta(days=410)}


def test_a_correction_stops_at_the_first_change_of_the_committee(people, history):
    current = history["current"]
    seat_add(
        term=current,
        actor=people["secretary_a1"],
        post="deputy",
        since=TODAY - timedelta(days=10),
        person=person("增补"),
    )
    with pytest.raises(ValidationError) as exc:
        term_correct(
            term=current, starts_on=TODAY - timedelta(days=5), length_years=3, note="", actor=people["county_staff"]
        )
    message = exc.value.message_dict["starts_on"][0]
    assert (TODAY - timedelta(days=10)).isoformat() in message and "第一次变动" in message


@pytest.mark.parametrize(
    ("persona", "unit", "recorded_days_ago", "allowed"),
    [
        ("secretary_a1", "branch_a1", 29, True),
        ("deputy_a1", "branch_a1", 29, True),
        ("secretary_a1", "branch_a1", 31, False),  # too late for the branch: the township corrects it
        ("township_a_staff", "branch_a1", 400, True),
        ("township_a_staff", "township_a", 1, False),  # not the township's own committee
        ("county_staff", "township_a", 400, True),
        ("county_staff", "county", 400, True),  # nobody above the county
        ("township_b_staff", "branch_a1", 1, False),
        ("secretary_b1", "branch_a1", 1, False),
    ],
)
def test_who_may_correct_a_term(tree, people, persona, unit, recorded_days_ago, allowed):
    term = make_term(tree[unit], TODAY - timedelta(days=60), [(make_cadre(tree[unit]), "secretary")])
    CommitteeTerm.objects.filter(pk=term.pk).update(created_at=timezone.now() - timedelta(days=recorded_days_ago))
    term.refresh_from_db()
    call = lambda: term_correct(  # noqa: E731
        term=term, starts_on=TODAY - timedelta(days=61), length_years=3, note="", actor=people[persona]
    )
    if allowed:
        assert call().starts_on == TODAY - timedelta(days=61)
    else:
        with pytest.raises(PermissionDenied):
            call()
        term.refresh_from_db()
        assert term.starts_on == TODAY - timedelta(days=60)


def test_a_dissolved_unit_s_term_is_not_corrected(tree, people, history):
    Organization.objects.filter(pk=history["unit"].pk).update(dissolved_on=TODAY, dissolution_reason="合并")
    term = CommitteeTerm.objects.select_related("organization").get(pk=history["current"].pk)
    with pytest.raises(ValidationError, match="撤销"):
        term_correct(term=term, starts_on=TODAY, length_years=3, note="", actor=people["county_staff"])


def test_the_committee_page_offers_the_correction_and_takes_it(client, login, people, history):
    committee_url = reverse("branches:committee", kwargs={"pk": history["unit"].pk})
    correct_url = reverse("branches:committee-term-correct", kwargs={"pk": history["current"].pk})
    page = login(people["township_a_staff"]).get(committee_url).content.decode()
    assert correct_url in page and "更正本届" in page
    # a past term is corrected on its own page
    assert reverse("branches:committee-term-correct", kwargs={"pk": history["old"].pk}) in page
    response = client.post(correct_url, {"starts_on": TODAY.isoformat(), "length_years": "9", "note": ""})
    assert response.status_code == 302 and response["Location"] == committee_url
    assert CommitteeTerm.objects.get(pk=history["current"].pk).length_years == 9
    response = client.post(correct_url, {"starts_on": (TODAY + timedelta(days=1)).isoformat(), "length_years": "3"})
    assert response.status_code == 200 and "选举日期不能晚于今天" in response.content.decode()
    assert CommitteeTerm.objects.get(pk=history["current"].pk).starts_on == TODAY


def test_the_committee_page_offers_no_correction_to_those_who_may_not(client, login, people, history):
    CommitteeTerm.objects.update(created_at=timezone.now() - timedelta(days=31))
    page = login(people["secretary_a1"]).get(reverse("branches:committee", kwargs={"pk": history["unit"].pk}))
    assert page.context["correct_form"] is None and not page.context["correctable"]
    for term in (history["current"], history["old"]):
        assert reverse("branches:committee-term-correct", kwargs={"pk": term.pk}) not in page.content.decode()


def test_seat_counts_stay_as_they_were_after_a_refused_correction(people, history):
    before = list(CommitteeSeat.objects.order_by("pk").values_list("since", "until"))
    with pytest.raises(ValidationError):
        term_correct(
            term=history["current"],
            starts_on=TODAY - timedelta(days=500),
            length_years=3,
            note="",
            actor=people["county_staff"],
        )
    assert list(CommitteeSeat.objects.order_by("pk").values_list("since", "until")) == before
