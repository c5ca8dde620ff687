"""The member list: search, filters, the count, and a bounded number of queries at county size."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from members import lifecycle, selectors
from members.models import Evaluation, EvaluationGrade, Member, Registration, add_years
from tests.conftest import add, make_member


def names(response) -> set[str]:
    return {m.name for m in response.context["page"].object_list}


@pytest.fixture
def roster(tree, people):
    today = timezone.localdate()
    recorder = people["county_staff"]
    members = {
        "young": make_member(
            tree["branch_a1"], "青年甲", birth_date=add_years(today, -17), joined_on=add_years(today, -2)
        ),
        "older": make_member(tree["branch_a1"], "青年乙", birth_date=add_years(today, -26), sex="F"),
        "school": make_member(
            tree["branch_ag1"],
            "学生丙",
            birth_date=add_years(today, -15),
            joined_on=today.replace(day=1) if today.day > 1 else today,
        ),
        "other_township": make_member(tree["branch_b1"], "乙镇丁"),
        "left": make_member(tree["branch_a1"], "离团戊", status="withdrawn", left_on=date(2024, 1, 1)),
    }
    Registration.objects.create(member=members["older"], year=today.year, recorded_by=recorder)
    Evaluation.objects.create(member=members["older"], year=today.year - 1, grade="excellent", recorded_by=recorder)
    Evaluation.objects.create(member=members["young"], year=today.year - 2, grade="excellent", recorded_by=recorder)
    Evaluation.objects.create(member=members["young"], year=today.year - 1, grade="basic", recorded_by=recorder)
    return members


def test_the_list_shows_active_members_in_scope(client, tree, people, login, roster):
    response = login(people["township_a_staff"]).get(reverse("members:list"))
    assert names(response) == {"青年甲", "青年乙", "学生丙"}
    assert response.context["page"].paginator.count == 3
    response = login(people["secretary_a1"]).get(reverse("members:list"))
    assert names(response) == {"青年甲", "青年乙"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "青年"}, {"青年甲", "青年乙"}),
        ({"sex": "F"}, {"青年乙"}),
        ({"age": "under18"}, {"青年甲", "学生丙"}),
        ({"age": "25-28"}, {"青年乙"}),
        ({"status": "withdrawn"}, {"离团戊"}),
        ({"status": "all"}, {"青年甲", "青年乙", "学生丙", "乙镇丁", "离团戊"}),
        ({"registered": "yes"}, {"青年乙"}),
        ({"registered": "no"}, {"青年甲", "学生丙", "乙镇丁"}),
        ({"grade": "basic"}, {"青年甲"}),
        ({"grade": "excellent"}, {"青年乙"}),
        ({"sector": "school"}, {"学生丙"}),
    ],
)
def test_filters(client, tree, people, login, roster, params, expected):
    response = login(people["county_staff"]).get(reverse("members:list"), params)
    assert names(response) == expected


def test_the_grade_filter_takes_each_members_latest_evaluation(client, tree, people, login):
    """An older grade never counts, another member's later evaluation never hides one's own, and a member never
    evaluated has no grade (one evaluation a year at most, so "latest" is never a tie)."""
    recorder = people["county_staff"]
    this_year = timezone.localdate().year

    def evaluated(name: str, *grades_by_years_ago: tuple[int, str]) -> None:
        member = make_member(tree["branch_a1"], name)
        for years_ago, grade in grades_by_years_ago:
            Evaluation.objects.create(member=member, year=this_year - years_ago, grade=grade, recorded_by=recorder)

    evaluated("进步甲", (3, "basic"), (1, "qualified"))
    evaluated("退步乙", (2, "qualified"), (1, "basic"))
    evaluated("久评丙", (5, "basic"))
    evaluated("未评丁")
    login(people["county_staff"])
    grades = {grade: names(client.get(reverse("members:list"), {"grade": grade})) for grade in EvaluationGrade}
    assert grades == {"basic": {"退步乙", "久评丙"}, "qualified": {"进步甲"}, "excellent": set(), "unqualified": set()}


def test_search_by_id_tail_and_whole_id(client, tree, people, login, roster):
    login(people["county_staff"])
    member = roster["older"]
    assert names(client.get(reverse("members:list"), {"q": member.id_number[-4:]})) >= {"青年乙"}
    assert names(client.get(reverse("members:list"), {"q": member.id_number})) == {"青年乙"}


def test_filter_by_unit_takes_its_subtree(client, tree, people, login, roster):
    response = login(people["county_staff"]).get(reverse("members:list"), {"unit": tree["township_a"].pk})
    assert names(response) == {"青年甲", "青年乙", "学生丙"}


def unit_select(response) -> str:
    """The HTML of the unit filter's <select>."""
    html = response.content.decode()
    start = html.index('<select name="unit"')
    return html[start : html.index("</select>", start)]


def test_the_unit_filter_renders_only_the_chosen_unit(client, tree, people, login, roster):
    """Never every unit in scope (thousands in a city): the others are searched as the user types."""
    login(people["county_staff"])
    select = unit_select(client.get(reverse("members:list")))
    assert select.count("<option") == 1 and 'value=""' in select
    assert reverse("branches:unit-choices") in select and 'data-unit-for="records"' in select
    select = unit_select(client.get(reverse("members:list"), {"unit": tree["branch_ag1"].pk}))
    assert select.count("<option") == 2
    assert f'value="{tree["branch_ag1"].pk}" selected' in select
    assert "甲镇中学九年级团支部" in select and "甲镇中学团总支" in select  # the unit and its parent
    assert "乙一村团支部" not in select


def test_the_unit_filter_brings_its_script_and_style_once_from_its_media(client, tree, people, login):
    html = login(people["county_staff"]).get(reverse("members:list")).content.decode()
    head = html[: html.index("</head>")]
    for asset in [
        "tom-select.bootstrap5.min.css",
        "css/unit-search.css",
        "tom-select.complete.min.js",
        "unit-search.js",
    ]:
        assert html.count(asset) == 1 and asset in head
    assert ".ts-wrapper" not in html  # the picker's rules live in static/css/unit-search.css only


def test_a_unit_out_of_scope_is_refused_and_never_widens_the_list(client, tree, people, login, roster):
    login(people["township_a_staff"])
    response = client.get(reverse("members:list"), {"unit": tree["branch_b1"].pk})
    assert "unit" in response.context["filters"].form.errors
    assert names(response) == {"青年甲", "青年乙", "学生丙"}  # township A's members, nobody of B1
    assert "乙一村团支部" not in unit_select(response)


def unit_choices(client, q: str = "") -> list[dict]:
    response = client.get(reverse("branches:unit-choices"), {"for": "records", "q": q})
    assert response.status_code == 200
    return response.json()["results"]


def test_unit_choices_match_the_name_in_scope_in_tree_order(client, tree, people, login):
    login(people["county_staff"])
    found = unit_choices(client, "团支部")
    assert [c["name"] for c in found] == ["甲一村团支部", "甲镇中学九年级团支部", "乙一村团支部"]
    assert found[1]["value"] == str(tree["branch_ag1"].pk)
    assert "甲镇中学九年级团支部" in found[1]["text"] and "甲镇中学团总支" in found[1]["text"]
    assert unit_choices(client, "团总支")[0]["name"] == "甲镇中学团总支"
    assert unit_choices(client, "没有这个") == []
    # Nothing typed: the top of the tree first.
    assert [c["name"] for c in unit_choices(client)][:3] == [
        "共青团测试县委员会",
        "共青团甲镇委员会",
        "共青团乙镇委员会",
    ]
    assert unit_choices(client)[0]["text"] == "共青团测试县委员会"  # no parent to show
    login(people["township_a_staff"])
    assert [c["name"] for c in unit_choices(client, "团支部")] == ["甲一村团支部", "甲镇中学九年级团支部"]
    assert unit_choices(client, "乙") == []


def test_unit_choices_leave_out_dissolved_units_and_stop_at_twenty(client, tree, people, login):
    tree["branch_b1"].dissolved_on = date(2024, 1, 1)
    tree["branch_b1"].save()
    for i in range(25):
        add(tree["township_b"], name=f"乙{i:02d}村团支部", code=f"C-B-{i + 10}", kind="branch", sector="village")
    login(people["county_staff"])
    found = unit_choices(client, "乙")
    assert len(found) == 20 and "乙一村团支部" not in {c["name"] for c in found}


def test_unit_choices_need_a_bounded_number_of_queries(client, tree, people, login, django_assert_max_num_queries):
    for i in range(30):
        add(tree["township_b"], name=f"乙{i:02d}村团支部", code=f"C-B-{i + 10}", kind="branch", sector="village")
    login(people["county_staff"])
    unit_choices(client)  # the session's first renewal (a write) out of the count
    # The session, the user, their roles, and one query for the units.
    with django_assert_max_num_queries(4):
        assert len(unit_choices(client, "团支部")) == 20


def test_an_invalid_filter_is_dropped_with_a_message_and_never_widens_the_list(client, tree, people, login, roster):
    login(people["county_staff"])
    response = client.get(reverse("members:list"), {"unit": 999999, "sex": "F"})
    assert "unit" in response.context["filters"].form.errors
    assert names(response) == {"青年乙"}  # the valid filter still applies
    for params in [{"age": "zzz"}, {"page": "abc"}, {"order": "nonsense"}, {"grade": "x", "sex": "M"}]:
        assert client.get(reverse("members:list"), params).status_code == 200
    response = client.get(reverse("members:export"), {"unit": 999999, "sex": "F"})
    assert response.status_code in (200, 403)


def test_sorting(client, tree, people, login, roster):
    response = login(people["county_staff"]).get(reverse("members:list"), {"order": "-birth_date"})
    assert response.context["page"].object_list[0].name == "学生丙"


def test_the_list_needs_a_bounded_number_of_queries_at_county_size(
    client, tree, people, login, django_assert_max_num_queries
):
    """10,000 members: the number of queries does not depend on the page or the data."""
    template = make_member(tree["branch_a1"], "模板")
    clones = []
    for i in range(10_000):
        clone = Member(
            branch=tree["branch_a1"] if i % 2 else tree["branch_b1"],
            name=f"团员{i:05d}",
            sex=template.sex,
            birth_date=template.birth_date,
            education=template.education,
            occupation=template.occupation,
            joined_on=template.joined_on,
            status="withdrawn",  # one active record per person: the clones share the template's number
            id_number_encrypted=template.id_number_encrypted,
            id_number_hash=template.id_number_hash,
            id_number_masked=template.id_number_masked,
            id_number_tail=template.id_number_tail,
        )
        clones.append(clone)
    Member.objects.bulk_create(clones, batch_size=2000)
    login(people["county_staff"])
    client.get(reverse("members:list"))  # the session's first renewal (a write) out of the count
    # At most: the session, the user, their roles, the unit filtered on, the newest change, the count,
    # the page's rows, whether they may add a member, the unread notifications; viewed again, the count
    # kept since (members.selectors.kept_count).
    for params in [
        {},
        {"status": "all"},
        {"status": "all", "page": 150},
        {"status": "all", "unit": tree["township_a"].pk, "page": 2},
        {"status": "all", "grade": "basic", "registered": "no", "age": "18-22", "q": "团员0"},
    ]:
        with django_assert_max_num_queries(9):
            response = client.get(reverse("members:list"), params)
        assert response.status_code == 200
        with django_assert_max_num_queries(8) as again:
            assert client.get(reverse("members:list"), params).status_code == 200
        assert not any(
            "COUNT(" in sql and "members_member" in sql for sql in (q["sql"] for q in again.captured_queries)
        )
    assert response.context["page"].paginator.count == 0
    response = client.get(reverse("members:list"), {"status": "all"})
    assert response.context["page"].paginator.count == 10_001


def test_the_count_kept_follows_every_audited_change_and_survives_a_cache_outage(
    client, tree, people, login, roster, monkeypatch
):
    login(people["county_staff"])
    url = reverse("members:list")

    def count(params=None) -> int:
        return client.get(url, params or {}).context["page"].paginator.count

    before, girls = count(), count({"sex": "F"})
    member = make_member(tree["branch_a1"], "新来的")  # through the service: audited
    assert (count(), count({"sex": "F"})) == (before + 1, girls + (member.sex == "F"))
    lifecycle.member_leave(
        actor=people["county_staff"], member=member, status="withdrawn", on_date=timezone.localdate(), reason="退团"
    )
    assert count() == before

    class Away:
        def get(self, *args, **kwargs):
            raise ConnectionError("the cache server is away")

        set = get

    monkeypatch.setattr(selectors, "cache", Away())
    assert count() == before


def test_a_whole_id_number_never_lands_in_a_url(client, tree, people, login, roster):
    login(people["county_staff"])
    number = roster["older"].id_number
    response = client.post(reverse("members:list"), {"q": f" {number} ", "sex": "F"})
    assert response.status_code == 302
    assert number not in response["Location"] and "idh=" in response["Location"]
    page = client.get(response["Location"])
    assert names(page) == {"青年乙"}
    assert number not in page.content.decode()  # nor in pagination or export links


@pytest.mark.parametrize("order", [("name",), ("-birth_date", "name"), ("branch__path", "-joined_on")])
def test_every_page_holds_the_members_a_plain_slice_would(tree, order):
    """Pages in the second half are read from the end in the reversed order: the same members, in
    the same order, as counting from the start, for any sort (ties and all)."""
    from members.selectors import MemberListPaginator

    for n, branch in enumerate(["branch_a1", "branch_b1", "branch_a1", "branch_ag1"] * 3):
        make_member(
            tree[branch], f"团员{n % 5}", birth_date=date(2000 + n % 4, 1, 1), joined_on=date(2015, 1, 1 + n % 3)
        )
    ordered = list(Member.objects.order_by(*order, "pk").values_list("pk", flat=True))
    paginator = MemberListPaginator(Member.objects.order_by(*order), 5)
    pages = [[row.pk for row in paginator.page(number).object_list] for number in paginator.page_range]
    assert pages == [ordered[0:5], ordered[5:10], ordered[10:12]]
