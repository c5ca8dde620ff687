"""A branch secretary imports a roster on a phone through a real browser: upload, the checked preview
with its problems, the rows to fix, and the commit.

As in test_journeys, the text of the UI is not asserted: elements are found by form field names, by
link targets built with reverse(), by data-testid and by data from the fixtures. The test requests
`transactional_db` before `tree`/`people` so that the fixture data is visible to the live server.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from members.models import ImportBatch, Member
from tests.browser import test_journeys
from tests.browser.test_journeys import PHONE, screenshot, sign_in
from tests.conftest import valid_id_number
from tests.members.test_import import person, xlsx

# The fixtures of test_journeys, shared by name (pytest finds fixtures in the module's namespace).
browser, device, page = test_journeys.browser, test_journeys.device, test_journeys.page


def wrong_check_character(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.mark.parametrize("device", [PHONE], ids=["phone"])
def test_branch_secretary_imports_a_roster_with_problems_on_a_phone(
    transactional_db, live_server, tree, people, page: Page, tmp_path
):
    base = live_server.url
    branch = tree["branch_a1"]
    upload_url = reverse("members:import-upload")

    # Spreadsheet rows: the header is row 1, so the bad rows are rows 3 and 5.
    roster = tmp_path / "roster.xlsx"
    roster.write_bytes(
        xlsx(
            [
                person("好一"),
                person("校验位错", 身份证号码=wrong_check_character(valid_id_number(date(2002, 1, 1)))),
                person("好二", sex="F"),
                person("学历错", 学历="幼儿园"),
                person("好三"),
            ]
        )
    )

    sign_in(page, base, people["secretary_a1"].username)

    # The member list, then its import link.
    page.goto(base + reverse("members:list"))
    page.locator(f'main a[href="{upload_url}"]').click()
    page.wait_for_url(base + upload_url)

    # Upload the file into the secretary's branch, already chosen (their only one), and have it checked.
    form = page.locator("form:has(input[name=file])")
    expect(form.locator("select[name=branch]")).to_have_value(str(branch.pk))
    expect(form.locator(".ts-wrapper .item")).to_contain_text(branch.name)
    form.locator("input[name=file]").set_input_files(roster)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/**/import/*/")
    batch = ImportBatch.objects.get(branch=branch)
    assert page.url == base + reverse("members:import", kwargs={"pk": batch.pk})

    # The preview: 3 to create, 2 with problems, listed by their row numbers; nothing saved yet.
    expect(page.get_by_test_id("count-create")).to_have_text("3")
    expect(page.get_by_test_id("count-error")).to_have_text("2")
    problem_lines = page.get_by_test_id("problems").locator("tbody tr td:first-child")
    expect(problem_lines).to_have_text(["3", "5"])
    assert not Member.objects.exists()
    screenshot(page, "/tmp/journey-import.png")

    # The rows to fix come down as a workbook with the two bad rows under a header.
    problems_url = reverse("members:import-problems", kwargs={"pk": batch.pk})
    with page.expect_download() as download_info:
        page.locator(f'main a[href="{problems_url}"]').click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".xlsx")
    fix_file = tmp_path / download.suggested_filename
    download.save_as(fix_file)
    sheet = load_workbook(fix_file).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 2

    # Save the valid rows: they are in the branch and the page shows the batch as committed.
    commit_url = reverse("members:import-commit", kwargs={"pk": batch.pk})
    with page.expect_navigation() as navigation:
        page.locator(f'form[action="{commit_url}"] button[type=submit]').click()
    assert navigation.value is not None and navigation.value.status == 200
    assert Member.objects.filter(branch=branch).count() == 3
    assert set(Member.objects.values_list("name", flat=True)) == {"好一", "好二", "好三"}
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED
    # The label in the language the page was served in (whatever the translation says).
    with translation.override(page.locator("html").get_attribute("lang")):
        committed_label = str(ImportBatch.Status.COMMITTED.label)
    expect(page.get_by_test_id("import-status")).to_have_text(committed_label)
    expect(page.locator(f'form[action="{commit_url}"]')).to_have_count(0)
    screenshot(page, "/tmp/journey-import-committed.png")
