"""The organization tree's rules, through the services: what is allowed, what is refused and why."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from branches import services
from branches.models import Organization, OrganizationKind, PartyOrganization, Sector


def create(actor, parent, code, kind=OrganizationKind.BRANCH, **extra):
    return services.organization_create(
        actor=actor, parent=parent, kind=kind, name=f"单位{code}", code=code, sector=Sector.VILLAGE, **extra
    )


def test_county_staff_create_a_branch_anywhere_in_the_county(tree, people):
    unit = create(people["county_staff"], tree["township_b"], "C-B-2")
    assert Organization.objects.get_parent(unit) == tree["township_b"]
    assert unit.depth == 3


def test_township_staff_create_only_inside_their_township(tree, people):
    create(people["township_a_staff"], tree["township_a"], "C-A-2")
    with pytest.raises(PermissionDenied):
        create(people["township_a_staff"], tree["township_b"], "C-B-9")


@pytest.mark.parametrize("persona", ["secretary_a1", "party_a", "audit_admin", "nobody"])
def test_other_roles_cannot_create_units(tree, people, persona):
    with pytest.raises(PermissionDenied):
        create(people[persona], tree["township_a"], "C-A-3")


def test_a_branch_cannot_hold_a_unit(tree, people):
    with pytest.raises(ValidationError, match="下不能设立"):
        create(people["county_staff"], tree["branch_a1"], "C-A-1-1")


def test_a_general_branch_holds_branches_but_not_committees(tree, people):
    create(people["county_staff"], tree["general_ag"], "C-A-G-2")
    with pytest.raises(ValidationError):
        create(people["county_staff"], tree["general_ag"], "C-A-G-T", kind=OrganizationKind.TOWNSHIP)


def test_a_duplicate_code_is_refused_and_nothing_is_saved(tree, people):
    before = Organization.objects.count()
    with pytest.raises(ValidationError) as refused:
        create(people["county_staff"], tree["township_b"], "C-A-1")
    assert "C-A-1" in str(refused.value)
    assert Organization.objects.count() == before


def test_moving_a_unit_keeps_its_subtree_and_is_audited(tree, people):
    from auditlog.models import LogEntry

    moved = services.organization_move(
        actor=people["county_staff"], organization=tree["general_ag"], new_parent=tree["township_b"]
    )
    assert Organization.objects.get_parent(moved) == tree["township_b"]
    branch = Organization.objects.get(pk=tree["branch_ag1"].pk)
    assert Organization.objects.get_parent(branch) == moved
    assert branch.path.startswith(tree["township_b"].path)
    entry = LogEntry.objects.get_for_object(moved).first()
    assert entry.actor == people["county_staff"]
    assert entry.changes["parent"] == [tree["township_a"].name, tree["township_b"].name]


def test_a_unit_cannot_move_under_its_own_descendant(tree, people):
    with pytest.raises(ValidationError, match="不能调整到其自身"):
        services.organization_move(
            actor=people["county_staff"], organization=tree["township_a"], new_parent=tree["general_ag"]
        )


def test_a_unit_cannot_move_under_a_branch(tree, people):
    with pytest.raises(ValidationError):
        services.organization_move(
            actor=people["county_staff"], organization=tree["general_ag"], new_parent=tree["branch_b1"]
        )


def test_township_staff_cannot_move_their_own_township_or_move_units_out_of_it(tree, people):
    with pytest.raises(PermissionDenied):
        services.organization_move(
            actor=people["township_a_staff"], organization=tree["township_a"], new_parent=tree["county"]
        )
    with pytest.raises(PermissionDenied):
        services.organization_move(
            actor=people["township_a_staff"], organization=tree["branch_a1"], new_parent=tree["township_b"]
        )


def test_dissolving_keeps_the_unit_and_refuses_while_units_below_are_active(tree, people):
    staff = people["county_staff"]
    with pytest.raises(ValidationError, match="请先撤销"):
        services.organization_dissolve(
            actor=staff, organization=tree["general_ag"], on_date=date.today(), reason="合并"
        )
    services.organization_dissolve(actor=staff, organization=tree["branch_ag1"], on_date=date.today(), reason="毕业")
    gone = services.organization_dissolve(
        actor=staff, organization=tree["general_ag"], on_date=date.today(), reason="学校撤并"
    )
    assert not gone.is_active
    assert Organization.objects.filter(pk=gone.pk).exists()
    assert not Organization.objects.active().filter(pk=gone.pk).exists()


def test_dissolving_needs_a_reason_and_a_past_date(tree, people):
    staff = people["county_staff"]
    with pytest.raises(ValidationError):
        services.organization_dissolve(actor=staff, organization=tree["branch_b1"], on_date=date.today(), reason=" ")
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError):
        services.organization_dissolve(actor=staff, organization=tree["branch_b1"], on_date=tomorrow, reason="撤销")


def test_a_dissolved_unit_takes_no_new_units(tree, people):
    staff = people["county_staff"]
    services.organization_dissolve(actor=staff, organization=tree["branch_ag1"], on_date=date.today(), reason="毕业")
    services.organization_dissolve(actor=staff, organization=tree["general_ag"], on_date=date.today(), reason="撤并")
    with pytest.raises(ValidationError, match="已撤销"):
        create(staff, Organization.objects.get(pk=tree["general_ag"].pk), "C-A-G-3")


def test_editing_records_old_and_new_values_with_the_actor(tree, people):
    from auditlog.models import LogEntry

    services.organization_update(
        actor=people["township_a_staff"], organization=tree["branch_a1"], contact_phone="13800000000"
    )
    entry = LogEntry.objects.get_for_object(tree["branch_a1"]).first()
    assert entry.actor == people["township_a_staff"]
    assert entry.changes["contact_phone"] == ["", "13800000000"]


def test_a_deputy_acts_on_behalf_of_the_principal(tree, people):
    from auditlog.models import LogEntry

    from branches.models import Role, RoleAssignment

    deputy_staff = people["nobody"]
    RoleAssignment.objects.create(
        user=deputy_staff,
        role=Role.TOWNSHIP_STAFF,
        organization=tree["township_a"],
        starts_on=date(2024, 1, 1),
        deputy_for=people["township_a_staff"],
    )
    services.organization_update(actor=deputy_staff, organization=tree["branch_a1"], contact_phone="13900000000")
    entry = LogEntry.objects.get_for_object(tree["branch_a1"]).first()
    assert entry.actor == deputy_staff
    assert entry.additional_data == {"on_behalf_of": "township_a_staff"}


def test_tree_shows_two_levels_with_counts_from_two_queries(tree, people, django_assert_num_queries):
    from branches.selectors import visible_tree

    staff = people["county_staff"]
    visible_tree(staff)  # the scope is computed once per request; warm it as a request would
    with django_assert_num_queries(2):
        roots = visible_tree(staff)
    (county,) = roots
    assert county.units_below == 6
    assert county.branches_below == 3
    township_a = next(n for n in county.children if n.unit.code == "C-A")
    assert (township_a.units_below, township_a.branches_below) == (3, 2)
    # The third level is loaded when a township is opened, not with the page.
    assert township_a.has_children and township_a.children == []
    with django_assert_num_queries(2):
        below_a = visible_tree(staff, under=township_a.unit)
    assert [(n.unit.code, n.units_below, n.has_children) for n in below_a] == [("C-A-1", 0, False), ("C-A-G", 1, True)]


def test_tree_children_are_loaded_on_demand_in_scope_only(client, tree, people, login):
    url = reverse("branches:tree-children", args=[tree["township_a"].pk])
    page = login(people["county_staff"]).get(reverse("branches:tree")).content.decode()
    assert f'data-children-url="{url}"' in page
    assert tree["branch_a1"].name not in page
    children = client.get(url).content.decode()
    assert tree["branch_a1"].name in children and tree["general_ag"].name in children
    assert tree["branch_b1"].name not in children
    login(people["township_b_staff"])
    assert client.get(url).status_code == 404


def test_county_staff_record_party_organizations_and_pair_units_with_them(client, tree, people, login):
    login(people["county_staff"])
    response = client.post(
        reverse("branches:party-organization-create"),
        {"name": "中共甲一村支部委员会", "contact_name": "王支书", "contact_phone": "13700000000"},
    )
    assert response.status_code == 302
    party = PartyOrganization.objects.get(name="中共甲一村支部委员会")
    assert party.county == tree["county"]
    duplicate = client.post(reverse("branches:party-organization-create"), {"name": "中共甲一村支部委员会"})
    assert "name" in duplicate.context["form"].errors
    services.organization_update(
        actor=people["township_a_staff"], organization=tree["branch_a1"], party_organization=party
    )
    listing = client.get(reverse("branches:party-organizations"), {"q": "甲一村"})
    assert [(p.name, p.unit_count) for p in listing.context["page"]] == [("中共甲一村支部委员会", 1)]


def test_party_organizations_of_another_county_are_out_of_reach(client, tree, people, login):
    other_county = Organization.objects.add_root(
        {"name": "共青团外县委员会", "code": "X", "kind": OrganizationKind.COUNTY, "sector": Sector.PUBLIC_INSTITUTION}
    )
    foreign = PartyOrganization.objects.create(county=other_county, name="中共外县委员会")
    login(people["county_staff"])
    assert client.get(reverse("branches:party-organization-edit", kwargs={"pk": foreign.pk})).status_code == 404
    with pytest.raises(PermissionDenied):
        services.party_organization_update(actor=people["county_staff"], party_organization=foreign, name="改名")
