"""Committees, terms and cadres: term arithmetic, recording elections (换届) and changes during a
term, cadre records, who may do it, and the audit trail. (Norms and statistics:
test_committees_norms.py; pages: test_committees_pages.py; the reminder: test_committees_reminders.py.)"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from branches import committee_services
from branches.committee_selectors import TermStatus, default_term_years, term_status
from branches.committee_services import SeatInput, cadre_update, election_record, seat_add, seat_end
from branches.models import (
    Cadre,
    CommitteeSeat,
    CommitteeTerm,
    Organization,
    OrganizationKind,
    Role,
    Sector,
    User,
    add_years,
)
from tests.conftest import add, make_member, make_user

TODAY = timezone.localdate()


# --- helpers shared by the committee tests --------------------------------------------------------


def make_cadre(unit: Organization, name: str = "李明", **fields) -> Cadre:
    values = {
        "sex": "M",
        "birth_date": date(1996, 3, 1),
        "education": "bachelor",
        "employment": "part_time",
        "establishment": "outside",
        **fields,
    }
    return Cadre.objects.create(organization=unit, name=name, **values)


def make_term(unit: Organization, starts_on: date, seats=(), *, length_years: int = 3) -> CommitteeTerm:
    """A term with seats [(cadre, post), …] held since its start, written directly (not audited)."""
    term = CommitteeTerm.objects.create(
        organization=unit, starts_on=starts_on, length_years=length_years, recorded_by=User.objects.first()
    )
    for cadre, post in seats:
        CommitteeSeat.objects.create(term=term, cadre=cadre, post=post, since=starts_on)
    return term


def person(name: str, **fields) -> dict:
    """A new person's details as the election form gives them."""
    return {
        "name": name,
        "sex": "F",
        "birth_date": date(1998, 7, 1),
        "education": "college",
        "employment": "part_time",
        "establishment": "outside",
        "phone": "",
        "member": None,
        **fields,
    }


def counts() -> tuple[int, int, int]:
    return CommitteeTerm.objects.count(), CommitteeSeat.objects.count(), Cadre.objects.count()


# --- term arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "years", "due"),
    [
        (date(2024, 2, 29), 3, date(2027, 2, 28)),  # no 29 February in 2027
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2023, 3, 1), 1, date(2024, 3, 1)),
        (date(2021, 12, 31), 5, date(2026, 12, 31)),
    ],
)
def test_the_term_end_is_computed_on_save(tree, people, start, years, due):
    term = make_term(tree["branch_a1"], start, length_years=years)
    assert term.due_on == due
    term.starts_on = date(2025, 1, 10)
    term.save(update_fields=["starts_on"])  # due_on is saved with it
    term.refresh_from_db()
    assert term.due_on == add_years(date(2025, 1, 10), years)


def test_default_term_lengths_by_kind_and_sector(tree, settings):
    assert default_term_years(tree["branch_a1"]) == 3  # a village branch
    assert default_term_years(tree["branch_ag1"]) == 1  # a school branch: students change every year
    assert default_term_years(tree["general_ag"]) == 3  # a school's general branch keeps the branch length
    assert default_term_years(tree["township_a"]) == 5
    assert default_term_years(tree["county"]) == 5
    joint = add(
        tree["township_a"], name="联合团支部", code="C-A-J", kind=OrganizationKind.JOINT_BRANCH, sector=Sector.OTHER
    )
    assert default_term_years(joint) == 3
    settings.LEAGUE_RULES = {**settings.LEAGUE_RULES, "term_years_branch": 2, "term_years_committee": 3}
    assert default_term_years(tree["branch_a1"]) == 2
    assert default_term_years(tree["township_a"]) == 3


def test_term_status_at_its_edges(settings):
    day = date(2026, 6, 10)
    assert term_status(None, day) == TermStatus.NONE
    assert term_status(day - timedelta(days=1), day) == TermStatus.OVERDUE
    assert term_status(day, day) == TermStatus.SOON  # ends today: not yet overdue
    assert term_status(day + timedelta(days=60), day) == TermStatus.SOON
    assert term_status(day + timedelta(days=61), day) == TermStatus.OK
    settings.LEAGUE_RULES = {**settings.LEAGUE_RULES, "term_notice_days": 90}
    assert term_status(day + timedelta(days=61), day) == TermStatus.SOON


# --- elections ------------------------------------------------------------------------------------


def test_a_first_election_starts_the_unit_s_first_term(tree, people):
    member = make_member(tree["branch_a1"], "王芳", sex="F", birth_date=date(2001, 4, 2), education="bachelor")
    term = election_record(
        organization=tree["branch_a1"],
        actor=people["secretary_a1"],
        elected_on=TODAY - timedelta(days=10),
        note="应到 20 人，实到 18 人",
        seats=[
            SeatInput("secretary", person=person("", member=member, sex="", birth_date=None, education="")),
            SeatInput("organization", person=person("赵强", sex="M")),
        ],
    )
    assert term.length_years == 3 and term.due_on == add_years(term.starts_on, 3)
    assert term.recorded_by == people["secretary_a1"]
    secretary = term.seats.get(post="secretary").cadre
    # Name, sex, date of birth and education come from the member record.
    assert (secretary.name, secretary.sex, secretary.birth_date, secretary.education) == (
        "王芳",
        "F",
        date(2001, 4, 2),
        "bachelor",
    )
    assert secretary.member == member and secretary.organization == tree["branch_a1"]
    assert set(term.seats.values_list("since", flat=True)) == {term.starts_on}


def test_an_election_ends_the_current_term_and_keeps_it(tree, people):
    unit = tree["branch_a1"]
    staying, leaving, resigned = make_cadre(unit, "留任"), make_cadre(unit, "离任"), make_cadre(unit, "辞职")
    old = make_term(unit, TODAY - timedelta(days=1200), [(staying, "secretary"), (leaving, "organization")])
    early = CommitteeSeat.objects.create(
        term=old, cadre=resigned, post="publicity", since=old.starts_on, until=TODAY - timedelta(days=400)
    )
    new = election_record(
        organization=unit,
        actor=people["township_a_staff"],
        elected_on=TODAY - timedelta(days=5),
        seats=[SeatInput("secretary", cadre=staying), SeatInput("deputy", person=person("新人"))],
    )
    old.refresh_from_db()
    early.refresh_from_db()
    assert old.ended_on == TODAY - timedelta(days=5) and not old.is_current
    assert set(old.seats.values_list("until", flat=True)) == {TODAY - timedelta(days=5), TODAY - timedelta(days=400)}
    assert early.until == TODAY - timedelta(days=400)  # a seat ended earlier keeps its own date
    assert CommitteeTerm.objects.current().get(organization=unit) == new
    assert sorted(new.seats.values_list("cadre__name", "post")) == [("新人", "deputy"), ("留任", "secretary")]
    assert Cadre.objects.filter(name="留任").count() == 1  # the same record follows the person


@pytest.mark.parametrize(
    ("elected_on", "field", "message"),
    [
        (TODAY + timedelta(days=1), "elected_on", "选举日期不能晚于今天。"),
        (TODAY - timedelta(days=101), "elected_on", "选举日期不能早于本届开始的日期"),
        (TODAY - timedelta(days=51), "elected_on", "本届委员会最后一次变动的日期"),
    ],
)
def test_an_election_date_must_make_sense(tree, people, elected_on, field, message):
    unit = tree["branch_a1"]
    current = make_term(unit, TODAY - timedelta(days=100), [(make_cadre(unit), "secretary")])
    CommitteeSeat.objects.create(
        term=current, cadre=make_cadre(unit, "补选"), post="deputy", since=TODAY - timedelta(days=50)
    )
    before = counts()
    with pytest.raises(ValidationError) as exc:
        election_record(
            organization=unit,
            actor=people["county_staff"],
            elected_on=elected_on,
            seats=[SeatInput("secretary", person=person("甲"))],
        )
    assert message in " ".join(exc.value.message_dict[field])
    assert counts() == before
    current.refresh_from_db()
    assert current.is_current and not current.seats.filter(until__isnull=False).exists()


def test_an_election_is_refused_before_the_founding_date_and_with_odd_lengths(tree, people):
    Organization.objects.filter(pk=tree["branch_a1"].pk).update(founded_on=TODAY - timedelta(days=30))
    unit = Organization.objects.get(pk=tree["branch_a1"].pk)
    seats = [SeatInput("secretary", person=person("甲"))]
    with pytest.raises(ValidationError) as exc:
        election_record(
            organization=unit, actor=people["county_staff"], elected_on=TODAY - timedelta(days=31), seats=seats
        )
    assert "成立" in exc.value.message_dict["elected_on"][0]
    for length in (0, 11):
        with pytest.raises(ValidationError) as exc:
            election_record(
                organization=unit,
                actor=people["county_staff"],
                elected_on=TODAY,
                length_years=length or -1,
                seats=seats,
            )
        assert "length_years" in exc.value.message_dict
    assert counts() == (0, 0, 0)


def test_an_election_needs_people_each_once_and_of_this_unit(tree, people):
    unit = tree["branch_a1"]
    someone = make_cadre(unit, "甲")
    elsewhere = make_cadre(tree["branch_b1"], "乙")
    member = make_member(unit, "丙")
    cases = [
        ([], "至少"),
        ([SeatInput("secretary", cadre=someone), SeatInput("deputy", cadre=someone)], "甲 重复"),
        (
            [
                SeatInput("secretary", person=person("", member=member)),
                SeatInput("deputy", person=person("", member=member)),
            ],
            "重复",
        ),
        ([SeatInput("secretary", cadre=elsewhere)], "乙 由其他组织记录"),
        ([SeatInput("chairman", cadre=someone)], "职务"),
    ]
    before = counts()
    for seats, message in cases:
        with pytest.raises(ValidationError) as exc:
            election_record(organization=unit, actor=people["county_staff"], elected_on=TODAY, seats=seats)
        assert message in " ".join(exc.value.messages), exc.value.messages
    assert counts() == before


def test_a_new_person_s_details_are_checked(tree, people):
    unit = tree["branch_a1"]
    outsider = make_member(tree["branch_b1"], "外支部团员")
    cases = [
        (person("", sex=""), {"name", "sex"}),
        (person("甲", birth_date=TODAY + timedelta(days=1)), {"birth_date"}),
        (person("甲", birth_date=add_years(TODAY, -13)), {"birth_date"}),
        (person("甲", employment="", establishment=""), {"employment", "establishment"}),
        (person("", member=outsider), {"member", "name"}),  # a member out of the secretary's scope
    ]
    for details, fields in cases:
        with pytest.raises(ValidationError) as exc:
            election_record(
                organization=unit,
                actor=people["secretary_a1"],
                elected_on=TODAY,
                seats=[SeatInput("secretary", person=details)],
            )
        assert set(exc.value.message_dict) >= fields
    assert counts() == (0, 0, 0)


def test_two_elections_recorded_at_once_leave_one_current_term(tree, people, monkeypatch):
    """A second writer that read no current term (it read before the first committed) is refused by
    the unique constraint, and what it wrote goes with it. (With real threads: the PostgreSQL test
    below.)"""
    unit = tree["branch_a1"]
    election_record(
        organization=unit,
        actor=people["county_staff"],
        elected_on=TODAY - timedelta(days=3),
        seats=[SeatInput("secretary", person=person("甲"))],
    )
    before = counts()
    monkeypatch.setattr(committee_services, "_lock_current_term", lambda unit: None)  # read before the other's commit
    with pytest.raises(ValidationError) as exc:
        election_record(
            organization=unit,
            actor=people["county_staff"],
            elected_on=TODAY,
            seats=[SeatInput("secretary", person=person("乙"))],
        )
    assert "同时" in exc.value.messages[0]
    assert counts() == before  # the new person's record went with the refused term
    assert CommitteeTerm.objects.current().filter(organization=unit).count() == 1


@pytest.mark.parametrize(
    ("persona", "unit", "allowed"),
    [
        ("county_staff", "branch_a1", True),
        ("township_a_staff", "branch_a1", True),
        ("township_a_staff", "township_a", True),
        ("secretary_a1", "branch_a1", True),
        ("deputy_a1", "branch_a1", True),
        ("township_b_staff", "branch_a1", False),
        ("secretary_b1", "branch_a1", False),
        ("secretary_a1", "township_a", False),
        ("party_a", "township_a", False),
        ("system_admin", "branch_a1", False),
    ],
)
def test_who_may_record_an_election(tree, people, persona, unit, allowed):
    call = lambda: election_record(  # noqa: E731
        organization=tree[unit],
        actor=people[persona],
        elected_on=TODAY,
        seats=[SeatInput("secretary", person=person("甲"))],
    )
    if allowed:
        assert call().organization == tree[unit]
    else:
        with pytest.raises(PermissionDenied):
            call()


def test_a_general_branch_s_secretary_runs_its_own_elections_not_its_branches(tree, people):
    secretary = make_user("secretary_ag", Role.BRANCH_SECRETARY, organization=tree["general_ag"])
    election_record(
        organization=tree["general_ag"],
        actor=secretary,
        elected_on=TODAY,
        seats=[SeatInput("secretary", person=person("甲"))],
    )
    with pytest.raises(PermissionDenied):
        election_record(
            organization=tree["branch_ag1"],
            actor=secretary,
            elected_on=TODAY,
            seats=[SeatInput("secretary", person=person("乙"))],
        )


def test_a_dissolved_unit_s_committee_no_longer_changes(tree, people):
    Organization.objects.filter(pk=tree["branch_a1"].pk).update(dissolved_on=TODAY, dissolution_reason="合并")
    unit = Organization.objects.get(pk=tree["branch_a1"].pk)
    with pytest.raises(ValidationError, match="撤销"):
        election_record(
            organization=unit,
            actor=people["county_staff"],
            elected_on=TODAY,
            seats=[SeatInput("secretary", person=person("甲"))],
        )


def test_an_election_is_audited_and_a_deputy_acts_on_the_principal_s_behalf(tree, people):
    unit = tree["branch_a1"]
    old = make_term(unit, TODAY - timedelta(days=400), [(make_cadre(unit, "老书记"), "secretary")])
    new = election_record(
        organization=unit,
        actor=people["deputy_a1"],
        elected_on=TODAY,
        seats=[SeatInput("secretary", person=person("新书记"))],
    )
    entries = LogEntry.objects.filter(actor=people["deputy_a1"])
    by_model = {(e.content_type.model, e.action) for e in entries}
    assert by_model >= {
        ("committeeterm", LogEntry.Action.UPDATE),  # the old term ended
        ("committeeterm", LogEntry.Action.CREATE),
        ("committeeseat", LogEntry.Action.UPDATE),  # the old seat closed
        ("committeeseat", LogEntry.Action.CREATE),
        ("cadre", LogEntry.Action.CREATE),
    }
    assert all(e.additional_data == {"on_behalf_of": "secretary_a1"} for e in entries)
    ended = entries.get(content_type__model="committeeterm", object_pk=str(old.pk))
    assert ended.changes_dict["ended_on"] == [None, str(TODAY)]
    assert entries.filter(content_type__model="committeeterm", object_pk=str(new.pk)).exists()


# --- changes during a term ----------------------------------------------------------------------


@pytest.fixture
def committee(tree, people):
    unit = tree["branch_a1"]
    secretary = make_cadre(unit, "书记甲")
    term = make_term(unit, TODAY - timedelta(days=200), [(secretary, "secretary")])
    return {"unit": unit, "term": term, "secretary": secretary, "seat": term.seats.get()}


def test_someone_joins_the_committee_during_the_term(committee, people):
    seat = seat_add(
        term=committee["term"],
        actor=people["secretary_a1"],
        post="deputy",
        since=TODAY - timedelta(days=3),
        person=person("增补副书记"),
        note="支委会增补",
    )
    assert seat.until is None and seat.cadre.organization == committee["unit"]
    entry = LogEntry.objects.get(content_type__model="committeeseat", object_pk=str(seat.pk))
    assert entry.actor == people["secretary_a1"] and entry.additional_data["note"] == "支委会增补"
    again = seat_add(
        term=committee["term"],
        actor=people["secretary_a1"],
        post="committee",
        since=TODAY,
        cadre=make_cadre(committee["unit"], "乙"),
    )
    assert committee["term"].seats.filter(until__isnull=True).count() == 3 and again.post == "committee"


def test_joining_is_refused_with_reasons(committee, people):
    term, unit = committee["term"], committee["unit"]
    actor = people["secretary_a1"]
    cases = [
        ({"since": TODAY + timedelta(days=1), "cadre": make_cadre(unit, "甲")}, "since", "晚于今天"),
        ({"since": term.starts_on - timedelta(days=1), "cadre": make_cadre(unit, "乙")}, "since", "本届开始"),
        ({"since": TODAY, "cadre": committee["secretary"]}, "cadre", "已在本届委员会任职"),
    ]
    before = counts()
    for kwargs, field, message in cases:
        with pytest.raises(ValidationError) as exc:
            seat_add(term=term, actor=actor, post="deputy", **kwargs)
        assert message in exc.value.message_dict[field][0]
    assert counts() == before
    CommitteeTerm.objects.filter(pk=term.pk).update(ended_on=TODAY)
    with pytest.raises(ValidationError, match="本届已结束"):
        seat_add(term=term, actor=actor, post="deputy", since=TODAY, cadre=make_cadre(unit, "丙"))


def test_someone_leaves_the_committee_during_the_term(committee, people):
    seat = seat_end(
        seat=committee["seat"], actor=people["township_a_staff"], until=TODAY - timedelta(days=1), note="辞职"
    )
    assert seat.until == TODAY - timedelta(days=1)
    assert Cadre.objects.filter(pk=committee["secretary"].pk).exists()  # the record stays
    entry = LogEntry.objects.get(
        content_type__model="committeeseat", object_pk=str(seat.pk), action=LogEntry.Action.UPDATE
    )
    assert entry.actor == people["township_a_staff"] and entry.additional_data["note"] == "辞职"
    with pytest.raises(ValidationError, match="已于"):
        seat_end(seat=committee["seat"], actor=people["township_a_staff"], until=TODAY)


def test_leaving_dates_must_make_sense(committee, people):
    for until, message in [
        (TODAY + timedelta(days=1), "晚于今天"),
        (committee["term"].starts_on - timedelta(days=1), "任职"),
    ]:
        with pytest.raises(ValidationError) as exc:
            seat_end(seat=committee["seat"], actor=people["secretary_a1"], until=until)
        assert message in exc.value.message_dict["until"][0]
    committee["seat"].refresh_from_db()
    assert committee["seat"].until is None


def test_changes_during_a_term_need_the_right(committee, people):
    with pytest.raises(PermissionDenied):
        seat_end(seat=committee["seat"], actor=people["secretary_b1"], until=TODAY)
    with pytest.raises(PermissionDenied):
        seat_add(
            term=committee["term"], actor=people["township_b_staff"], post="deputy", since=TODAY, person=person("甲")
        )


# --- cadre records --------------------------------------------------------------------------------


def test_a_cadre_s_record_is_corrected_and_audited(committee, people):
    cadre = committee["secretary"]
    fields = {
        "member": None,
        "name": "书记甲",
        "sex": "M",
        "birth_date": cadre.birth_date,
        "education": "master",
        "employment": "full_time",
        "establishment": "inside",
        "phone": "13800000000",
        "age_exception": "  县委组织部批准  ",
    }
    updated = cadre_update(cadre=cadre, actor=people["township_a_staff"], **fields)  # the committee above
    assert (updated.education, updated.age_exception) == ("master", "县委组织部批准")
    entry = LogEntry.objects.get(content_type__model="cadre", object_pk=str(cadre.pk), action=LogEntry.Action.UPDATE)
    assert set(entry.changes_dict) == {"education", "employment", "establishment", "phone", "age_exception"}


def test_linking_a_cadre_to_a_member_fills_blanks_only_in_scope(committee, people, tree):
    member = make_member(committee["unit"], "团员乙", sex="F", birth_date=date(2000, 1, 2))
    blanks = {
        "name": "",
        "sex": "",
        "birth_date": None,
        "education": "",
        "employment": "part_time",
        "establishment": "outside",
    }
    updated = cadre_update(cadre=committee["secretary"], actor=people["secretary_a1"], member=member, **blanks)
    assert (updated.name, updated.sex, updated.birth_date, updated.member) == ("团员乙", "F", date(2000, 1, 2), member)
    elsewhere = make_member(tree["branch_b1"], "乙村团员")
    with pytest.raises(ValidationError) as exc:
        cadre_update(cadre=committee["secretary"], actor=people["secretary_a1"], member=elsewhere, **blanks)
    assert "member" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        cadre_update(cadre=committee["secretary"], actor=people["secretary_b1"], member=None, **blanks)


def test_a_cadre_is_recorded_once_per_member(tree, people):
    unit = tree["branch_a1"]
    member = make_member(unit, "团员丁")
    first = election_record(
        organization=unit,
        actor=people["secretary_a1"],
        elected_on=TODAY - timedelta(days=400),
        seats=[SeatInput("organization", person=person("", member=member))],
    )
    cadre = first.seats.get().cadre
    assert (cadre.name, cadre.organization) == ("团员丁", unit)
    assert LogEntry.objects.get(content_type__model="cadre", object_pk=str(cadre.pk)).actor == people["secretary_a1"]
    term = election_record(
        organization=unit,
        actor=people["secretary_a1"],
        elected_on=TODAY,
        seats=[SeatInput("secretary", person=person("", member=member))],
    )
    assert term.seats.get().cadre == cadre  # the member's record is reused, not copied
    assert Cadre.objects.filter(member=member).count() == 1


# --- at the same moment, for real (PostgreSQL: SQLite serializes whole writes) ---------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
@pytest.mark.parametrize("existing_term", [True, False])
def test_two_elections_at_the_same_moment(transactional_db, tree, people, monkeypatch, existing_term):
    """With a current term, the second election waits on its row lock; once the first commits, the
    term it waited for has ended, and the unique constraint refuses the second's new term. Without one
    (a unit's first election) there is nothing to wait on, and the constraint decides alone."""
    from tests.promotion.test_services_concurrency import run_at_once

    unit = tree["branch_a1"]
    if existing_term:
        make_term(unit, TODAY - timedelta(days=400), [(make_cadre(unit, "老书记"), "secretary")])
    lock = committee_services._lock_current_term

    def slowly(unit):
        held = lock(unit)
        time.sleep(0.3)  # the other caller surely arrives while this one holds the lock
        return held

    monkeypatch.setattr(committee_services, "_lock_current_term", slowly)

    def elect(name, actor):
        return lambda: election_record(
            organization=unit,
            actor=people[actor],
            elected_on=TODAY,
            seats=[SeatInput("secretary", person=person(name))],
        )

    results = run_at_once(elect("甲", "secretary_a1"), elect("乙", "township_a_staff"))
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], ValidationError)
    current = CommitteeTerm.objects.current().get(organization=unit)
    assert current.seats.count() == 1
    assert "同时" in errors[0].messages[0]
    assert CommitteeTerm.objects.filter(organization=unit).count() == (2 if existing_term else 1)
    assert Cadre.objects.filter(name__in=["甲", "乙"]).count() == 1  # the loser's new person went with it
