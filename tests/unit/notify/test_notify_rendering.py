"""Templates rendered in Polish and English, and the MIME message built from them."""

from __future__ import annotations

import email
from datetime import datetime, timezone
from email import policy
from zoneinfo import ZoneInfo

import pytest

from services.notify import domain
from services.notify.domain import Template
from services.notify.rendering import Renderer, build_mail, build_message
from services.notify.senders import OutgoingMail

RECEIPT = {
    "recipient_name": "Zofia Żółkiewska",
    "reference": "UW/2024/000123",
    "consultation_title": "Wspólnie o programie współpracy z NGO na 2025 r. – II etap",
    "status_url": "http://127.0.0.1:8000/intake/status?reference=UW/2024/000123&token=t0k3n",
    "late": False,
    "received_at": "2024-10-08T07:30:00+00:00",
    "comments": [
        {"number": 1, "section": "§ 3 ust. 1", "current_text": "Program obowiązuje w 2025 r.",
         "proposal": "Wydłużyć okres programu do 2026 r.", "justification": "Ciągłość działań"},
        {"number": 2, "section": "§ 7", "current_text": "", "proposal": "Dodać <script>alert(1)</script> konsultacje",
         "justification": ""},
    ],
}

DECISION = {
    "recipient_name": "Zofia Żółkiewska", "reference": "UW/2024/000123",
    "consultation_title": "Wspólnie o programie współpracy z NGO na 2025 r. – II etap",
    "comment_number": 1, "section": "§ 3 ust. 1", "proposal": "Wydłużyć okres programu do 2026 r.",
    "decision": "partially_accepted", "justification": "Częściowo zgodne z ustawą.",
    "final_text": "Program obowiązuje w latach 2025–2026.", "revision": 1,
}

BOOKING = {"name": "Jan Kowalski", "booking_id": "b-42", "slot_starts_at": "2024-10-08T07:00:00+00:00",
           "slot_ends_at": "2024-10-08T07:30:00+00:00", "place": "pokój 34"}


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(timezone=ZoneInfo("Europe/Warsaw"))


def test_the_polish_receipt_carries_the_reference_title_status_link_and_every_comment(renderer):
    mail = renderer.render(Template.SUBMISSION_RECEIPT, "pl", RECEIPT)
    assert mail.subject == ("Potwierdzenie złożenia uwag UW/2024/000123 – "
                            "Wspólnie o programie współpracy z NGO na 2025 r. – II etap")
    for body in (mail.text, mail.html):
        assert "UW/2024/000123" in body
        assert "Wspólnie o programie współpracy z NGO na 2025 r. – II etap" in body
        assert "Ciągłość działań" in body and "§ 7" in body and "Program obowiązuje w 2025 r." in body
        assert "Wydłużyć okres programu do 2026 r." in body
        assert "po terminie" not in body
    assert RECEIPT["status_url"] in mail.text
    assert 'href="http://127.0.0.1:8000/intake/status?reference=UW/2024/000123&amp;token=t0k3n"' in mail.html
    # 07:30 UTC is 09:30 in Warsaw in October (CEST).
    assert "8 października 2024 r., godz. 9:30" in mail.text


def test_a_late_receipt_says_that_the_comments_may_not_be_considered(renderer):
    polish = renderer.render(Template.SUBMISSION_RECEIPT, "pl", {**RECEIPT, "late": True})
    english = renderer.render(Template.SUBMISSION_RECEIPT, "en", {**RECEIPT, "late": True})
    assert "wpłynęły po terminie konsultacji" in polish.text and "po terminie" in polish.html
    assert "after the consultation deadline" in english.text and "after the consultation deadline" in english.html


def test_the_english_receipt_is_in_english(renderer):
    mail = renderer.render(Template.SUBMISSION_RECEIPT, "en", RECEIPT)
    assert mail.subject.startswith("Your comments were received: UW/2024/000123")
    assert "A copy of the comments" in mail.text and "Proposed change" in mail.html
    assert "8 October 2024, 9:30" in mail.text
    assert "Dzień dobry" not in mail.text


@pytest.mark.parametrize(("language", "subject", "says", "copy"), [
    ("pl", "Potwierdzenie otrzymania wiadomości UW/2024/000123 – ",
     "pracownicy urzędu przepiszą do rejestru uwag", "Kopia zgłoszonych uwag"),
    ("en", "Your message was received: UW/2024/000123 – ",
     "will copy the comments in the message and its attachments into the register", "A copy of the comments"),
])
def test_the_receipt_of_an_email_to_transcribe_says_staff_will_copy_it_and_echoes_no_placeholder(
        renderer, language, subject, says, copy):
    # The one comment of such a submission is the mail's own text (or "[Uwagi w załącznikach, do przepisania: …]"),
    # which is no comment to send back as one
    placeholder = {"number": 1, "section": "", "current_text": "", "justification": "",
                   "proposal": "[Uwagi w załącznikach, do przepisania: skan uwag.pdf]"}
    mail = renderer.render(Template.SUBMISSION_RECEIPT, language,
                           {**RECEIPT, "needs_review": True, "late": True, "comments": [placeholder]})
    assert mail.subject.startswith(subject)
    for body in (mail.text, mail.html):
        assert says in body and "UW/2024/000123" in body and "do przepisania" not in body and copy not in body
        assert ("wiadomość wpłynęła po terminie" if language == "pl" else "the message arrived after") in body
    assert 'href="http://127.0.0.1:8000/intake/status?reference=UW/2024/000123&amp;token=t0k3n"' in mail.html


def test_submitters_text_is_escaped_in_html_but_verbatim_in_plain_text(renderer):
    mail = renderer.render(Template.SUBMISSION_RECEIPT, "pl", RECEIPT)
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert "<script>alert(1)</script>" in mail.text


@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_decision_mail_states_the_decision_in_words_with_justification_and_final_text(renderer, language):
    context = {**DECISION, "decision_label": domain.decision_in_words("partially_accepted", language)}
    mail = renderer.render(Template.COMMENT_DECISION, language, context)
    expected = "uwzględniona częściowo" if language == "pl" else "partially accepted"
    for body in (mail.text, mail.html):
        assert expected in body
        assert "Częściowo zgodne z ustawą." in body
        assert "Program obowiązuje w latach 2025–2026." in body
    assert "UW/2024/000123" in mail.subject


def test_a_revised_decision_says_it_replaces_the_earlier_one(renderer):
    context = {**DECISION, "decision_label": "nieuwzględniona", "revision": 2}
    assert "zastępuje wcześniej przesłaną" in renderer.render(Template.COMMENT_DECISION, "pl", context).text


@pytest.mark.parametrize("template", [Template.BOOKING_CONFIRMED, Template.BOOKING_CANCELLED])
@pytest.mark.parametrize("language", ["pl", "en"])
def test_booking_mails_give_the_local_time_and_place(renderer, template, language):
    mail = renderer.render(template, language, BOOKING)
    assert "9:00–9:30" in mail.text and "pokój 34" in mail.text and "b-42" in mail.html


def test_every_template_has_all_three_parts_in_both_languages(renderer):
    contexts = {Template.SUBMISSION_RECEIPT: RECEIPT, Template.COMMENT_DECISION: {**DECISION, "decision_label": "x"},
                Template.BOOKING_CONFIRMED: BOOKING, Template.BOOKING_CANCELLED: BOOKING,
                Template.BOOKING_REMINDER: BOOKING}
    for template, context in contexts.items():
        for language in domain.LANGUAGES:
            mail = renderer.render(template, language, context)
            assert mail.subject and "\n" not in mail.subject
            assert mail.text.strip() and mail.html.lstrip().startswith("<!DOCTYPE html>")
            assert f'<html lang="{language}">' in mail.html


def test_a_missing_context_value_fails_loudly_instead_of_leaving_a_gap(renderer):
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        renderer.render(Template.SUBMISSION_RECEIPT, "pl", {k: v for k, v in RECEIPT.items() if k != "reference"})


def test_the_message_is_multipart_alternative_with_utf8_headers_that_survive_the_wire(renderer):
    mail = renderer.render(Template.SUBMISSION_RECEIPT, "pl", RECEIPT)
    message = build_message(mail, sender="konsultacje@um.torun.pl", recipient="zofia@example.org",
                            message_id="<abc123@notify.uwagi>")
    wire = message.as_bytes()
    wire.decode("ascii")  # every header is RFC 2047-encoded; bodies are transfer-encoded
    parsed = email.message_from_bytes(wire, policy=policy.default)
    assert parsed["Subject"] == mail.subject
    assert parsed["Message-ID"] == "<abc123@notify.uwagi>"
    assert parsed["From"] == "konsultacje@um.torun.pl" and parsed["To"] == "zofia@example.org"
    assert parsed.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part for part in parsed.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "współpracy" in parts["text/plain"].get_content()
    assert "współpracy" in parts["text/html"].get_content()


OFFICE = {"organiser": "Wydział Zdrowia i Polityki Społecznej", "contact_email": "konsultacje@um.torun.pl",
          "contact_phone": "56 611 88 88", "postal_address": "ul. Wały gen. Sikorskiego 8\n87-100 Toruń"}


@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_receipt_is_formal_signed_by_the_office_and_echoes_the_organisation_and_topics(renderer, language):
    context = {**RECEIPT, "organization": "Fundacja Przykładowa", "office": OFFICE,
               "comments": [{**RECEIPT["comments"][0], "topic": "Priorytety"}, RECEIPT["comments"][1]]}
    mail = renderer.render(Template.SUBMISSION_RECEIPT, language, context)
    for body in (mail.text, mail.html):
        assert "Żółkiewska" not in body  # no "Dzień dobry Anna Kowalska,"
        assert "Fundacja Przykładowa" in body and "Priorytety" in body
        assert "Wydział Zdrowia i Polityki Społecznej" in body and "87-100 Toruń" in body
        assert "konsultacje@um.torun.pl" in body and "56 611 88 88" in body
        assert "nie odpowiadać" not in body and "do not reply" not in body  # replies reach the office
    greeting = {"pl": "Szanowni Państwo,", "en": "Dear Sir or Madam,"}[language]
    assert mail.text.startswith(greeting)


def test_quotes_inside_a_quoted_name_become_the_nested_kind():
    from services.common.quotes import quoted

    assert quoted("Fundacja Aktywności Lokalnej „Przystań”", "pl") == "„Fundacja Aktywności Lokalnej «Przystań»”"
    assert quoted('Stowarzyszenie "Wisła"', "pl") == "„Stowarzyszenie «Wisła»”"
    assert quoted("Fundacja „Przystań”", "en") == "“Fundacja ‘Przystań’”"
    assert quoted("Wspólnie o programie", "pl") == "„Wspólnie o programie”"
    assert quoted("cal 5\" i „pół", "pl") == "„cal 5\" i „pół”"  # an unmatched mark is left as it is


@pytest.mark.parametrize("language", ["pl", "en"])
def test_an_organisation_named_in_quotes_is_not_quoted_twice_in_the_receipt(renderer, language):
    mail = renderer.render(Template.SUBMISSION_RECEIPT, language,
                           {**RECEIPT, "organization": "Fundacja Aktywności Lokalnej „Przystań”", "office": OFFICE})
    expected = {"pl": "„Fundacja Aktywności Lokalnej «Przystań»”", "en": "Fundacja Aktywności Lokalnej „Przystań”"}
    for body in (mail.text, mail.html):
        assert expected[language] in body
        assert "„Przystań””" not in body


@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_signature_names_the_office_once_when_its_address_already_does(renderer, language):
    office = {**OFFICE, "organiser": "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia",
              "postal_address": "Urząd Miasta Torunia – Wydział Komunikacji Społecznej i Informacji\n"
                                "ul. Wały gen. Sikorskiego 8\n87-100 Toruń"}
    mail = renderer.render(Template.SUBMISSION_RECEIPT, language, {**RECEIPT, "office": office})
    regards = {"pl": "Z poważaniem", "en": "Kind regards"}[language]
    signature = mail.text.split(regards)[1]
    assert signature.startswith("\nUrząd Miasta Torunia – Wydział Komunikacji Społecznej i Informacji\nul. Wały")
    assert signature.count("Wydział Komunikacji") == 1
    html_signature = mail.html.split(regards)[1].split("</p>")[0]
    assert html_signature.count("Wydział Komunikacji") == 1 and "<strong>" not in html_signature


def test_a_receipt_without_a_known_office_still_renders_with_a_generic_signature(renderer):
    mail = renderer.render(Template.SUBMISSION_RECEIPT, "pl", RECEIPT)  # a row staged before this change
    assert "Zespół ds. konsultacji społecznych" in mail.text and "prosimy na nią nie odpowiadać" in mail.text


def test_the_decision_e_mail_shows_the_adopted_wording_and_the_office_signature(renderer):
    mail = renderer.render(Template.COMMENT_DECISION, "pl", {**DECISION, "decision_label": "uwzględniona częściowo",
                                                             "office": OFFICE})
    assert mail.text.startswith("Szanowni Państwo,")
    assert "Przyjęte brzmienie zapisu: Program obowiązuje w latach 2025–2026." in mail.text
    assert "Wydział Zdrowia i Polityki Społecznej" in mail.html


def test_the_sender_is_the_consultations_contact_address_with_the_setting_as_fallback():
    assert domain.sender_for({"office": OFFICE}, "konsultacje@example.org") == \
        "Wydział Zdrowia i Polityki Społecznej <konsultacje@um.torun.pl>"
    assert domain.sender_for({}, "konsultacje@example.org") == "konsultacje@example.org"
    assert domain.sender_for({"office": {"contact_email": ""}}, "konsultacje@example.org") == "konsultacje@example.org"
    assert domain.sender_for({"office": {"contact_email": "a@b.pl\r\nBcc: x@y.pl"}}, "fallback@x.pl") == "fallback@x.pl"


@pytest.mark.parametrize("template, context, field", [
    (Template.SUBMISSION_RECEIPT, {**RECEIPT, "office": OFFICE}, "organization"),
    (Template.COMMENT_DECISION, {**DECISION, "decision_label": "częściowo uwzględniona"}, "consultation_title"),
])
def test_a_name_with_line_breaks_stays_on_its_one_line(renderer, template, context, field):
    hostile = "Anna\r\nBcc: ofiara@example.org\r\n\r\nFałszywy akapit\tNowak"
    plain = renderer.render(template, "pl", context)
    mail = renderer.render(template, "pl", {**context, field: hostile})
    folded = "Anna Bcc: ofiara@example.org Fałszywy akapit Nowak"
    assert folded in mail.text and "\r" not in mail.text
    assert len(mail.text.splitlines()) == len(plain.text.splitlines())
    assert not any(line.startswith(("Bcc:", "Fałszywy")) for line in mail.text.splitlines())


SENDERS = ["konsultacje@um.torun.pl", "Wydział Zdrowia i Polityki Społecznej <konsultacje@um.torun.pl>",
           '"Urząd Miasta, Wydział Zdrowia" <konsultacje@um.torun.pl>', "City Office <konsultacje@um.torun.pl>"]


@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("language", ["pl", "en"])
@pytest.mark.parametrize("template, context", [(Template.SUBMISSION_RECEIPT, RECEIPT),
                                               (Template.COMMENT_DECISION,
                                                {**DECISION, "decision_label": "uwzględniona częściowo"}),
                                               (Template.BOOKING_CONFIRMED, BOOKING)])
def test_the_directly_written_message_reads_back_as_the_e_mail_package_writes_it(renderer, template, context,
                                                                                  language, sender):
    """GIVEN a rendered e-mail WHEN the mailer writes its bytes itself (build_mail) THEN a mail client reads the
    same headers, parts and text as from the e-mail package's message (build_message), every line is ASCII and
    at most 78 characters, and the envelope is the From's address and the recipient."""
    rendered = renderer.render(template, language, context)
    rendered = type(rendered)(**{**rendered.__dict__, "subject": rendered.subject + " – " + "długi " * 12})
    date = datetime(2024, 10, 8, 7, 30, tzinfo=timezone.utc)
    fast = build_mail(rendered, sender=sender, recipient="zofia@example.org", message_id="<abc@notify.uwagi>", date=date)
    slow = OutgoingMail.from_message(build_message(rendered, sender=sender, recipient="zofia@example.org",
                                                   message_id="<abc@notify.uwagi>", date=date)).parsed()
    read = fast.parsed()
    for name in ("Subject", "From", "To", "Message-ID", "Date", "Auto-Submitted", "MIME-Version"):
        assert read[name] == slow[name], name
    assert read.get_content_type() == slow.get_content_type()
    def leaves(message):
        return [(p.get_content_type(), p.get_content()) for p in message.walk() if not p.is_multipart()]

    assert leaves(read) == leaves(slow) and len(leaves(read)) >= 2
    assert fast.envelope_from == "konsultacje@um.torun.pl" and fast.recipient == "zofia@example.org"
    assert not fast.smtputf8
    if rendered.calendar is None:  # an invitation is rare and written by the e-mail package
        lines = fast.data.decode("ascii").split("\r\n")
        assert max(len(line) for line in lines) <= 78 and "\n" not in "".join(lines)


def test_the_receipt_gives_the_reference_and_access_code_on_their_own_for_a_broken_link(renderer):
    for language, words in (("pl", "prosimy wpisać numer zgłoszenia UW/2024/000123 i kod dostępu t0k3n"),
                            ("en", "type the reference UW/2024/000123 and the access code t0k3n")):
        mail = renderer.render(Template.SUBMISSION_RECEIPT, language, RECEIPT)
        assert words in mail.text and "http://127.0.0.1:8000/intake/status " in mail.text
        assert "<code>t0k3n</code>" in mail.html
