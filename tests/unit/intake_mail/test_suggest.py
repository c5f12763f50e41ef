"""Rows suggested from a mail's text for staff to check: only where the text names a provision."""

from __future__ import annotations

import pytest

from services.intake.mail.parse import parse_mail
from services.intake.mail.suggest import suggested_rows
from tests.unit.intake_mail.conftest import CORPUS

TEXT_1 = ("tworzenie warunków do współpracy między organizacjami pozarządowymi, sieciowania, nawiązywania relacji "
          "międzysektorowych organizacji z samorządem, biznesem, jednostkami naukowymi i podmiotami działającymi w ich "
          "otoczeniu.")
WHY_1 = "zwiększanie świadomości w zakresie specyfiki działania organizacji pozarządowych i form współpracy z nimi."


@pytest.mark.parametrize("mail,expected", [
    # the corpus's mails that wait for staff, each read by hand: the provision, the proposal as written (greeting
    # left out), the reason given after "Uzasadnienie:" in a paragraph of its own
    ("outlook-reply-cp1250-qp.eml", [("§ 5 ust. 2", f"w § 5 ust. 2 proponuję dopisać: {TEXT_1}", WHY_1)]),
    ("apple-mail-reply-pl-attribution.eml", [("§ 5 ust. 2", f"w § 5 ust. 2 proponuję dopisać: {TEXT_1}", WHY_1)]),
    ("outlook-pd-forward-body-only.eml", [("§ 5 ust. 2", f"proponuję w § 5 ust. 2 dopisać: {TEXT_1}", WHY_1)]),
    ("outlook-web-reply-body-only.eml", [("Rozdział 4 pkt 3", "proponuję dopisać w Rozdziale 4 pkt 3: rozwijanie "
                                          "kultury współpracy poprzez dialog oraz wzmacnianie zaufania między gminą i "
                                          "organizacjami pozarządowymi oraz wzmacnianie dialogu międzysektorowego.",
                                          "")]),
    ("php-mail-form-declared-iso-8859-1.eml", [("§ 4", "w imieniu stowarzyszenia zgłaszam uwagę do projektu programu "
                                                "współpracy: proponuję dodać w § 4 zadanie „rozwijanie kultury "
                                                "współpracy poprzez dialog oraz wzmacnianie zaufania między gminą i "
                                                "organizacjami pozarządowymi oraz wzmacnianie dialogu "
                                                "międzysektorowego”.",
                                                "przeciwdziałanie dyskryminacji i wykluczeniu społecznemu.")]),
    # no provision named: nothing suggested, staff start from empty rows
    ("ios-outlook-body-only.eml", []),
    ("netscape-rfc2047-scan.eml", []),
    ("gmx-photo-of-form-pasted-inline.eml", []),
])
def test_rows_suggested_from_the_corpus_mails_that_wait_for_staff(mail, expected):
    body = parse_mail((CORPUS / mail).read_bytes()).body_text
    assert [(row.section, row.proposal, row.justification) for row in suggested_rows(body)] == expected


def test_a_numbered_list_with_jest_and_powinno_byc_gives_one_row_per_item():
    body = ("Uwagi Stowarzyszenia:\n"
            "1. § 3 ust. 1 – Jest: „Program obejmuje” Powinno być: „Program obejmuje także sport”. "
            "Uzasadnienie: sport jest ważny.\n"
            "2. Rozdz. IV pkt 2 – proponujemy skreślić.\n"
            "- art. 5 ust. 4 pkt 1 lit. a – dopisać konsultacje.")
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in suggested_rows(body)] == [
        ("§ 3 ust. 1", "„Program obejmuje”", "„Program obejmuje także sport”.", "sport jest ważny."),
        ("Rozdział IV pkt 2", "", "Rozdz. IV pkt 2 – proponujemy skreślić.", ""),
        ("art. 5 ust. 4 pkt 1 lit. a", "", "art. 5 ust. 4 pkt 1 lit. a – dopisać konsultacje.", "")]


def test_a_greeting_is_left_out_but_a_sentence_that_starts_like_one_is_kept_whole():
    assert suggested_rows("Szanowni Państwo,\n\nw § 2 pkt 1 dopisać seniorów.")[0].proposal == \
        "w § 2 pkt 1 dopisać seniorów."
    assert suggested_rows("Witam serdecznie wszystkich w § 2 pkt 1 dopisać seniorów.")[0].proposal == \
        "Witam serdecznie wszystkich w § 2 pkt 1 dopisać seniorów."


def test_a_sentence_that_goes_on_to_another_provision_gives_a_row_for_each_and_the_reason_to_the_last():
    body = ("Dzień dobry,\n\nw § 5 ust. 2 proponuję ogłaszać konkursy co kwartał, a w § 9 dodać sprawozdanie z "
            "konsultacji; w Rozdziale 4 dopisać wolontariat. Uzasadnienie: więcej organizacji skorzysta.")
    assert [(r.section, r.proposal, r.justification) for r in suggested_rows(body)] == [
        ("§ 5 ust. 2", "w § 5 ust. 2 proponuję ogłaszać konkursy co kwartał", ""),
        ("§ 9", "w § 9 dodać sprawozdanie z konsultacji", ""),
        ("Rozdział 4", "w Rozdziale 4 dopisać wolontariat.", "więcej organizacji skorzysta.")]


def test_a_provision_named_inside_a_proposal_does_not_cut_it():
    [row] = suggested_rows("w § 5 proponuję dopisać odwołanie do § 9 oraz do art. 5 ustawy.")
    assert (row.section, row.proposal) == ("§ 5", "w § 5 proponuję dopisać odwołanie do § 9 oraz do art. 5 ustawy.")


def test_an_html_list_of_comments_gives_a_row_per_item():
    """Gmail and Outlook write a numbered list as <ol><li> (an item's text sometimes in a <p> of its own); the text
    keeps the numbers, so each item is a row even when it does not end with a full stop."""
    from services.intake.mail.parse import html_to_text

    text = html_to_text("<div>Dzień dobry, moje uwagi:</div><ol><li>w § 5 ust. 2 dopisać konkursy co kwartał</li>"
                        "<li><p class=MsoNormal>w § 9 dodać sprawozdanie z konsultacji<o:p></o:p></p></li></ol>")
    assert [(r.section, r.proposal) for r in suggested_rows(text)] == [
        ("§ 5 ust. 2", "w § 5 ust. 2 dopisać konkursy co kwartał"), ("§ 9", "w § 9 dodać sprawozdanie z konsultacji")]



@pytest.mark.parametrize("heading,expected", [
    ("Kujawsko-Pomorska Federacja Organizacji Pozarządowych\n\nToruń, 8 września 2011 r.",
     "Kujawsko-Pomorska Federacja Organizacji Pozarządowych"),
    ("Toruń, 21.10.2024\n\nStowarzyszenie Przyjaciół Torunia\nul. Długa 1", "Stowarzyszenie Przyjaciół Torunia"),
    ("Uczniowski Klub Sportowy „Orlik”\n\nUwagi do projektu", "Uczniowski Klub Sportowy „Orlik”"),
    ("Szanowni Państwo,\n\nw § 5 ust. 2 proponujemy …", ""),  # no heading names an organisation
    ("Jan Kowalski\n\nUwagi do projektu programu", ""),
])
def test_the_organisation_a_letters_heading_names(heading, expected):
    from services.intake.mail.suggest import suggested_organisation

    assert suggested_organisation(heading) == expected


def test_the_forms_labels_typed_as_paragraphs_give_the_row_with_its_current_text():
    """The form's headings copied into a mail or a letter, each with its answer: "Obecny zapis: …" in a paragraph
    of its own was dropped, so the row had no current text."""
    body = ("Imię i nazwisko: Jan Kowalski\n\nCzęść dokumentu, której dotyczy uwaga: § 5 ust. 2\n\n"
            "Obecny zapis: Współpraca ma charakter finansowy.\n\n"
            "Proponowana zmiana: Współpraca ma charakter finansowy i pozafinansowy.\n\nUzasadnienie: Pełniejszy opis.")
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in suggested_rows(body)] == [
        ("§ 5 ust. 2", "Współpraca ma charakter finansowy.", "Współpraca ma charakter finansowy i pozafinansowy.",
         "Pełniejszy opis.")]
    lines = body.replace("\n\n", "\n").replace("Imię i nazwisko: Jan Kowalski\n", "Dzień dobry,\n\n")
    assert [(r.section, r.current_text) for r in suggested_rows(lines + "\n\n" + lines.split("\n\n", 1)[1]
                                                                .replace("§ 5 ust. 2", "§ 7"))] == [
        ("§ 5 ust. 2", "Współpraca ma charakter finansowy."), ("§ 7", "Współpraca ma charakter finansowy.")]
