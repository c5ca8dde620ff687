"""The honours pages: who may open what, recording from the member's and the unit's pages, the
list's filters and query count, revoking with confirmation, the member's timeline, the admin and
the demo data."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from branches import honour_views
from branches.demo_honours import seed_honours
from branches.honour_services import honour_award, honour_revoke
from branches.models import Honour, HonourLevel, HonourTitle
from members.selectors import member_timeline
from tests.branches.test_scope_matrix import expect
from tests.branches.test_unit_search import picker
from tests.conftest import add, make_member

LAST_YEAR = timezone.localdate().year - 1
REFUSED_UNIT = "此处不能选择这个组织。请输入组织名称中的几个字，再从列表中选取。"
RECORD_ROLES = dict(
    county_staff=200, township_a_staff=200, township_b_staff=200, secretary_a1=200, deputy_a1=200, secretary_b1=200
)
IN_A1 = dict(county_staff=200, township_a_staff=200, secretary_a1=200, deputy_a1=200)


@pytest.fixture
def member(tree):
    return make_member(tree["branch_a1"], name="李明")


def award(actor, recipient_field, recipient, title="优秀共青团员", **fields):
    values = {"level": HonourLevel.COUNTY, "year": LAST_YEAR, "issuer": "共青团测试县委员会", **fields}
    return honour_award(
        actor=actor, title=HonourTitle.objects.get(name=title), **{recipient_field: recipient}, **values
    )


@pytest.fixture
def honours(tree, people, member):
    """One honour of a member of branch A1, one of township A, one of branch B1."""
    return {
        "member_a1": award(people["secretary_a1"], "member", member),
        "township_a": award(people["county_staff"], "organization", tree["township_a"], title="五四红旗团委"),
        "branch_b1": award(people["secretary_b1"], "organization", tree["branch_b1"], title="五四红旗团支部"),
    }


# (url name, the honour it is about or a query string for the create page, expected status per persona)
MATRIX = [
    ("branches:honours", None, expect(403, **RECORD_ROLES)),
    ("branches:honour-create", "", expect(403, **RECORD_ROLES)),
    ("branches:honour-create", "for=unit", expect(403, **RECORD_ROLES)),
    ("branches:honour-create", "member=A1", expect(404, **IN_A1)),
    ("branches:honour-create", "unit=branch_a1", expect(404, **IN_A1)),
    ("branches:honour-create", "unit=township_a", expect(404, county_staff=200, township_a_staff=200)),
    ("branches:honour", "member_a1", expect(404, **IN_A1)),
    ("branches:honour", "township_a", expect(404, county_staff=200, township_a_staff=200)),
    ("branches:honour", "branch_b1", expect(404, county_staff=200, township_b_staff=200, secretary_b1=200)),
    ("branches:honour-revoke", "member_a1", expect(404, **IN_A1)),
    # Township A's staff may not revoke what the county recorded of their own committee.
    ("branches:honour-revoke", "township_a", expect(404, county_staff=200, township_a_staff=403)),
]


def _url(name, target, tree, member, honours):
    if name == "branches:honour-create":
        if target and target.startswith("unit="):
            target = f"unit={tree[target.removeprefix('unit=')].pk}"
        return f"{reverse(name)}?{target.replace('=A1', f'={member.pk}')}"
    if target is None:
        return reverse(name)
    return reverse(name, kwargs={"pk": honours[target].pk})


@pytest.mark.parametrize(
    ("name", "target", "persona", "status"),
    [(name, target, persona, status) for name, target, table in MATRIX for persona, status in table.items()],
)
def test_honour_scope_matrix(client, tree, people, login, member, honours, name, target, persona, status):
    login(people[persona])
    assert client.get(_url(name, target, tree, member, honours)).status_code == status


@pytest.mark.parametrize(("name", "target", "_table"), MATRIX)
def test_anonymous_visitors_are_sent_to_sign_in(client, tree, member, honours, name, target, _table):
    response = client.get(_url(name, target, tree, member, honours))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_posting_is_scoped_too(client, tree, people, login, member, honours):
    revoke = reverse("branches:honour-revoke", kwargs={"pk": honours["member_a1"].pk})
    create = f"{reverse('branches:honour-create')}?member={member.pk}"
    for persona in ["secretary_b1", "township_b_staff", "party_a"]:
        login(people[persona])
        assert client.post(revoke, {"reason": "错误"}).status_code == 404
        assert client.post(create, _award_form()).status_code == 404
    assert not Honour.objects.get(pk=honours["member_a1"].pk).is_revoked
    assert Honour.objects.count() == 3


def test_a_secretary_may_not_revoke_what_the_county_recorded(client, tree, people, login, member):
    honour = award(people["county_staff"], "member", member)
    detail = reverse("branches:honour", kwargs={"pk": honour.pk})
    revoke = reverse("branches:honour-revoke", kwargs={"pk": honour.pk})
    for persona in ("secretary_a1", "deputy_a1"):
        login(people[persona])
        assert revoke not in client.get(detail).content.decode()
        assert client.get(revoke).status_code == 403
        assert client.post(revoke, {"reason": "不想要"}).status_code == 403
    assert not Honour.objects.get(pk=honour.pk).is_revoked
    login(people["township_a_staff"])
    assert revoke in client.get(detail).content.decode()
    assert client.post(revoke, {"reason": "录入错误"}).status_code == 302
    assert Honour.objects.get(pk=honour.pk).is_revoked


def _award_form(**fields):
    title = HonourTitle.objects.get(name=fields.pop("title", "优秀共青团员"))
    return {"title": title.pk, "level": "county", "year": LAST_YEAR, "issuer": "共青团测试县委员会", **fields}


# --- the member's and the unit's pages ------------------------------------------------------------


def test_the_member_page_lists_the_honours_and_links_to_record_one(client, tree, people, login, member, honours):
    response = login(people["deputy_a1"]).get(reverse("members:member", kwargs={"pk": member.pk}))
    section = response.content.decode().split('data-testid="honours"')[1]
    assert "优秀共青团员" in section and "共青团测试县委员会" in section
    assert f"{reverse('branches:honour-create')}?member={member.pk}" in section


def test_a_secretary_records_an_honour_from_the_member_page(client, tree, people, login, member):
    login(people["secretary_a1"])
    url = f"{reverse('branches:honour-create')}?member={member.pk}"
    page = client.get(url)
    assert "李明" in page.content.decode()
    assert "member" not in page.context["form"].fields  # the member is the page's
    # Only titles for people are offered.
    assert set(page.context["form"].fields["title"].queryset.values_list("name", flat=True)) >= {"优秀共青团员"}
    assert "五四红旗团支部" not in page.context["form"].fields["title"].queryset.values_list("name", flat=True)
    response = client.post(url, _award_form(note="全县表彰大会"))
    assert response.status_code == 302 and response["Location"] == reverse("members:member", kwargs={"pk": member.pk})
    honour = Honour.objects.get()
    assert (honour.member, honour.note, honour.recorded_by) == (member, "全县表彰大会", people["secretary_a1"])
    page = client.get(response["Location"])
    assert f"已为李明记录{honour.title}。" in page.content.decode()


def test_a_refused_honour_shows_why_and_records_nothing(client, tree, people, login, member, honours):
    login(people["secretary_a1"])
    url = f"{reverse('branches:honour-create')}?member={member.pk}"
    response = client.post(url, _award_form())  # the same honour as the fixture's
    assert response.status_code == 200
    assert f"李明已获得{LAST_YEAR}年度县级优秀共青团员。" in response.content.decode()
    response = client.post(url, _award_form(year=LAST_YEAR + 2))
    assert response.context["form"].errors == {"year": ["年度不能晚于今年。"]}
    assert Honour.objects.count() == 3


def test_the_unit_page_shows_its_honours_to_those_who_keep_its_records(client, tree, people, login, honours):
    url = reverse("branches:unit", kwargs={"pk": tree["township_a"].pk})
    page = login(people["township_a_staff"]).get(url).content.decode()
    section = page.split('data-testid="honours"')[1]
    assert "五四红旗团委" in section
    assert f"?unit={tree['township_a'].pk}" in section  # record one, and the list of those below
    # The Party organizer paired with township A opens its page, but sees no records of it.
    page = login(people["party_a"]).get(url)
    assert page.status_code == 200 and 'data-testid="honours"' not in page.content.decode()


def test_staff_record_an_honour_of_a_unit(client, tree, people, login):
    login(people["township_a_staff"])
    url = f"{reverse('branches:honour-create')}?unit={tree['branch_a1'].pk}"
    page = client.get(url)
    assert page.context["form"]["organization"].value() == tree["branch_a1"].pk
    response = client.post(url, _award_form(title="五四红旗团支部", organization=tree["branch_a1"].pk))
    assert response["Location"] == reverse("branches:unit", kwargs={"pk": tree["branch_a1"].pk})
    assert Honour.objects.get().organization == tree["branch_a1"]
    # A unit out of the user's scope is not offered.
    response = client.post(url, _award_form(title="五四红旗团支部", organization=tree["branch_b1"].pk))
    assert "organization" in response.context["form"].errors
    assert Honour.objects.count() == 1


def test_staff_find_the_member_by_branch_and_name(client, tree, people, login, member, monkeypatch):
    monkeypatch.setattr(honour_views, "MEMBER_CHOICES_LIMIT", 2)
    make_member(tree["branch_a1"], name="王芳")
    make_member(tree["branch_ag1"], name="王强")
    login(people["county_staff"])
    url = reverse("branches:honour-create")
    page = client.get(url)
    assert "member" not in page.context["form"].fields and page.context["match_count"] == 3
    assert 'data-testid="narrow-search"' in page.content.decode()
    page = client.get(url, {"branch": tree["branch_a1"].pk})
    assert [m.name for m in page.context["form"].fields["member"].queryset] == ["李明", "王芳"]
    page = client.get(url, {"q": "王"})
    assert [m.name for m in page.context["form"].fields["member"].queryset] == ["王强", "王芳"]
    response = client.post(f"{url}?q=王", _award_form(member=member.pk))  # not among those found
    assert "member" in response.context["form"].errors
    response = client.post(f"{url}?q=李", _award_form(member=member.pk))
    assert response.status_code == 302 and Honour.objects.get().member == member


def test_a_secretary_picks_from_the_branch_roster_only(client, tree, people, login, member):
    make_member(tree["branch_b1"], name="赵六")
    page = login(people["secretary_a1"]).get(reverse("branches:honour-create"))
    assert [m.name for m in page.context["form"].fields["member"].queryset] == ["李明"]
    assert "branch" not in page.context["finder"].fields  # their own branch: nothing to choose


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_the_scope_s_honours_and_filters_them(client, tree, people, login, member, honours):
    other = make_member(tree["branch_ag1"], name="王芳")
    award(people["township_a_staff"], "member", other, level=HonourLevel.CITY, year=LAST_YEAR - 1)
    login(people["township_a_staff"])
    url = reverse("branches:honours")

    def names(**params):
        page = client.get(url, params).context["page"]
        return sorted(str(h.recipient) for h in page.object_list)

    assert names() == sorted(["李明", "王芳", "共青团甲镇委员会"])  # not branch B1's
    assert names(recipient="unit") == ["共青团甲镇委员会"]
    assert names(recipient="member") == ["李明", "王芳"]
    assert names(level="city") == ["王芳"]
    assert names(year=LAST_YEAR - 1) == ["王芳"]
    assert names(title=HonourTitle.objects.get(name="五四红旗团委").pk) == ["共青团甲镇委员会"]
    assert names(q="李") == ["李明"]
    assert names(q="甲镇") == ["共青团甲镇委员会"]
    assert names(unit=tree["general_ag"].pk) == ["王芳"]
    assert names(unit=tree["branch_b1"].pk) == sorted(["李明", "王芳", "共青团甲镇委员会"])  # out of scope: dropped
    assert "没有符合条件的荣誉。" in client.get(url, {"q": "无此人"}).content.decode()


# --- the unit pickers: search as you type, only the chosen unit rendered (issue 8) ---------------


@pytest.mark.parametrize(
    ("page", "field", "purpose", "choose"),
    [
        ("list", "unit", "records", "unit"),
        ("", "branch", "branches", "branch"),
        ("for=unit", "organization", "records", "unit"),  # ?unit= opens the page with the unit chosen
    ],
    ids=["list filter", "member finder", "honour of a unit"],
)
def test_the_unit_pickers_render_only_the_chosen_unit(client, tree, people, login, page, field, purpose, choose):
    login(people["county_staff"])
    url = reverse("branches:honours") if page == "list" else f"{reverse('branches:honour-create')}?{page}"
    response = client.get(url)
    select = picker(response, field)
    assert select.count("<option") == 1 and f'data-unit-for="{purpose}"' in select
    assert reverse("branches:unit-choices") in select and "js/unit-search.js" in response.content.decode()
    size = len(response.content)
    for i in range(30):
        add(tree["township_b"], name=f"乙{i:02d}村团支部", code=f"C-B-{i + 10}", kind="branch", sector="village")
    response = client.get(url)
    assert len(response.content) == size  # the page does not grow with the tree
    chosen = tree["branch_ag1"]
    select = picker(client.get(url, {choose: chosen.pk}), field)
    assert select.count("<option") == 2 and f'value="{chosen.pk}" selected' in select
    assert "甲镇中学九年级团支部（甲镇中学团总支）" in select  # with its parent, to tell namesakes apart


def test_the_list_refuses_a_unit_out_of_scope_with_a_message(client, tree, people, login, honours):
    login(people["township_a_staff"])
    response = client.get(reverse("branches:honours"), {"unit": tree["branch_b1"].pk})
    assert response.context["filters"].form.errors["unit"] == [REFUSED_UNIT]
    assert REFUSED_UNIT in response.content.decode()
    assert "乙一村团支部" not in picker(response, "unit")
    assert {str(h.recipient) for h in response.context["page"].object_list} == {"李明", "共青团甲镇委员会"}


def test_the_member_finder_refuses_a_branch_out_of_scope_or_not_a_branch(client, tree, people, login, member):
    make_member(tree["branch_b1"], name="赵六")
    make_member(tree["branch_ag1"], name="王芳")
    login(people["township_a_staff"])
    url = reverse("branches:honour-create")
    for refused in [tree["branch_b1"], tree["general_ag"]]:
        response = client.get(url, {"branch": refused.pk})
        assert response.context["finder"].errors["branch"] == [REFUSED_UNIT]
        assert [m.name for m in response.context["form"].fields["member"].queryset] == ["李明", "王芳"]  # A's only
    response = client.get(url, {"branch": tree["branch_ag1"].pk})
    assert [m.name for m in response.context["form"].fields["member"].queryset] == ["王芳"]


def test_an_honour_for_a_unit_out_of_scope_is_refused_with_a_message(client, tree, people, login):
    login(people["township_a_staff"])
    url = f"{reverse('branches:honour-create')}?for=unit"
    response = client.post(url, _award_form(title="五四红旗团支部", organization=tree["branch_b1"].pk))
    assert response.context["form"].errors["organization"] == [REFUSED_UNIT]
    assert not Honour.objects.exists()
    # Refused for another reason, the chosen unit stays chosen.
    response = client.post(url, _award_form(title="五四红旗团支部", organization=tree["branch_a1"].pk, year=""))
    assert f'value="{tree["branch_a1"].pk}" selected' in picker(response, "organization")


def test_revoked_honours_leave_the_list_unless_asked_for(client, tree, people, login, honours):
    honour_revoke(honour=honours["member_a1"], actor=people["secretary_a1"], reason="录入错误")
    login(people["secretary_a1"])
    url = reverse("branches:honours")
    assert client.get(url).context["page"].paginator.count == 0
    page = client.get(url, {"state": "revoked"})
    assert list(page.context["page"].object_list) == [honours["member_a1"]]
    assert "已撤销" in page.content.decode()
    assert client.get(url, {"state": "all"}).context["page"].paginator.count == 1


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_s_queries_do_not_grow_with_the_honours(
    client, tree, people, login, django_assert_max_num_queries, count
):
    for year in range(LAST_YEAR - count + 1, LAST_YEAR + 1):
        award(people["county_staff"], "member", make_member(tree["branch_a1"], name=f"团员{year}"), year=year)
        award(people["county_staff"], "organization", tree["township_a"], title="五四红旗团委", year=year)
    login(people["county_staff"])
    with django_assert_max_num_queries(11):
        response = client.get(reverse("branches:honours"), {"page": 1})
    assert len(response.context["page"].object_list) == min(2 * count, honour_views.PAGE_SIZE)


def test_the_navigation_has_honours_for_those_who_keep_records(client, tree, people, login):
    assert "荣誉" in [item["label"] for item in login(people["secretary_a1"]).get("/").context["nav_items"]]
    assert "荣誉" not in [item["label"] for item in login(people["party_a"]).get("/").context["nav_items"]]


# --- detail and revoking --------------------------------------------------------------------------


def test_revoking_asks_for_a_reason_first_then_marks_the_honour(client, tree, people, login, honours):
    honour = honours["member_a1"]
    login(people["deputy_a1"])
    detail = reverse("branches:honour", kwargs={"pk": honour.pk})
    revoke = reverse("branches:honour-revoke", kwargs={"pk": honour.pk})
    assert revoke in client.get(detail).content.decode()
    page = client.get(revoke).content.decode()
    assert "仅在误录时撤销" in page
    response = client.post(revoke, {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert not Honour.objects.get(pk=honour.pk).is_revoked
    response = client.post(revoke, {"reason": "录入错误"})
    assert response["Location"] == detail
    page = client.get(detail).content.decode()
    assert "该荣誉已撤销。" in page and "录入错误" in page and revoke not in page
    entry = LogEntry.objects.get_for_object(honour).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == people["deputy_a1"] and entry.additional_data == {"on_behalf_of": "secretary_a1"}
    # Revoked once only: the page says so instead of asking again.
    response = client.get(revoke, follow=True)
    assert "该荣誉已被撤销。" in response.content.decode()


def test_the_honour_page_shows_its_history(client, tree, people, login, honours):
    page = login(people["county_staff"]).get(reverse("branches:honour", kwargs={"pk": honours["township_a"].pk}))
    history = page.context["history"]
    assert [entry.action for entry in history] == [LogEntry.Action.CREATE]
    assert "荣誉称号" in page.content.decode()


# --- the member's timeline ------------------------------------------------------------------------


def test_the_timeline_shows_the_honour_with_a_fixed_number_of_queries(
    client, tree, people, login, member, django_assert_num_queries
):
    member_timeline(member)  # content types cached, as after the first page of a process
    with django_assert_num_queries(2) as before:
        assert member_timeline(member)
    award(people["secretary_a1"], "member", member)
    honour = award(people["secretary_a1"], "member", member, level=HonourLevel.CITY)
    honour_revoke(honour=honour, actor=people["secretary_a1"], reason="录入错误")
    with django_assert_num_queries(len(before.captured_queries)):
        items = member_timeline(member)
    titles = [item.title for item in items]
    assert titles.count("荣誉: 新建") == 2 and titles.count("荣誉: 修改") == 1
    response = login(people["secretary_a1"]).get(reverse("members:member", kwargs={"pk": member.pk}))
    details = " ".join(item.detail for item in response.context["timeline"])
    assert "优秀共青团员" in details and "录入错误" in details
    assert "— → —" not in details  # the empty fields of a new record are not listed


# --- configuration and demo data ------------------------------------------------------------------


def test_the_system_administrator_configures_the_titles(client, tree, people, login):
    login(people["system_admin"])
    assert client.get(reverse("admin:branches_honourtitle_changelist")).status_code == 200
    response = client.post(reverse("admin:branches_honourtitle_add"), {"name": "优秀志愿者", "for_members": "on"})
    assert response.status_code == 302
    title = HonourTitle.objects.get(name="优秀志愿者")
    assert LogEntry.objects.get_for_object(title).get().actor == people["system_admin"]
    for persona in ["county_staff", "audit_admin"]:
        assert login(people[persona]).get(reverse("admin:branches_honourtitle_changelist")).status_code == 302


def test_the_demo_honours_are_added_once_and_audited(tree, people):
    for n, branch in enumerate(["branch_a1", "branch_ag1", "branch_b1"] * 20):
        make_member(tree[branch], name=f"团员{n}")
    added = seed_honours(tree["county"])
    assert added == Honour.objects.count() > 40
    assert Honour.objects.filter(organization__isnull=False).exists()
    assert set(Honour.objects.values_list("level", flat=True)) <= set(HonourLevel.values)
    entries = LogEntry.objects.filter(content_type__model="honour", action=LogEntry.Action.CREATE)
    assert entries.count() == added
    assert seed_honours(tree["county"]) == 0
    member = Honour.objects.filter(member__isnull=False).first().member
    assert any(item.title == "荣誉: 新建" for item in member_timeline(member))
