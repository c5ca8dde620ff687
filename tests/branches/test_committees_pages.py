"""The committee pages: who may open what (404 out of scope, 403 in scope but not allowed), recording
an election and changes through the forms, the county-wide lists with their filters, and query
counts that do not grow with the data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import Cadre, CommitteeSeat, CommitteeTerm, Organization, OrganizationKind, Role, Sector, add_years
from tests.branches.test_committees import make_cadre, make_term
from tests.conftest import add, make_member, make_user

TODAY = timezone.localdate()

PERSONAS = [
    "county_staff",
    "township_a_staff",
    "township_b_staff",
    "secretary_a1",
    "deputy_a1",
    "secretary_b1",
    "party_a",
    "system_admin",
    "security_admin",
    "audit_admin",
    "nobody",
]


def expect(default: int, **overrides: int) -> dict[str, int]:
    return {persona: overrides.get(persona, default) for persona in PERSONAS}


BRANCH_A1_PEOPLE = dict(county_staff=200, township_a_staff=200, secretary_a1=200, deputy_a1=200)
STAFF = dict(county_staff=200, township_a_staff=200, township_b_staff=200)

# (url name, what it is about, expected status per persona)
MATRIX = [
    ("branches:committee", "branch_a1", expect(404, **BRANCH_A1_PEOPLE)),
    # party_a may open township A's unit page, but not its people's records
    ("branches:committee", "township_a", expect(404, county_staff=200, township_a_staff=200)),
    ("branches:committee-election", "branch_a1", expect(404, **BRANCH_A1_PEOPLE)),
    ("branches:committee-election", "township_a", expect(404, county_staff=200, township_a_staff=200)),
    ("branches:committee-seat-add", "branch_a1", expect(404, **BRANCH_A1_PEOPLE)),
    ("branches:committee-seat-end", "seat", expect(404, **BRANCH_A1_PEOPLE)),
    ("branches:cadre", "cadre", expect(404, **BRANCH_A1_PEOPLE)),
    ("branches:cadre-edit", "cadre", expect(404, **BRANCH_A1_PEOPLE)),
    # The branch's secretary corrects a term recorded in the last 30 days; a township's own staff
    # do not correct their own committee's term: the county does.
    ("branches:committee-term-correct", "term", expect(404, **BRANCH_A1_PEOPLE)),
    ("branches:committee-term-correct", "township_term", expect(404, county_staff=200, township_a_staff=403)),
    ("branches:committee-terms", None, expect(403, **STAFF)),
    ("branches:cadres", None, expect(403, **STAFF)),
    ("branches:cadre-statistics", None, expect(403, **STAFF)),
]


@pytest.fixture
def committee(tree, people):
    unit = tree["branch_a1"]
    cadre = make_cadre(unit, "书记甲", birth_date=add_years(TODAY, -30))
    term = make_term(unit, TODAY - timedelta(days=400), [(cadre, "secretary")])
    township_term = make_term(
        tree["township_a"], TODAY - timedelta(days=30), [(make_cadre(tree["township_a"], "镇书记"), "secretary")]
    )
    return {"unit": unit, "term": term, "cadre": cadre, "seat": term.seats.get(), "township_term": township_term}


def _url(name, target, tree, committee):
    if target is None:
        return reverse(name)
    obj = committee[target] if target in committee else tree[target]
    return reverse(name, kwargs={"pk": obj.pk})


@pytest.mark.parametrize(("name", "target", "table"), MATRIX)
def test_scope_matrix(client, tree, people, login, committee, name, target, table):
    """Every persona on one page per test (the personas are built once for all of them)."""
    url = _url(name, target, tree, committee)
    seen = {persona: login(people[persona]).get(url).status_code for persona in table}
    assert seen == table


@pytest.mark.parametrize(("name", "target", "_table"), MATRIX)
def test_anonymous_visitors_are_sent_to_sign_in(client, tree, people, committee, name, target, _table):
    response = client.get(_url(name, target, tree, committee))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_who_sees_a_committee_but_may_not_change_it_gets_403(client, tree, people, login):
    """A general branch's secretary sees the branches under it, but their elections are theirs."""
    secretary = make_user("secretary_ag", Role.BRANCH_SECRETARY, organization=tree["general_ag"])
    unit = tree["branch_ag1"]
    cadre = make_cadre(unit)
    seat = make_term(unit, TODAY, [(cadre, "secretary")]).seats.get()
    login(secretary)
    assert client.get(reverse("branches:committee", kwargs={"pk": unit.pk})).status_code == 200
    assert client.get(reverse("branches:cadre", kwargs={"pk": cadre.pk})).status_code == 200
    for name, pk in [
        ("branches:committee-election", unit.pk),
        ("branches:committee-seat-add", unit.pk),
        ("branches:committee-seat-end", seat.pk),
        ("branches:cadre-edit", cadre.pk),
        ("branches:committee-term-correct", seat.term_id),
    ]:
        assert client.get(reverse(name, kwargs={"pk": pk})).status_code == 403
        assert client.post(reverse(name, kwargs={"pk": pk}), {}).status_code == 403
    assert client.get(reverse("branches:committee-terms")).status_code == 403  # a secretary: staff-only lists


def test_township_b_staff_cannot_post_to_township_a_s_committees(client, tree, people, login, committee):
    login(people["township_b_staff"])
    response = client.post(
        reverse("branches:committee-seat-end", kwargs={"pk": committee["seat"].pk}),
        {"until": TODAY.isoformat(), "confirm": "on"},
    )
    assert response.status_code == 404
    committee["seat"].refresh_from_db()
    assert committee["seat"].until is None


# --- the committee page -----------------------------------------------------------------------------


def test_the_committee_page_shows_the_term_its_people_warnings_and_history(client, tree, people, login, committee):
    for i in range(7):
        make_member(committee["unit"], f"团员{i}")
    CommitteeTerm.objects.filter(pk=committee["term"].pk).update(ended_on=TODAY - timedelta(days=320))
    CommitteeSeat.objects.filter(term=committee["term"]).update(until=TODAY - timedelta(days=320))
    make_term(committee["unit"], TODAY - timedelta(days=320), [(committee["cadre"], "secretary")], length_years=1)
    response = login(people["secretary_a1"]).get(reverse("branches:committee", kwargs={"pk": committee["unit"].pk}))
    page = response.content.decode()
    assert "书记甲" in page and "即将换届" in page  # a one-year term from 320 days ago ends within 60 days
    assert "应选举 3 至 5 人组成支部委员会" in page  # 7 members, a secretary alone
    assert "往届" in page and len(response.context["past"]) == 1
    assert "录入换届选举" in page and response.context["history"] is not None


def test_the_unit_page_shows_the_committee_to_those_who_keep_its_records(client, tree, people, login, committee):
    url = reverse("branches:unit", kwargs={"pk": tree["township_a"].pk})
    page = login(people["township_a_staff"]).get(url).content.decode()
    assert "镇书记" in page and reverse("branches:committee", kwargs={"pk": tree["township_a"].pk}) in page
    page = login(people["party_a"]).get(url).content.decode()
    assert "镇书记" not in page  # the Party organizer sees the unit, not its people
    page = login(people["secretary_b1"]).get(reverse("branches:unit", kwargs={"pk": tree["branch_b1"].pk})).content
    assert "该组织尚未录入换届选举" in page.decode()


def test_the_navigation_offers_the_lists_to_staff_only(client, tree, people, login):
    assert "委员会与团干部" in login(people["township_a_staff"]).get(reverse("home")).content.decode()
    assert "委员会与团干部" not in login(people["secretary_a1"]).get(reverse("home")).content.decode()


# --- recording an election through the form ----------------------------------------------------------


def _management(total: int, initial: int) -> dict[str, str]:
    return {
        "seats-TOTAL_FORMS": str(total),
        "seats-INITIAL_FORMS": str(initial),
        "seats-MIN_NUM_FORMS": "0",
        "seats-MAX_NUM_FORMS": "30",
    }


def test_an_election_is_recorded_from_the_form(client, tree, people, login, committee):
    unit = committee["unit"]
    leaving = make_cadre(unit, "离任委员")
    CommitteeSeat.objects.create(
        term=committee["term"], cadre=leaving, post="organization", since=committee["term"].starts_on
    )
    member = make_member(unit, "团员丙", sex="F", birth_date=date(2002, 2, 2))
    url = reverse("branches:committee-election", kwargs={"pk": unit.pk})
    login(people["secretary_a1"])
    form = client.get(url).context["formset"]
    assert [f.initial["cadre"] for f in form.forms[: form.initial_form_count()]] == [committee["cadre"].pk, leaving.pk]
    data = {
        "elected_on": TODAY.isoformat(),
        "length_years": "",
        "note": "应到 12 人，实到 11 人",
        **_management(4, 2),
        "seats-0-post": "secretary",
        "seats-0-cadre": str(committee["cadre"].pk),
        "seats-1-post": "organization",
        "seats-1-cadre": str(leaving.pk),
        "seats-1-DELETE": "on",  # not re-elected
        "seats-2-post": "deputy",
        "seats-2-member": str(member.pk),
        "seats-2-employment": "part_time",
        "seats-2-establishment": "outside",
        "seats-3-post": "publicity",
        "seats-3-name": "新委员",
        "seats-3-sex": "M",
        "seats-3-birth_date": "1999-09-09",
        "seats-3-education": "college",
        "seats-3-employment": "part_time",
        "seats-3-establishment": "outside",
        "seats-3-phone": "13912345678",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    term = CommitteeTerm.objects.current().get(organization=unit)
    assert term.starts_on == TODAY and term.length_years == 3 and term.note == "应到 12 人，实到 11 人"
    assert sorted(term.seats.values_list("cadre__name", "post")) == [
        ("书记甲", "secretary"),
        ("团员丙", "deputy"),
        ("新委员", "publicity"),
    ]
    assert term.seats.get(post="deputy").cadre.member == member


def test_a_wrong_election_form_says_why_and_saves_nothing(client, tree, people, login, committee):
    url = reverse("branches:committee-election", kwargs={"pk": committee["unit"].pk})
    login(people["township_a_staff"])
    before = (CommitteeTerm.objects.count(), CommitteeSeat.objects.count(), Cadre.objects.count())
    response = client.post(
        url,
        {
            "elected_on": (TODAY + timedelta(days=2)).isoformat(),
            **_management(2, 1),
            "seats-0-post": "secretary",
            "seats-0-cadre": str(committee["cadre"].pk),
            "seats-1-post": "deputy",
            "seats-1-sex": "F",  # no name, no member
        },
    )
    assert response.status_code == 200
    assert response.context["formset"].forms[1].errors["name"] == ["请填写此项，或选择此人的团员档案。"]
    response = client.post(
        url,
        {
            "elected_on": (TODAY + timedelta(days=2)).isoformat(),
            **_management(1, 1),
            "seats-0-post": "secretary",
            "seats-0-cadre": str(committee["cadre"].pk),
        },
    )
    assert response.context["form"].errors["elected_on"] == ["选举日期不能晚于今天。"]
    assert "选举日期不能晚于今天。" in response.content.decode()
    response = client.post(
        url,
        {
            "elected_on": TODAY.isoformat(),
            **_management(1, 1),
            "seats-0-post": "secretary",
            "seats-0-cadre": str(committee["cadre"].pk),
            "seats-0-DELETE": "on",  # nobody elected
        },
    )
    assert "请至少录入一名当选的委员会成员。" in response.content.decode()
    assert (CommitteeTerm.objects.count(), CommitteeSeat.objects.count(), Cadre.objects.count()) == before


def test_someone_is_added_and_someone_leaves_through_the_forms(client, tree, people, login, committee):
    unit = committee["unit"]
    login(people["deputy_a1"])
    add_url = reverse("branches:committee-seat-add", kwargs={"pk": unit.pk})
    assert committee["cadre"] not in client.get(add_url).context["form"].fields["cadre"].queryset  # already seated
    response = client.post(
        add_url,
        {
            "post": "deputy",
            "since": TODAY.isoformat(),
            "name": "增补",
            "sex": "F",
            "birth_date": "2000-01-01",
            "education": "bachelor",
            "employment": "part_time",
            "establishment": "outside",
            "note": "支委会增补",
        },
    )
    assert response.status_code == 302
    seat = CommitteeSeat.objects.get(cadre__name="增补")
    end_url = reverse("branches:committee-seat-end", kwargs={"pk": seat.pk})
    response = client.post(end_url, {"until": TODAY.isoformat(), "note": "辞职"})  # not confirmed
    assert response.status_code == 200 and "confirm" in response.context["form"].errors
    seat.refresh_from_db()
    assert seat.until is None
    assert client.post(end_url, {"until": TODAY.isoformat(), "note": "辞职", "confirm": "on"}).status_code == 302
    seat.refresh_from_db()
    assert seat.until == TODAY
    assert client.get(end_url).status_code == 302  # already ended: back to the committee, with a message


def test_adding_someone_needs_a_term(client, tree, people, login):
    response = login(people["secretary_b1"]).get(
        reverse("branches:committee-seat-add", kwargs={"pk": tree["branch_b1"].pk})
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("branches:committee-election", kwargs={"pk": tree["branch_b1"].pk})


def test_a_cadre_is_edited_through_the_form(client, tree, people, login, committee):
    url = reverse("branches:cadre-edit", kwargs={"pk": committee["cadre"].pk})
    login(people["township_a_staff"])
    response = client.post(
        url,
        {
            "name": "书记甲",
            "sex": "M",
            "birth_date": committee["cadre"].birth_date.isoformat(),
            "education": "master",
            "employment": "full_time",
            "establishment": "inside",
            "phone": "12",
            "age_exception": "",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["phone"]
    data = {
        "sex": "M",
        "birth_date": committee["cadre"].birth_date.isoformat(),
        "education": "master",
        "employment": "full_time",
        "establishment": "inside",
        "name": "书记甲",
        "age_exception": "县委组织部批准（2026）",
    }
    assert client.post(url, data).status_code == 302
    committee["cadre"].refresh_from_db()
    assert committee["cadre"].age_exception == "县委组织部批准（2026）"
    page = client.get(reverse("branches:cadre", kwargs={"pk": committee["cadre"].pk})).content.decode()
    assert "县委组织部批准（2026）" in page and "甲一村团支部" in page


# --- the county-wide lists ------------------------------------------------------------------------------


def _branches(tree, count: int) -> list[Organization]:
    """`count` more village branches under township A, each with a term, half of them overdue."""
    units = []
    first = Organization.objects.filter(code__startswith="C-A-N").count()
    for i in range(first, first + count):
        unit = add(
            tree["township_a"],
            name=f"新村{i}团支部",
            code=f"C-A-N{i}",
            kind=OrganizationKind.BRANCH,
            sector=Sector.VILLAGE,
        )
        started = TODAY - timedelta(days=365 * 3 + 10) if i % 2 else TODAY - timedelta(days=30)
        make_term(
            unit, started, [(make_cadre(unit, f"书记{i}"), "secretary"), (make_cadre(unit, f"委员{i}"), "committee")]
        )
        units.append(unit)
    return units


def _queries(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url_name", ["branches:committee-terms", "branches:cadres", "branches:cadre-statistics"])
def test_the_lists_take_as_many_queries_for_many_committees_as_for_few(
    client, tree, people, login, committee, url_name
):
    login(people["county_staff"])
    url = reverse(url_name)
    _branches(tree, 2)
    client.get(url)  # the session's first renewal (a write) out of the count
    few = _queries(client, url)
    _branches(tree, 24)
    assert _queries(client, url) == few
    assert few <= 16


def test_the_terms_list_filters_and_sorts(client, tree, people, login, committee):
    units = _branches(tree, 4)
    login(people["township_a_staff"])
    url = reverse("branches:committee-terms")
    rows = client.get(url).context["rows"]
    assert {r.unit.code for r in rows} == {"C-A", "C-A-1", "C-A-G", "C-A-G-1", *[u.code for u in units]}
    overdue = client.get(url, {"status": "overdue"}).context["rows"]
    assert {r.unit.code for r in overdue} == {units[1].code, units[3].code}
    none = client.get(url, {"status": "none"}).context["rows"]
    assert {r.unit.code for r in none} == {"C-A-G", "C-A-G-1"}
    assert all(r.status == "none" and r.term is None for r in none)
    sorted_rows = client.get(url).context["rows"]  # by due date: never recorded, then overdue, first
    dues = [r.term.due_on for r in sorted_rows if r.term]
    assert [r.term for r in sorted_rows[:2]] == [None, None] and dues == sorted(dues)
    assert [r.status for r in sorted_rows[2:4]] == ["overdue", "overdue"]
    latest = client.get(url, {"sort": "-due"}).context["rows"]
    assert [r.term.due_on for r in latest if r.term] == sorted(dues, reverse=True) and latest[-1].term is None
    assert [r.unit.code for r in client.get(url, {"sort": "tree"}).context["rows"]][:2] == ["C-A", "C-A-1"]
    links = {
        status: count for status, _label, count, _query in client.get(url, {"kind": "branch"}).context["status_links"]
    }
    assert links == {"overdue": 2, "soon": 0, "ok": 3, "none": 1}  # of the branches: A1, AG1 and the four new
    school = client.get(url, {"sector": "school", "kind": "branch"}).context["rows"]
    assert [r.unit.code for r in school] == ["C-A-G-1"]
    township_rows = client.get(url, {"township": tree["township_a"].pk}).context["rows"]
    assert len(township_rows) == len(rows)
    bad = client.get(url, {"township": tree["township_b"].pk, "status": "nonsense"})  # out of scope, a typo
    assert len(bad.context["rows"]) == len(rows) and bad.context["form"].errors
    page = client.get(url).content.decode()
    assert "换届逾期" in page and "书记0" in page


def test_the_terms_list_shows_each_committee_s_warnings(client, tree, people, login, committee):
    make_term(tree["general_ag"], TODAY, [(make_cadre(tree["general_ag"], "总支书记"), "secretary")])
    row = next(
        r
        for r in login(people["county_staff"]).get(reverse("branches:committee-terms")).context["rows"]
        if r.unit == tree["general_ag"]
    )
    assert row.secretary == "总支书记"
    assert row.warnings == ["团总支委员会应由 5 至 7 人组成，现有 1 人。"]


def test_the_cadre_list_searches_and_filters(client, tree, people, login, committee):
    unit = committee["unit"]
    old = make_cadre(unit, "超龄委员", birth_date=add_years(TODAY, -38), employment="full_time", establishment="inside")
    CommitteeSeat.objects.create(term=committee["term"], cadre=old, post="committee", since=TODAY)
    former = make_cadre(unit, "前任委员")
    login(people["county_staff"])
    url = reverse("branches:cadres")

    def names(**params) -> set[str]:
        return {c.name for c, *_ in client.get(url, params).context["rows"]}

    assert names() == {"书记甲", "超龄委员", "镇书记"}
    assert names(former="on") == {"书记甲", "超龄委员", "镇书记", former.name}
    assert names(q="超龄") == {"超龄委员"}
    assert names(post="secretary") == {"书记甲", "镇书记"}
    assert names(employment="full_time", establishment="inside") == {"超龄委员"}
    assert names(over_age="on") == {"超龄委员"}
    assert names(post="chairman") == {"书记甲", "超龄委员", "镇书记"}  # a wrong filter is dropped
    page = client.get(url).content.decode()
    assert "团干部一般不超过 35 岁" in page
    assert not login(people["township_b_staff"]).get(url).context["rows"]  # township A's cadres are not theirs


def test_the_statistics_page_counts_the_scope(client, tree, people, login, committee):
    login(people["county_staff"])
    url = reverse("branches:cadre-statistics")
    stats = client.get(url).context["statistics"]
    assert stats.count == 2 and stats.over_age == 0
    assert client.get(url, {"unit": tree["township_a"].pk}).context["statistics"].count == 2
    before = (TODAY - timedelta(days=401)).isoformat()
    assert client.get(url, {"day": before}).context["statistics"].count == 0
    assert "没有在任人员" in client.get(url, {"day": before}).content.decode()
    assert login(people["township_b_staff"]).get(url).context["statistics"].count == 0


@pytest.mark.parametrize("url_name", ["branches:committee", "branches:committee-election"])
def test_a_committee_s_pages_take_as_many_queries_for_a_large_committee_as_for_a_small(
    client, tree, people, login, committee, url_name
):
    unit = tree["township_a"]
    url = reverse(url_name, kwargs={"pk": unit.pk})
    login(people["county_staff"])
    client.get(url)  # the session's first renewal (a write) out of the count
    small = _queries(client, url)
    term = CommitteeTerm.objects.current().get(organization=unit)
    for i in range(8):
        CommitteeSeat.objects.create(term=term, cadre=make_cadre(unit, f"委员{i}"), post="committee", since=TODAY)
    assert _queries(client, url) == small
