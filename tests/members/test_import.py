"""Importing a roster: every kind of problem, the preview, all-or-nothing commit, re-import as
update, the rows to fix, odd files, background checking for large files, and the scope."""

import io
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from members import imports
from members.models import ImportBatch, Member, Transfer
from tests.conftest import make_member, valid_id_number

HEADER = ["姓名", "身份证号码", "民族", "手机号码", "学历", "职业", "入团时间", "团内职务", "备注"]


def person(name, born=date(2003, 4, 5), sex="M", **overrides):
    row = {
        "姓名": name,
        "身份证号码": valid_id_number(born, sex),
        "民族": "汉族",
        "手机号码": "13812345678",
        "学历": "大学本科",
        "职业": "农民",
        "入团时间": "2018-05-04",
        "团内职务": "",
        "备注": "",
    }
    row.update(overrides)
    return row


def xlsx(rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column, "") for column in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8-sig", header=HEADER):
    lines = [",".join(header)] + [",".join(str(row.get(c, "")) for c in header) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def upload(client, tree, content, name="roster.xlsx", branch="branch_a1"):
    return client.post(
        reverse("members:import-upload"),
        {"branch": tree[branch].pk, "file": SimpleUploadedFile(name, content)},
    )


def latest_batch():
    return ImportBatch.objects.latest("created_at")


def test_a_clean_roster_is_previewed_then_committed_with_an_audit_trail(client, tree, people, login):
    login(people["secretary_a1"])
    response = upload(client, tree, xlsx([person("甲"), person("乙", sex="F")]))
    batch = latest_batch()
    assert response["Location"] == reverse("members:import", kwargs={"pk": batch.pk})
    assert batch.status == "checked" and not Member.objects.exists()  # nothing saved before the commit
    page = client.get(response["Location"])
    assert page.context["counts"]["create"] == 2
    client.post(reverse("members:import-commit", kwargs={"pk": batch.pk}))
    assert set(Member.objects.values_list("name", flat=True)) == {"甲", "乙"}
    member = Member.objects.get(name="乙")
    assert (member.sex, member.birth_date, member.education, member.occupation) == (
        "F",
        date(2003, 4, 5),
        "bachelor",
        "farmer",
    )
    entry = LogEntry.objects.get_for_object(member).get()
    assert entry.actor == people["secretary_a1"] and entry.action == LogEntry.Action.CREATE
    assert latest_batch().status == "committed"
    # Committing twice writes nothing twice.
    client.post(reverse("members:import-commit", kwargs={"pk": batch.pk}))
    assert Member.objects.count() == 2


def test_reimporting_a_person_updates_the_record(client, tree, people, login):
    existing = make_member(tree["branch_a1"], "老成员", phone="13900000000")
    login(people["secretary_a1"])
    row = person(
        "老成员",
        born=existing.birth_date,
        sex=existing.sex,
        身份证号码=existing.id_number,
        手机号码="13911111111",
        入团时间=existing.joined_on.isoformat(),
    )
    upload(client, tree, xlsx([row]))
    batch = latest_batch()
    assert [r["action"] for r in batch.rows] == ["update"]
    client.post(reverse("members:import-commit", kwargs={"pk": batch.pk}))
    assert Member.objects.get().phone == "13911111111"
    assert LogEntry.objects.get_for_object(existing).filter(action=LogEntry.Action.UPDATE).get().changes["phone"] == [
        "13900000000",
        "13911111111",
    ]


def test_every_kind_of_problem_is_listed_by_row_and_column(client, tree, people, login):
    elsewhere = make_member(tree["branch_b1"], "外支部")
    good = person("好")
    wrong_check = valid_id_number(date(2002, 1, 1))
    wrong_check = wrong_check[:17] + ("0" if wrong_check[17] != "0" else "1")
    rows = [
        good,
        person("重复", 身份证号码=good["身份证号码"]),  # the same number twice in the file
        person("校验位", 身份证号码=wrong_check),
        person("外支部", born=elsewhere.birth_date, 身份证号码=elsewhere.id_number, 入团时间="2019-06-01"),
        person("学历错", 学历="幼儿园"),
        person("日期错", 入团时间="2018-02-30"),
        person("太小入团", 入团时间="2016-01-01"),  # before the 14th birthday
        # born in 1990 (the region code 520123 exists only since 1995, so another region)
        person("超龄", born=date(1990, 1, 1), 身份证号码=valid_id_number(date(1990, 1, 1), "M", region="110105")),
        person(
            "",
        ),  # no name
    ]
    login(people["secretary_a1"])
    upload(client, tree, xlsx(rows))
    batch = latest_batch()
    by_line = {row["line"]: row for row in batch.rows}
    assert by_line[2]["action"] == "create"
    problems = {line: [column for column, _m in row["problems"]] for line, row in by_line.items() if row["problems"]}
    assert problems == {
        3: ["身份证号码"],
        4: ["身份证号码"],
        6: ["学历"],
        7: ["入团时间"],
        8: ["入团时间"],
        9: ["出生日期"],
        10: ["姓名"],
    }
    assert by_line[5]["action"] == "elsewhere"
    assert by_line[5]["elsewhere"]["branch"] == "您管辖范围以外的团支部"  # another township's branch stays unnamed
    # The rows to fix come back as a workbook, with what to fix, and can be uploaded on their own.
    response = client.get(reverse("members:import-problems", kwargs={"pk": batch.pk}))
    sheet = load_workbook(io.BytesIO(response.content)).active
    fix_rows = list(sheet.iter_rows(values_only=True))
    assert len(fix_rows) == 1 + 7
    assert fix_rows[0][-1] == "问题"
    # Commit saves the valid row only; transfer requests are offered for the person elsewhere.
    client.post(reverse("members:import-commit", kwargs={"pk": batch.pk}))
    assert set(Member.objects.filter(branch=tree["branch_a1"]).values_list("name", flat=True)) == {"好"}
    client.post(reverse("members:import-transfers", kwargs={"pk": batch.pk}))
    assert Transfer.objects.get().member == elsewhere


def test_the_commit_is_all_or_nothing(client, tree, people, login):
    login(people["secretary_a1"])
    rows = [person("一"), person("二"), person("三")]
    upload(client, tree, xlsx(rows))
    batch = latest_batch()
    # Meanwhile someone records the third person elsewhere.
    third = Member(
        branch=tree["branch_b1"],
        name="三",
        sex="M",
        birth_date=date(2003, 4, 5),
        education="senior",
        occupation="farmer",
        joined_on=date(2018, 5, 4),
    )
    third.id_number = rows[2]["身份证号码"]
    third.save()
    response = client.post(reverse("members:import-commit", kwargs={"pk": batch.pk}), follow=True)
    assert Member.objects.filter(branch=tree["branch_a1"]).count() == 0
    assert latest_batch().status == "failed"
    assert "没有写入" in response.content.decode() or latest_batch().message


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        (b"", "empty.csv", "空"),
        (b"%PDF-1.4 binary\x00\x01\x02", "scan.pdf", "不是"),
        (b"\xff\xfe\x00garbage\x00", "roster.csv", "不是"),
        (b"PK\x03\x04 not really a zip", "roster.xlsx", ".xlsx"),
        ("姓名,身份证号码\n".encode(), "header-only.csv", "没有数据"),
        ("名字,电话\n张三,1\n".encode(), "wrong-columns.csv", None),
    ],
)
def test_files_that_are_not_rosters_get_a_clear_message(client, tree, people, login, content, name, fragment):
    login(people["secretary_a1"])
    response = upload(client, tree, content, name=name)
    if fragment is None:  # readable, but the required columns are missing: the batch says which
        batch = latest_batch()
        assert batch.status == "failed" and "身份证号码" in batch.message
        return
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["file"])
    assert fragment in errors, errors
    assert not ImportBatch.objects.exists()


def test_a_gbk_csv_reads_like_utf8(client, tree, people, login):
    login(people["secretary_a1"])
    upload(client, tree, csv_bytes([person("国标")], encoding="gb18030"), name="roster.csv")
    batch = latest_batch()
    assert [row["values"]["name"] for row in batch.rows] == ["国标"]
    assert batch.rows[0]["action"] == "create"


def test_dates_written_the_usual_ways(client, tree, people, login):
    login(people["secretary_a1"])
    rows = [
        person(f"日期{i}", 入团时间=text)
        for i, text in enumerate(["2018/5/4", "2018年5月4日", "20180504", "2018.05.04", "2018-05"])
    ]
    upload(client, tree, xlsx(rows))
    joined = [row["fields"].get("joined_on") for row in latest_batch().rows]
    assert joined == ["2018-05-04"] * 4 + ["2018-05-01"]


def test_branch_codes_place_rows_in_the_uploader_s_branches(client, tree, people, login):
    header = [*HEADER, "团支部编码"]
    rows = [person("甲", 团支部编码="C-A-G-1"), person("乙", 团支部编码="C-B-1")]
    login(people["township_a_staff"])
    upload(client, tree, xlsx(rows, header=header))
    batch = latest_batch()
    assert batch.rows[0]["branch_id"] == tree["branch_ag1"].pk
    assert batch.rows[1]["problems"][0][0] == "团支部编码"  # another township's branch is unknown to them


def test_large_files_are_checked_in_the_background(
    client, tree, people, login, monkeypatch, django_capture_on_commit_callbacks
):
    from leagueadmin.celery import app

    monkeypatch.setattr(imports, "BACKGROUND_THRESHOLD", 2)
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 1)
    app.conf.task_always_eager = True  # the task runs in the test, as a worker would run it
    try:
        login(people["secretary_a1"])
        with django_capture_on_commit_callbacks(execute=False) as queued:
            upload(client, tree, xlsx([person(f"批量{i}") for i in range(5)]))
        batch = latest_batch()
        assert batch.status == "queued" and batch.total_rows == 5
        page = client.get(reverse("members:import", kwargs={"pk": batch.pk}))
        assert page.context["working"]  # the page shows the progress bar
        for callback in queued:
            callback()  # the transaction commits: the check task runs
        progress = client.get(reverse("members:import-progress", kwargs={"pk": batch.pk})).json()
        assert progress == {"status": "checked", "percent": 100, "message": ""}
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("members:import-commit", kwargs={"pk": batch.pk}))
        assert Member.objects.filter(name__startswith="批量").count() == 5
    finally:
        app.conf.task_always_eager = False


def test_a_batch_is_seen_only_by_those_who_work_in_its_branch(client, tree, people, login):
    login(people["secretary_a1"])
    upload(client, tree, xlsx([person("甲")]))
    url = reverse("members:import", kwargs={"pk": latest_batch().pk})
    assert login(people["township_a_staff"]).get(url).status_code == 200
    for persona in ["secretary_b1", "township_b_staff", "party_a"]:
        assert login(people[persona]).get(url).status_code == 404
    assert login(people["party_a"]).get(reverse("members:import-upload")).status_code == 403


def test_the_background_check_runs_once_even_if_delivered_twice(tree, people):
    from members import idnumbers, tasks

    content = xlsx([person("一"), person("二")])
    batch = imports.create_batch(actor=people["secretary_a1"], branch=tree["branch_a1"], file_name="roster.xlsx")
    batch.upload_encrypted = idnumbers.encrypt_bytes(content)
    batch.save()
    assert tasks.check_import(batch.pk) == "checked"
    assert tasks.check_import(batch.pk) == "already claimed"
    batch.refresh_from_db()
    assert batch.status == "checked" and batch.upload_encrypted is None  # the upload is not kept
    assert tasks.commit_import(batch.pk, people["secretary_a1"].pk) == "committed"
    assert tasks.commit_import(batch.pk, people["secretary_a1"].pk) != "committed"
    assert Member.objects.count() == 2
