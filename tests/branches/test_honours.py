"""Recording and revoking honours (branches.honour_services), and the 推优 priority of honoured
members and cadres (branches.honour_selectors): every refusal, who may record, the audit entries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from branches.honour_selectors import priority_member_ids, with_priority
from branches.honour_services import honour_award, honour_revoke
from branches.models import Cadre, CommitteeSeat, CommitteeTerm, Honour, HonourLevel, HonourTitle
from members.models import Member
from tests.conftest import make_member

THIS_YEAR = timezone.localdate().year


@pytest.fixture
def titles(tree):
    # The defaults the 0011 migration records (a title for people, one for units, one for both).
    return {name: HonourTitle.objects.get(name=name) for name in ["优秀共青团员", "五四红旗团支部", "五四奖章"]}


@pytest.fixture
def member(tree):
    return make_member(tree["branch_a1"], name="李明")


def award(actor, titles, *, title="优秀共青团员", **fields):
    values = {"level": HonourLevel.COUNTY, "year": THIS_YEAR - 1, "issuer": "共青团测试县委员会", **fields}
    return honour_award(actor=actor, title=titles[title], **values)


def test_a_secretary_records_an_honour_of_a_member_with_an_audit_entry(people, titles, member):
    honour = award(people["secretary_a1"], titles, member=member, note=" 表彰大会 ")
    assert honour.recorded_by == people["secretary_a1"]
    assert honour.note == "表彰大会"
    entry = LogEntry.objects.get_for_object(honour).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == people["secretary_a1"]
    assert entry.changes_dict["title"] == [None, "优秀共青团员"]
    assert entry.changes_dict["member"] == [None, "李明"]
    assert entry.changes_dict["issuer"] == [None, "共青团测试县委员会"]


def test_a_deputy_records_on_the_secretary_s_behalf(people, titles, member):
    honour = award(people["deputy_a1"], titles, member=member)
    entry = LogEntry.objects.get_for_object(honour).get()
    assert entry.additional_data == {"on_behalf_of": "secretary_a1"}


@pytest.mark.parametrize(
    ("persona", "unit", "allowed"),
    [
        ("secretary_a1", "branch_a1", True),
        ("secretary_a1", "township_a", False),  # honours are issued above; the secretary records their own
        ("secretary_b1", "branch_a1", False),
        ("township_a_staff", "branch_a1", True),
        ("township_a_staff", "township_a", True),
        ("township_b_staff", "branch_a1", False),
        ("county_staff", "township_a", True),
        ("party_a", "township_a", False),
        ("system_admin", "branch_a1", False),
        ("nobody", "branch_a1", False),
    ],
)
def test_who_records_an_honour_of_a_unit(people, tree, titles, persona, unit, allowed):
    if not allowed:
        with pytest.raises(PermissionDenied):
            award(people[persona], titles, title="五四红旗团支部", organization=tree[unit])
        assert not Honour.objects.exists()
        return
    honour = award(people[persona], titles, title="五四红旗团支部", organization=tree[unit])
    assert honour.recipient == tree[unit]


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("secretary_a1", True),
        ("deputy_a1", True),
        ("township_a_staff", True),
        ("county_staff", True),
        ("secretary_b1", False),
        ("township_b_staff", False),
        ("party_a", False),
        ("audit_admin", False),
        ("nobody", False),
    ],
)
def test_who_records_an_honour_of_a_member(people, titles, member, persona, allowed):
    if allowed:
        assert award(people[persona], titles, member=member).member == member
    else:
        with pytest.raises(PermissionDenied):
            award(people[persona], titles, member=member)
        assert not Honour.objects.exists()


def _refusal(actor, titles, **fields) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        award(actor, titles, **fields)
    assert not Honour.objects.exists()
    return caught.value.message_dict if hasattr(caught.value, "error_dict") else {"__all__": caught.value.messages}


def test_an_honour_goes_to_exactly_one_member_or_unit(people, tree, titles, member):
    both = _refusal(people["county_staff"], titles, title="五四奖章", member=member, organization=tree["branch_a1"])
    assert both == {"__all__": ["荣誉只能授予一名团员或一个组织。"]}
    assert _refusal(people["county_staff"], titles) == both


def test_the_title_must_be_one_given_to_that_kind_of_recipient(people, tree, titles, member):
    errors = _refusal(people["county_staff"], titles, title="五四红旗团支部", member=member)
    assert errors == {"title": ["五四红旗团支部不授予个人。"]}
    errors = _refusal(people["county_staff"], titles, title="优秀共青团员", organization=tree["branch_a1"])
    assert errors == {"title": ["优秀共青团员不授予组织。"]}


@pytest.mark.parametrize(("year", "message"), [(THIS_YEAR + 1, "年度不能晚于今年。"), (1948, "年度不能早于1949年。")])
def test_the_year_is_neither_in_the_future_nor_before_1949(people, titles, member, year, message):
    assert _refusal(people["secretary_a1"], titles, member=member, year=year) == {"year": [message]}


def test_the_first_and_the_current_year_are_accepted(people, titles, member):
    assert award(people["secretary_a1"], titles, member=member, year=1949).year == 1949
    assert award(people["secretary_a1"], titles, member=member, year=THIS_YEAR).year == THIS_YEAR


def test_the_level_and_the_issuer_are_required(people, titles, member):
    errors = _refusal(people["secretary_a1"], titles, member=member, level="township", issuer="  ")
    assert errors == {"level": ["请选择荣誉的级别。"], "issuer": ["请填写颁发荣誉的组织。"]}


def test_a_member_who_has_left_or_a_dissolved_unit_gets_no_new_honour(people, tree, titles, member):
    Member.objects.filter(pk=member.pk).update(status="over_age", left_on=timezone.localdate())
    member.refresh_from_db()
    errors = _refusal(people["secretary_a1"], titles, member=member)
    assert errors == {"member": ["李明已不是在册团员；荣誉只为在册团员记录。"]}
    branch = tree["branch_b1"]
    branch.dissolved_on = timezone.localdate()
    branch.save()
    errors = _refusal(people["county_staff"], titles, title="五四红旗团支部", organization=branch)
    assert errors == {"organization": ["乙一村团支部已撤销，其信息不能再修改。"]}


def test_the_same_honour_is_recorded_once_per_recipient(people, tree, titles, member):
    award(people["secretary_a1"], titles, member=member)
    with pytest.raises(ValidationError) as caught:
        award(people["township_a_staff"], titles, member=member)
    assert caught.value.messages == [f"李明已获得{THIS_YEAR - 1}年度县级优秀共青团员。"]
    # Another level or year is another honour; so is the same title for another recipient.
    award(people["secretary_a1"], titles, member=member, level=HonourLevel.CITY)
    award(people["secretary_a1"], titles, member=member, year=THIS_YEAR)
    award(people["secretary_a1"], titles, member=make_member(tree["branch_a1"], name="王芳"))
    assert Honour.objects.count() == 4


def test_a_concurrent_duplicate_is_refused_by_the_database_with_the_same_message(people, titles, member, monkeypatch):
    award(people["secretary_a1"], titles, member=member)
    # The other recording passed its check before this one committed: only the constraint is left.
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    with pytest.raises(ValidationError) as caught:
        award(people["township_a_staff"], titles, member=member)
    assert caught.value.messages == [f"李明已获得{THIS_YEAR - 1}年度县级优秀共青团员。"]
    assert Honour.objects.count() == 1


def test_the_database_keeps_one_current_honour_per_unit(people, tree, titles):
    honour = award(people["county_staff"], titles, title="五四红旗团支部", organization=tree["branch_a1"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Honour.objects.create(
            title=honour.title,
            level=honour.level,
            year=honour.year,
            issuer="x",
            organization=tree["branch_a1"],
            recorded_by=people["county_staff"],
        )


def test_revoking_keeps_the_record_marked_with_who_why_and_when(people, titles, member):
    honour = award(people["secretary_a1"], titles, member=member)
    revoked = honour_revoke(honour=honour, actor=people["township_a_staff"], reason=" 录入错误 ")
    assert revoked.is_revoked and revoked.revoked_by == people["township_a_staff"]
    assert revoked.revoked_reason == "录入错误"
    assert Honour.objects.get(pk=honour.pk).is_revoked
    assert not Honour.objects.current().exists()
    entry = LogEntry.objects.get_for_object(honour).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == people["township_a_staff"]
    assert entry.changes_dict["revoked_reason"] == ["", "录入错误"]
    assert set(entry.changes_dict) == {"revoked_at", "revoked_by", "revoked_reason"}
    # Recorded again, correctly, after the mistake was revoked.
    award(people["secretary_a1"], titles, member=member)
    assert Honour.objects.current().count() == 1


def test_revoking_needs_a_reason_the_right_and_a_current_honour(people, titles, member):
    honour = award(people["secretary_a1"], titles, member=member)
    with pytest.raises(ValidationError) as caught:
        honour_revoke(honour=honour, actor=people["secretary_a1"], reason="  ")
    assert caught.value.message_dict == {"reason": ["请填写撤销该荣誉的原因。"]}
    for persona in ["secretary_b1", "township_b_staff", "party_a", "nobody"]:
        with pytest.raises(PermissionDenied):
            honour_revoke(honour=honour, actor=people[persona], reason="错误")
    assert not Honour.objects.get(pk=honour.pk).is_revoked
    honour_revoke(honour=honour, actor=people["secretary_a1"], reason="错误")
    with pytest.raises(ValidationError) as caught:
        honour_revoke(honour=honour, actor=people["secretary_a1"], reason="错误")
    assert caught.value.messages == ["该荣誉已被撤销。"]
    assert LogEntry.objects.get_for_object(honour).count() == 2


@pytest.mark.parametrize(
    ("recorder", "recipient", "revoker", "allowed"),
    [
        ("county_staff", "member", "secretary_a1", False),  # the branch does not undo the county's record
        ("county_staff", "member", "deputy_a1", False),
        ("county_staff", "member", "township_a_staff", True),  # staff above the branch
        ("township_a_staff", "member", "secretary_a1", False),
        ("secretary_a1", "member", "secretary_a1", True),  # their own typo
        ("secretary_a1", "member", "deputy_a1", True),  # the deputy acts for the secretary
        ("deputy_a1", "member", "secretary_a1", False),  # the deputy's record is not the secretary's
        ("county_staff", "township_a", "township_a_staff", False),  # staff of the honoured committee itself
        ("township_a_staff", "township_a", "township_a_staff", True),
        ("county_staff", "township_a", "county_staff", True),
        ("township_a_staff", "township_a", "county_staff", True),
    ],
)
def test_only_the_recorder_or_staff_above_revoke_an_honour(
    people, tree, titles, member, recorder, recipient, revoker, allowed
):
    """An honour makes a member a 推优 priority candidate: the people it favours do not undo or
    replace what someone above them recorded."""
    if recipient == "member":
        honour = award(people[recorder], titles, member=member)
    else:
        honour = award(people[recorder], titles, title="五四红旗团支部", organization=tree[recipient])
    if allowed:
        assert honour_revoke(honour=honour, actor=people[revoker], reason="录入错误").is_revoked
    else:
        with pytest.raises(PermissionDenied):
            honour_revoke(honour=honour, actor=people[revoker], reason="录入错误")
        assert not Honour.objects.get(pk=honour.pk).is_revoked


# --- 推优 priority ------------------------------------------------------------------------------


def _term(unit, recorder, *, ended: bool = False) -> CommitteeTerm:
    return CommitteeTerm.objects.create(
        organization=unit,
        starts_on=date(THIS_YEAR - 2, 3, 1),
        length_years=3,
        ended_on=timezone.localdate() - timedelta(days=1) if ended else None,
        recorded_by=recorder,
    )


def _seat(term: CommitteeTerm, member: Member | None, *, until: date | None = None) -> CommitteeSeat:
    cadre = Cadre.objects.create(
        organization=term.organization,
        member=member,
        name=member.name if member else "外聘委员",
        sex="M",
        birth_date=date(2000, 1, 1),
        education="bachelor",
        employment="part_time",
        establishment="outside",
    )
    return CommitteeSeat.objects.create(term=term, cadre=cadre, post="committee", since=term.starts_on, until=until)


@pytest.fixture
def roster(tree, people, titles):
    """Members in every situation the priority looks at, by name."""
    branch = tree["branch_a1"]
    names = ["honoured", "honoured_long_ago", "revoked", "cadre", "former_cadre", "cadre_of_old_term", "plain"]
    m = {name: make_member(branch, name=name) for name in names}
    recorder = people["secretary_a1"]
    award(recorder, titles, member=m["honoured"])
    award(recorder, titles, member=m["honoured_long_ago"], year=2015)
    honour_revoke(honour=award(recorder, titles, member=m["revoked"]), actor=recorder, reason="错误")
    current = _term(branch, recorder)
    _seat(current, m["cadre"])
    _seat(current, m["former_cadre"], until=timezone.localdate() - timedelta(days=30))
    _seat(current, None)  # a cadre who is not a member marks nobody
    _seat(_term(tree["branch_ag1"], recorder, ended=True), m["cadre_of_old_term"])
    return m


def test_honoured_members_and_serving_cadres_are_priority_candidates_in_one_query(roster, django_assert_num_queries):
    with django_assert_num_queries(1):
        ids = priority_member_ids(Member.objects.all())
    assert ids == {roster["honoured"].pk, roster["honoured_long_ago"].pk, roster["cadre"].pk}


def test_priority_takes_member_ids_and_a_first_year(roster, django_assert_num_queries):
    everyone = [member.pk for member in roster.values()]
    with django_assert_num_queries(1):
        ids = priority_member_ids(everyone, since_year=THIS_YEAR - 3)
    assert ids == {roster["honoured"].pk, roster["cadre"].pk}
    assert priority_member_ids([]) == set()


def test_with_priority_tells_why(roster):
    marked = {m.name: (m.is_honoured, m.is_cadre) for m in with_priority(Member.objects.all())}
    assert marked["honoured"] == (True, False)
    assert marked["cadre"] == (False, True)
    assert marked["former_cadre"] == marked["cadre_of_old_term"] == marked["revoked"] == (False, False)
    # On a day before the seat ended, the former cadre still held it.
    earlier = with_priority(
        Member.objects.filter(pk=roster["former_cadre"].pk), on=timezone.localdate() - timedelta(60)
    )
    assert earlier.get().is_cadre
