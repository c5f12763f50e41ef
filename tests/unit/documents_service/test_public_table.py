"""The published table of comments as a page: read from the published CSV as it was published, searched, paged."""

from __future__ import annotations

from services.documents.public_table import DECISION, POSITION, PROPOSAL, REFERENCE, parse_table, select_rows

HEADER = ["Lp.", "Numer zgłoszenia", "Zgłaszający", "Część dokumentu", "Rozdział", "Obecny zapis",
          "Proponowana zmiana", "Uzasadnienie uwagi", "Forma zgłoszenia", "Temat", "Rozstrzygnięcie",
          "Stanowisko Miasta", "Przyjęte brzmienie"]
# As engine.report.build_report_csv writes it: BOM, CRLF, quoted cells with commas, quotes and line breaks, and a
# leading quote before a cell a spreadsheet would take for a formula.
CSV = ("\ufeff" + ",".join(HEADER) + "\r\n"
       '1,UW/2024/000017,Fundacja „Pomocna Dłoń”,§ 5 ust. 2,Rozdział II,,"\'- dodać pkt 3: ""wolontariat""",'
       '"Bo tak, i już.\nDruga linia.",formularz internetowy,finansowanie,Uwzględniona,"Uwaga zasadna.",'
       '"\'=brzmienie"\r\n'
       '2,UW/2024/000018,osoba fizyczna,§ 7,Rozdział III,,Skreślić § 7.,,pismo,,Nieuwzględniona,'
       '"Przepis wymagany ustawą.",\r\n'
       '3,UW/2024/000018,osoba fizyczna,§ 8\r\n').encode("utf-8")


def test_the_published_csv_reads_back_as_it_was_written():
    header, rows = parse_table(CSV)
    assert list(header) == HEADER and len(rows) == 3
    first = rows[0]
    assert first[REFERENCE] == "UW/2024/000017" and first[PROPOSAL] == '- dodać pkt 3: "wolontariat"'
    assert first[7] == "Bo tak, i już.\nDruga linia." and first[12] == "=brzmienie"
    assert rows[2][3] == "§ 8" and rows[2][DECISION] == "" and len(rows[2]) == 13  # a short row is padded


def test_a_search_needs_every_word_in_any_case_and_a_decision_narrows_it():
    _header, rows = parse_table(CSV)
    assert [r[0] for r in select_rows(rows, query="pomocna WOLONTARIAT")] == ["1"]
    assert [r[0] for r in select_rows(rows, query="UW/2024/000018")] == ["2", "3"]
    assert [r[0] for r in select_rows(rows, query="uw/2024/000018", decision="Nieuwzględniona")] == ["2"]
    assert select_rows(rows, query="pomocna ustawą") == []
    assert len(select_rows(rows)) == 3 and select_rows(rows, decision="Uwzględniona")[0][POSITION] == "Uwaga zasadna."


def test_a_neutralised_cell_reads_back_as_written_and_a_plain_quote_is_kept():
    from services.common.spreadsheets import spreadsheet_safe, spreadsheet_unsafe

    for text in ("=SUMA(A1)", "- dodać", "+48 56 611 88 88", "@firma", "'cytat'", "zwykły tekst", ""):
        assert spreadsheet_unsafe(spreadsheet_safe(text)) == text
