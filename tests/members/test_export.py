"""Exporting member lists: a right of its own, masked numbers, formula-safe cells, audited."""

import csv
import io

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from branches.models import RoleAssignment
from tests.conftest import make_member


@pytest.fixture
def exporters(people):
    RoleAssignment.objects.filter(user__in=[people["county_staff"], people["secretary_a1"]]).update(
        may_export_records=True
    )
    return people


@pytest.fixture
def roster(tree):
    return [
        make_member(tree["branch_a1"], "普通"),
        make_member(tree["branch_a1"], '=HYPERLINK("http://x")', workplace="+cmd|' /C calc'!A0", phone=""),
        make_member(tree["branch_b1"], "乙镇"),
    ]


def _xlsx(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_exporting_needs_its_own_right(client, tree, people, login, roster):
    url = reverse("members:export")
    assert login(people["township_a_staff"]).get(url).status_code == 403  # staff, but no export right
    RoleAssignment.objects.filter(user=people["township_a_staff"]).update(may_export_records=True)
    assert login(people["township_a_staff"]).get(url).status_code == 200
    assert login(people["party_a"]).get(url).status_code == 403


def test_the_xlsx_is_masked_scoped_and_formula_safe(client, tree, exporters, login, roster):
    response = login(exporters["secretary_a1"]).get(reverse("members:export"), {"format": "xlsx"})
    table = _xlsx(response)
    header, body = table[0], table[1:]
    assert len(body) == 2  # branch A1 only
    id_column = header.index("身份证号码")
    assert {row[id_column] for row in body} == {m.id_number_masked for m in roster[:2]}
    names = {row[0] for row in body}
    assert '\'=HYPERLINK("http://x")' in names
    assert any(str(cell).startswith("'+cmd") for row in body for cell in row if cell)
    age_column = header.index("年龄")
    assert all(isinstance(row[age_column], int) for row in body)
    assert "attachment" in response["Content-Disposition"]


def test_full_numbers_only_for_staff_and_recorded(client, tree, exporters, login, roster):
    assert login(exporters["secretary_a1"]).get(reverse("members:export"), {"full": "1"}).status_code == 403
    response = login(exporters["county_staff"]).get(reverse("members:export"), {"full": "1", "q": "乙镇"})
    body = _xlsx(response)[1:]
    assert [row[3] for row in body] == [roster[2].id_number]
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).get()
    assert entry.actor == exporters["county_staff"]
    assert entry.changes["full_id_numbers"] == ["", True]
    assert "q=" in entry.additional_data["note"]


def test_the_csv_has_a_bom_and_follows_the_filters(client, tree, exporters, login, roster):
    response = login(exporters["county_staff"]).get(
        reverse("members:export"), {"format": "csv", "unit": tree["township_b"].pk}
    )
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert [row[0] for row in rows[1:]] == ["乙镇"]
    assert rows[1][3] == roster[2].id_number_masked


CHOICE_COLUMNS = {
    "性别": "sex",
    "民族": "ethnicity",
    "团内职务": "league_post",
    "政治面貌": "political_status",
    "学历": "education",
    "职业": "occupation",
    "状态": "status",
}


@pytest.mark.parametrize("league_post", ["secretary", ""])
def test_choice_columns_read_as_on_the_members_page(client, tree, exporters, login, league_post):
    """The labels come from one dictionary per column for the whole export: the same words as the
    member's page shows, in the user's language."""
    member = make_member(tree["branch_a1"], "标签", sex="F", league_post=league_post, political_status="party")
    response = login(exporters["county_staff"]).get(reverse("members:export"), {"format": "xlsx"})
    header, row = _xlsx(response)
    with translation.override("zh-hans"):
        for column, field in CHOICE_COLUMNS.items():
            assert row[header.index(column)] == getattr(member, f"get_{field}_display")(), column
    assert row[header.index("年龄")] == member.age
