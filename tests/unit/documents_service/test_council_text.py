"""The paragraphs for the justification of the resolution the City Council gets, from the report's data."""

from __future__ import annotations

from services.documents.council import Published, council_paragraphs
from services.documents.engine.report import ReportData


def report(comments: list[dict], **consultation) -> ReportData:
    return ReportData.from_json({"consultation": {
        "title": "Wspólnie o programie współpracy z NGO na 2025 r.", "stage": "II etap", "start": "2024-10-01",
        "end": "2024-10-21", "organizer": "Wydział Komunikacji Społecznej i Informacji",
        "legal_basis": "uchwała Rady Miasta Torunia w sprawie konsultacji",
        "channels": ["web", "email", "letter", "duty_hours"],
        "duty_days": [{"date": "2024-10-08", "from": "09:00", "to": "17:00", "place": "sala 34"},
                      {"date": "2024-10-14", "from": "09:00", "to": "17:00", "place": "sala 34"}],
        **consultation}, "comments": comments})


def comment(ref: str, decision: str) -> dict:
    return {"ref": ref, "submitter": {"name": "Anna Nowak", "organization": "", "kind": "person",
                                      "publish_consent": False},
            "unit_label": "§ 5", "comment": "", "proposal": "Zmienić.", "justification": "", "channel": "web",
            "topic": "", "decision": decision, "position": "Stanowisko."}


PUBLISHED = Published("2024-11-12", "https://uwagi.torun.pl/documents/files/a1/raport.docx", 2)


def test_the_toruń_consultation_in_the_words_of_a_justification():
    data = report([comment("UW/2024/000001#1", "accepted"), comment("UW/2024/000001#2", "rejected"),
                   comment("UW/2024/000002#1", "partially_accepted"), comment("UW/2024/000003#1", "rejected"),
                   comment("UW/2024/000004#1", "not_considered")])
    assert council_paragraphs(data, PUBLISHED) == [
        "Konsultacje „Wspólnie o programie współpracy z NGO na 2025 r.” (II etap) przeprowadzono od 1 października "
        "2024 r. do 21 października 2024 r.; prowadził je Wydział Komunikacji Społecznej i Informacji, na "
        "podstawie: uchwała Rady Miasta Torunia w sprawie konsultacji.",
        "Uwagi można było zgłaszać: przez formularz internetowy, pocztą elektroniczną, listownie oraz osobiście "
        "podczas dyżurów konsultacyjnych (8 października 2024 r., 14 października 2024 r.).",
        "Liczba zgłoszeń: 4; liczba uwag: 5, w tym: uwzględnione – 1; uwzględnione częściowo – 1; "
        "nieuwzględnione – 2; nierozpatrzone – 1.",
        "Uwzględnienie uwag spowodowało zmiany w projekcie: w załączeniu dokument po konsultacjach (wersja 2) oraz "
        "ten sam dokument z zaznaczonymi zmianami.",
        "Sprawozdanie z konsultacji, zawierające wszystkie uwagi wraz ze stanowiskiem Miasta, opublikowano "
        "12 listopada 2024 r. pod adresem: https://uwagi.torun.pl/documents/files/a1/raport.docx",
    ]


def test_no_comments_no_change_and_english():
    data = report([], stage="", organizer="", legal_basis="", channels=["web"], duty_days=[])
    unchanged = Published("2024-11-12", "https://uwagi.torun.pl/r.docx", None)
    assert council_paragraphs(data, unchanged) == [
        "Konsultacje „Wspólnie o programie współpracy z NGO na 2025 r.” przeprowadzono od 1 października 2024 r. "
        "do 21 października 2024 r.",  # one full stop after the abbreviation
        "Uwagi można było zgłaszać: przez formularz internetowy.",
        "W konsultacjach nie zgłoszono uwag.",
        "Wyniki konsultacji nie spowodowały zmian w projekcie.",
        "Sprawozdanie z konsultacji, zawierające wszystkie uwagi wraz ze stanowiskiem Miasta, opublikowano "
        "12 listopada 2024 r. pod adresem: https://uwagi.torun.pl/r.docx",
    ]
    english = council_paragraphs(report([comment("UW/2024/000001#1", "accepted")], channels=["email", "letter"]),
                                 PUBLISHED, "en")
    assert english[0].startswith("The consultation “Wspólnie o programie współpracy z NGO na 2025 r.” (II etap) ran "
                                 "from 1 October 2024 to 21 October 2024; it was run by")
    assert english[1] == "Comments could be sent by e-mail and by letter."
    assert english[2] == ("Submissions: 1; comments: 1, of which: accepted – 1; partially accepted – 0; rejected – 0; "
                          "not considered – 0.")
