"""`uwagi doc …` keeps its output shapes and never prints a traceback."""

from __future__ import annotations

import json

from docx_fixtures import repack
from services.documents.engine.cli import main
from services.documents.engine.ooxml import read_package
from services.documents.engine.parse import parse_docx


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["doc", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_accepts_a_safe_docx(capsys, write_file, auto_draft):
    code, out, err = run(capsys, "check", write_file("draft.docx", auto_draft))
    assert code == 0 and "ok" in out and err == ""


def test_check_refuses_with_the_reason_on_stderr(capsys, write_file, auto_draft):
    hostile = repack(auto_draft, add={"word/vbaProject.bin": b"macro"})
    code, out, err = run(capsys, "check", write_file("draft.docx", hostile))
    assert code == 1 and out == ""
    assert err.startswith("error: macros:") and "Traceback" not in err


def test_check_of_a_missing_file_is_a_clear_error(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path / "nope.docx"))
    assert code == 1 and "No such file" in err and "Traceback" not in err


def test_parse_prints_units_in_document_order(capsys, write_file, auto_draft):
    code, out, _ = run(capsys, "parse", write_file("draft.docx", auto_draft))
    units = json.loads(out)["units"]
    assert code == 0
    assert set(units[0]) == {"id", "label", "kind", "parent", "text"}
    assert [unit["label"] for unit in units[2:5]] == ["Rozdział I", "§ 1", "§ 2"]


def test_unknown_command_is_a_usage_error(capsys):
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in err


def test_anchor_prints_the_fixed_shape(capsys, write_file, auto_draft):
    code, out, _ = run(capsys, "anchor", write_file("draft.docx", auto_draft), "par. 5 ust 2",
                       "--quote", "Współpraca finansowa obejmuje")
    result = json.loads(out)
    assert code == 0 and set(result) == {"unit", "label", "confidence", "candidates"}
    assert result["label"] == "§ 5 ust. 2"


def test_apply_writes_clean_and_tracked_documents(capsys, write_file, auto_draft, tmp_path):
    changes = [{"unit": "§ 4", "op": "replace", "text": "Nowe zasady.", "comment_refs": ["K-1"]},
               {"unit": "§ 2 pkt 2", "op": "delete", "comment_refs": ["K-2"]}]
    code, out, err = run(capsys, "apply", write_file("draft.docx", auto_draft),
                         write_file("changes.json", json.dumps(changes)), "--out", str(tmp_path / "new.docx"),
                         "--tracked", str(tmp_path / "tracked.docx"), "--date", "2024-11-04T12:00:00Z")
    assert code == 0, err
    new_units = parse_docx((tmp_path / "new.docx").read_bytes())
    assert new_units.find("§ 4").text == "Nowe zasady."
    assert b"<w:del " in read_package((tmp_path / "tracked.docx").read_bytes())["word/document.xml"]


def test_apply_refuses_a_conflict_naming_the_changes(capsys, write_file, auto_draft, tmp_path):
    changes = [{"unit": "§ 4", "op": "replace", "text": "A", "comment_refs": ["K-1"]},
               {"unit": "§ 4", "op": "delete", "comment_refs": ["K-2"]}]
    code, _, err = run(capsys, "apply", write_file("draft.docx", auto_draft),
                       write_file("changes.json", json.dumps(changes)), "--out", str(tmp_path / "n.docx"),
                       "--tracked", str(tmp_path / "t.docx"))
    assert code == 1 and "conflict" in err and "K-1" in err and "K-2" in err
    assert not (tmp_path / "n.docx").exists()


def test_apply_refuses_an_unknown_unit(capsys, write_file, auto_draft, tmp_path):
    changes = [{"unit": "§ 404", "op": "delete", "comment_refs": ["K-3"]}]
    code, _, err = run(capsys, "apply", write_file("draft.docx", auto_draft),
                       write_file("changes.json", json.dumps(changes)), "--out", str(tmp_path / "n.docx"),
                       "--tracked", str(tmp_path / "t.docx"))
    assert code == 1 and "unknown_unit" in err and "§ 404" in err


def test_report_writes_docx_xlsx_and_csv(capsys, write_file, tmp_path):
    from test_report import report_json

    code, _, err = run(capsys, "report", write_file("report.json", json.dumps(report_json())),
                       "--out", str(tmp_path / "r.docx"), "--xlsx", str(tmp_path / "r.xlsx"),
                       "--csv", str(tmp_path / "r.csv"), "--lang", "en", "--internal")
    assert code == 0, err
    assert b"Jan Przyk" in (tmp_path / "r.csv").read_bytes()
    assert (tmp_path / "r.xlsx").read_bytes()[:2] == b"PK" and (tmp_path / "r.docx").read_bytes()[:2] == b"PK"


def test_report_with_bad_json_is_a_clear_error(capsys, write_file, tmp_path):
    code, _, err = run(capsys, "report", write_file("report.json", "{not json"), "--out", str(tmp_path / "r.docx"))
    assert code == 1 and err.startswith("error:") and "Traceback" not in err
