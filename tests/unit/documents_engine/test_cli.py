"""`uwagi doc …` keeps its output shapes and never prints a traceback."""

from __future__ import annotations

import json

from docx_fixtures import repack
from services.documents.engine.cli import main


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
