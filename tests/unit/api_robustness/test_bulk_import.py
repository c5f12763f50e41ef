"""Bulk import of comments from CSV or XLSX: rows checked first, errors by row and column, all or nothing."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake import app as intake_app
from services.intake import domain
from services.intake.imports import plan
from services.intake.imports.plan import TableError, fold, parse_date, plan_import, read_table
from services.intake.models import Comment, Outbox, Submission, SubmissionImport
from tests.unit.intake_pages.helpers import WARSAW, open_consultation

TOKEN = "bulk-import-demo-token-0123456789"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "bulk-import.csv"
HEADER = ["name", "email", "section", "proposal", "channel", "received_on"]


def table(*rows: list[str], header: list[str] = HEADER) -> list[list[str]]:
    return [header, *rows]


# --- the pure part ---------------------------------------------------------------


def test_headers_are_recognised_in_english_or_polish_whatever_the_case_and_accents():
    plan = plan_import([["Imię i nazwisko", "Część dokumentu", "Propozycja zmiany", "Kanał", "Data wpływu"],
                        ["Jan Nowak", "§ 1", "Dodać słowniczek.", "list", "15.10.2024"]])
    assert not plan.errors
    (submission,) = plan.submissions
    assert submission.channel == "letter" and submission.received_on == date(2024, 10, 15)
    assert fold("  Część dokumentu ") == "czesc_dokumentu"


def test_rows_sharing_a_key_are_one_submission_and_rows_without_one_are_their_own():
    header = ["submission_key", *HEADER]
    plan = plan_import(table(["A", "Anna", "a@example.org", "§ 1", "p1", "letter", "2024-10-15"],
                             ["", "Jan", "", "§ 2", "p2", "duty_hours", ""],
                             [],
                             ["A", "Anna", "a@example.org", "§ 3", "p3", "letter", "2024-10-15"],
                             ["", "Ewa", "", "§ 4", "p4", "", ""], header=header))
    assert not plan.errors and plan.rows == 4
    assert [[c.proposal for c in s.comments] for s in plan.submissions] == [["p1", "p3"], ["p2"], ["p4"]]
    assert plan.submissions[2].channel == "letter"  # the default channel of a paper campaign


def test_every_problem_is_reported_by_row_and_column_and_nothing_is_planned():
    header = ["submission_key", *HEADER, "topic", "publish_consent"]
    plan = plan_import(table(
        ["A", "Anna", "not-an-address", "§ 1", "p", "pigeon", "2024-13-45", "Inny", "może"],
        ["B", "", "", "", "", "letter", "", "", ""],
        ["C", "Ola", "", "§ 1", "p", "letter", "2024-10-15", "", ""],
        ["C", "Ola", "", "§ 2", "p", "letter", "2024-10-16", "", ""],
        header=header), topics=["Finansowanie"])
    found = {(e.row, e.column, e.code) for e in plan.errors}
    assert found == {(2, "email", "email"), (2, "channel", "channel"), (2, "received_on", "date"),
                     (2, "topic", "topic"), (2, "publish_consent", "yes_no"),
                     (3, "name", "required"), (3, "section", "required"), (3, "proposal", "required"),
                     (5, "received_on", "differs_in_submission")}
    assert plan.submissions == []


def test_a_channel_the_consultation_does_not_take_and_a_future_date_are_errors():
    plan = plan_import(table(["Jan", "", "§ 1", "p", "email", "2099-01-01"]), channels=("web", "letter"),
                       today=date(2026, 1, 1))
    assert {(e.column, e.code) for e in plan.errors} == {("channel", "channel_not_accepted"),
                                                          ("received_on", "future")}


def test_a_bad_header_is_reported_before_any_row():
    plan = plan_import([["name", "section", "colour"], ["Jan", "§ 1", "red"]])
    assert {(e.row, e.column, e.code) for e in plan.errors} == {(1, "colour", "unknown_column"),
                                                                (1, "proposal", "missing_column")}
    with pytest.raises(TableError):
        plan_import([[""]])
    assert plan_import(table()).errors[0].code == "empty"


def test_csv_with_a_bom_and_semicolons_and_formula_looking_cells_stay_text():
    content = "\ufeffname;section;proposal\nJan;§ 1;=HYPERLINK(\"http://evil\")\n".encode()
    rows = read_table("x.csv", content)
    assert rows[1] == ["Jan", "§ 1", '=HYPERLINK("http://evil")']
    with pytest.raises(TableError) as wrong:
        read_table("x.csv", "name\nJó".encode("cp1250"))
    assert wrong.value.code == "encoding"
    with pytest.raises(TableError):
        read_table("x.pdf", b"%PDF-1.7")


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_are_read_as_text_dates_as_dates_and_formulas_are_never_evaluated():
    content = xlsx([["name", "section", "proposal", "received_on", "publish_consent"],
                    ["Jan", "§ 1", "=1+1", datetime(2024, 10, 15), 1]])
    rows = read_table("campaign.xlsx", content)
    assert rows[1] == ["Jan", "§ 1", "=1+1", "2024-10-15", "1"]
    plan = plan_import(rows)
    assert plan.submissions[0].comments[0].proposal == "=1+1" and plan.submissions[0].publish_consent
    with pytest.raises(TableError):
        read_table("broken.xlsx", b"PK\x03\x04 not really a zip")


def trimmed(table: list[list[str]]) -> list[list[str]]:
    """Trailing blank cells and rows carry nothing for plan_import."""
    rows = [list(row) for row in table]
    for row in rows:
        while row and row[-1] == "":
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def test_xlsx_without_formulas_reads_as_openpyxl_does_but_fast(monkeypatch):
    rows = [["name", "section", "proposal", "received_on", "publish_consent", "n"],
            ["Jan", "§ 1", "tekst", datetime(2024, 10, 15), 1, 0.1],
            ["Ewa", 5, 2.5, date(2024, 10, 16), True, 123456789012],
            ["Ola", None, "  spacje  ", datetime(2024, 10, 15, 10, 30), False, -3],
            [None] * 6,
            ["Żółć", "§ 2\nust. 3", 'a "b" \\N\t', time(9, 30), "tak", 1e20]]
    for content in (xlsx(rows), xlsx([[], [], *rows])):  # some exports leave empty rows above the header
        fast = read_table("campaign.xlsx", content)
        assert trimmed(fast) == trimmed(plan._read_xlsx_with_openpyxl(content))
    assert fast[3][:4] == ["Jan", "§ 1", "tekst", "2024-10-15"]
    monkeypatch.setattr(plan, "MAX_XLSX_SHEETS_BYTES", 100)
    with pytest.raises(TableError) as large:
        read_table("campaign.xlsx", content)
    assert large.value.code == "xlsx"


def test_a_formula_anywhere_sends_the_workbook_to_openpyxl_so_no_value_computed_by_excel_is_taken():
    content = xlsx([["name", "section", "proposal"], ["Jan", "§ 1", "=1+1"]])
    cached = io.BytesIO()  # as Excel saves it: the formula with the value it computed
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(cached, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                assert b"<f>1+1</f><v></v>" in data
                data = data.replace(b"<f>1+1</f><v></v>", b"<f>1+1</f><v>2</v>")
            target.writestr(item, data)
    assert read_table("campaign.xlsx", cached.getvalue())[1] == ["Jan", "§ 1", "=1+1"]
    for tag in (b"<f>", b"<x:f>", b'<f t="shared" ref="C2:C9" si="0"/>', b"<f\n>"):
        assert plan._FORMULA.search(b"<c r='C2'>" + tag)
    for tag in (b"<formula1>", b"<filterColumn colId='0'>", b"<firstHeader>"):
        assert not plan._FORMULA.search(tag)


@pytest.mark.parametrize("text, expected", [("2024-10-15", date(2024, 10, 15)), ("5.1.2025", date(2025, 1, 5)),
                                            ("2024-10-15T10:00:00", date(2024, 10, 15)), ("31.02.2024", None),
                                            ("jutro", None)])
def test_dates_are_read_in_iso_or_polish_order(text, expected):
    assert parse_date(text) == expected


# --- the API ---------------------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_DEMO_TOKEN": TOKEN})
    upgrade("intake", settings.database_url("intake"))
    built = intake_app.create_app(ctx=intake_app.build(settings))
    yield built
    built.extensions["uwagi"].close()


def consultation_of_2024(app):
    return open_consultation(app, opens_at=datetime(2024, 10, 1, tzinfo=WARSAW),
                             topics=("Procedury konkursowe", "Priorytetowe zadania publiczne"))


def count(app, model) -> int:
    with app.extensions["uwagi"].db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def post(app, consultation_id: str, filename: str, content: bytes, **headers: str):
    return app.test_client().post(
        f"/intake/api/v1/consultations/{consultation_id}/imports",
        data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {TOKEN}", **headers})


def test_the_example_file_imports_with_one_event_per_submission(app):
    consultation = consultation_of_2024(app)
    response = post(app, consultation.id, "bulk-import.csv", EXAMPLE.read_bytes())
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert (result["rows"], result["submissions"], result["comments"]) == (4, 3, 4)
    assert result["references"][0].startswith("UW/2024/")
    with app.extensions["uwagi"].db.transaction() as session:
        submissions = session.scalars(select(Submission).order_by(Submission.reference)).all()
        assert [s.channel for s in submissions] == ["letter", "duty_hours", "letter"]
        assert submissions[0].received_at == datetime(2024, 10, 15, tzinfo=WARSAW)
        assert submissions[0].organization == "Stowarzyszenie Przykładowe" and submissions[0].publish_consent
        proposals = set(session.scalars(select(Comment.proposal)))
        assert "=Zwiększyć pulę środków o 10%" in proposals
        events = session.scalars(select(Outbox).where(Outbox.event_type == "submission.received")).all()
        assert len(events) == 3
        by_reference = {e.envelope["data"]["reference"]: e.envelope["data"] for e in events}
        assert sorted(by_reference) == [s.reference for s in submissions]
        assert [len(by_reference[s.reference]["comments"]) for s in submissions] == [2, 1, 1]
        (record,) = session.scalars(select(SubmissionImport)).all()
        assert record.imported_by and record.comments == 4 and len(record.sha256) == 64
        # Provenance, as for a letter entered by hand: who imported it and when, and a letter's stamp date.
        assert {s.entered_by for s in submissions} == {record.imported_by}
        assert [s.postmarked_on for s in submissions] == [date(2024, 10, 15), None, date(2024, 10, 16)]
        provenance = [by_reference[s.reference]["provenance"] for s in submissions]
        assert [p["postmarked_on"] for p in provenance] == ["2024-10-15", None, "2024-10-16"]
        assert all(p["entered_by"] == record.imported_by and p["entered_at"] for p in provenance)


def test_a_file_with_errors_imports_nothing_and_lists_them(app):
    consultation = consultation_of_2024(app)
    content = EXAMPLE.read_text() + ",Bez Propozycji,,,,§ 1,,,,,letter,2024-10-15\n,X,,zły-adres,,§ 2,,p,,,fax,\n"
    response = post(app, consultation.id, "bad.csv", content.encode())
    assert response.status_code == 422
    body = response.get_json()
    assert {(e["row"], e["column"], e["code"]) for e in body["errors"]["rows"]} == {
        (6, "proposal", "required"), (7, "email", "email"), (7, "channel", "channel")}
    assert count(app, Submission) == 0 and count(app, Outbox) == 1  # only the consultation's announcement


def test_late_stamps_follow_the_late_policy(app):
    consultation = open_consultation(app, opens_at=datetime(2024, 10, 1, tzinfo=WARSAW),
                                     closes_at=domain.end_of_day(date(2024, 10, 21), WARSAW),
                                     late_policy=domain.LatePolicy.REFUSE)
    rows = "name,section,proposal,received_on\nJan,§ 1,p,2024-10-21\nEwa,§ 2,p,2024-10-22\nOla,§ 3,p,2024-09-30\n"
    response = post(app, consultation.id, "late.csv", rows.encode())
    assert response.status_code == 422
    assert {(e["row"], e["code"]) for e in response.get_json()["errors"]["rows"]} == {(3, "late"), (4, "not_yet_open")}


def test_xlsx_upload_raw_body_and_idempotency_key(app):
    consultation = consultation_of_2024(app)
    content = xlsx([["name", "section", "proposal", "channel"], ["Jan", "§ 1", "p", "duty_hours"]])
    client = app.test_client()
    url = f"/intake/api/v1/consultations/{consultation.id}/imports?filename=dyzur.xlsx"
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "import-1",
               "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    first = client.post(url, data=content, headers=headers)
    again = client.post(url, data=content, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and count(app, Submission) == 1


def test_the_import_is_for_coordinators_and_needs_a_file(app):
    consultation = consultation_of_2024(app)
    url = f"/intake/api/v1/consultations/{consultation.id}/imports"
    assert app.test_client().post(url, data=b"name\n", content_type="text/csv").status_code == 401
    signer = app.extensions["uwagi"].signer
    reviewer = {"Authorization": f"Bearer {signer.issue('u-9', 'r@um.example', 'reviewer')}"}
    assert app.test_client().post(url, data=b"name\n", content_type="text/csv", headers=reviewer).status_code == 403
    nothing = app.test_client().post(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert nothing.status_code == 422 and nothing.get_json()["errors"] == {"file": ["required"]}
    missing = post(app, "no-such", "x.csv", EXAMPLE.read_bytes())
    assert missing.status_code == 404


# --- the console page --------------------------------------------------------------


def test_the_console_page_imports_a_file_and_lists_the_problems_in_polish(app):
    consultation = consultation_of_2024(app)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = f"/intake/staff/consultations/{consultation.id}/import"
    page = client.get(url, headers=auth)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Import uwag z pliku" in html and 'name="csrf_token"' in html and 'for="f-file"' in html
    detail = client.get(f"/intake/staff/consultations/{consultation.id}", headers=auth).get_data(as_text=True)
    assert url in detail

    bad = EXAMPLE.read_text() + ",X,,zły-adres,,§ 2,,p,,,letter,\n"
    refused = client.post(url, headers=auth, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(bad.encode()), "bad.csv")})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Nic nie zostało zaimportowane" in html and "To nie jest adres e-mail." in html
    assert '<th scope="col">Wiersz pliku</th>' in html and "<td>6</td>" in html
    assert "<td>Adres e-mail <span class=\"hint\">(email)</span></td>" in html  # the column as the file may name it
    assert 'aria-invalid="true"' in html and 'aria-describedby="f-file-hint file-problem"' in html
    assert count(app, Submission) == 0

    not_utf8 = client.post(url, headers=auth, content_type="multipart/form-data",
                           data={"file": (io.BytesIO("Imię i nazwisko;Część dokumentu;Propozycja zmiany\nŁucja;§ 1;x\n"
                                                     .encode("cp1250")), "excel.csv")})
    assert not_utf8.status_code == 422 and "CSV UTF-8" in not_utf8.get_data(as_text=True)
    assert "not UTF-8" not in not_utf8.get_data(as_text=True)  # the page is Polish, not the API's English

    empty = client.post(url, headers=auth, content_type="multipart/form-data", data={})
    assert empty.status_code == 422 and "Prosimy wybrać plik CSV lub XLSX." in empty.get_data(as_text=True)

    done = client.post(url, headers=auth, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(EXAMPLE.read_bytes()), "bulk-import.csv")})
    # Post/redirect/get: reloading the result shows it again and imports nothing a second time.
    assert done.status_code == 303 and "done=" in done.headers["Location"]
    for _ in range(2):
        html = client.get(done.headers["Location"], headers=auth).get_data(as_text=True)
        assert "Zaimportowano" in html and "UW/2024/000001 – UW/2024/000003" in html and "bulk-import.csv" in html
    assert count(app, Submission) == 3

    # The same file again is most likely a mistake: the page says when it came in and imports it only when asked.
    again = client.post(url, headers=auth, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(EXAMPLE.read_bytes()), "bulk-import (1).csv")})
    html = again.get_data(as_text=True)
    assert again.status_code == 409 and "Ten plik został już zaimportowany" in html and "UW/2024/000001" in html
    assert 'name="import_again"' in html and count(app, Submission) == 3
    confirmed = client.post(url, headers=auth, content_type="multipart/form-data", data={
        "file": (io.BytesIO(EXAMPLE.read_bytes()), "bulk-import (1).csv"), "import_again": "yes"})
    assert confirmed.status_code == 303 and count(app, Submission) == 6

    english = client.get(url + "?lang=en", headers=auth).get_data(as_text=True)
    assert "Import comments from a file" in english


def test_the_file_to_fill_in_has_the_polish_headers_the_import_reads(app):
    consultation = consultation_of_2024(app)
    response = app.test_client().get(f"/intake/staff/consultations/{consultation.id}/import/template.csv",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = read_table("wzor.csv", response.data)
    assert table[0][:3] == ["Klucz zgłoszenia", "Imię i nazwisko", "Organizacja"]
    plan = plan_import(table, channels=("letter",))
    assert not plan.errors and plan.submissions[0].name == "Jan Kowalski" and plan.submissions[0].channel == "letter"
