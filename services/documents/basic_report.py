"""A plain report renderer (table of comments and positions) used until the engine's report lands."""

from __future__ import annotations

import io

from docx import Document

DECISION_WORDS = {
    "pl": {"accepted": "uwzględniona", "partially_accepted": "uwzględniona częściowo",
           "rejected": "nieuwzględniona", "not_considered": "nierozpatrzona", "": "bez decyzji"},
    "en": {"accepted": "accepted", "partially_accepted": "partially accepted", "rejected": "rejected",
           "not_considered": "not considered", "": "undecided"},
}
HEADERS = {
    "pl": ["Lp.", "Zgłaszający", "Część dokumentu", "Proponowana zmiana", "Uzasadnienie", "Rozstrzygnięcie", "Stanowisko"],
    "en": ["No.", "Submitter", "Part of the document", "Proposed change", "Justification", "Decision", "Position"],
}


def render_basic_report(data: dict, *, language: str = "pl", internal: bool = False) -> bytes:
    document = Document()
    document.add_heading(data["consultation"]["title"], level=1)
    table = document.add_table(rows=1, cols=len(HEADERS[language]))
    for cell, text in zip(table.rows[0].cells, HEADERS[language]):
        cell.text = text
    private = "Osoba prywatna" if language == "pl" else "Private individual"
    for number, comment in enumerate(data["comments"], start=1):
        submitter = comment["submitter"]
        who = submitter["organization"] or (submitter["name"] if submitter["publish_consent"] or internal else private)
        values = [str(number), who, comment["unit_label"], comment["proposal"], comment["justification"],
                  DECISION_WORDS[language].get(comment["decision"], comment["decision"]), comment["position"]]
        for cell, text in zip(table.add_row().cells, values):
            cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
