"""The warning a mail gateway writes into mail from outside ("CAUTION: This email originated from outside of the
organization. Do not click links or open attachments…") is not the sender's text: it goes wherever it stands,
and nothing around it goes with it. Real mails: tests/corpus/mail/banners/SOURCES.md; the short texts below are
paragraphs of real public mails, named beside each."""

from __future__ import annotations

import pytest

from services.intake.mail.parse import parse_mail, without_gateway_banners
from tests.unit.intake_mail.conftest import CORPUS

BANNERS = CORPUS / "banners"


def test_the_banner_a_gateway_put_on_top_of_the_mail_goes_and_the_answer_under_the_quote_stays():
    body = parse_mail((BANNERS / "thunderbird-caution-banner-received.eml").read_bytes()).body_text
    assert body == ("Nope. This still stands:\n"
                    "https://lore.kernel.org/all/CAHmME9pxc-nO_xa=4+1CnvbnuefbRTJHxM7n817c_TPeoxzu_g@mail.gmail.com/"
                    "\n\nAnd honestly the constant pushing from you has in part been\ndemotivating.")


def test_a_forward_keeps_both_texts_and_loses_the_banner_under_the_originals_header_block():
    body = parse_mail((BANNERS / "outlook-forward-caution-banner.eml").read_bytes()).body_text
    assert body.startswith("Well, I've been checking the related components. My env is being deployed into Qemu")
    assert "Thx for the help," in body
    assert "That means your host is missing some essential VMX (VT-x) features." in body
    assert "CAUTION" not in body and "originated from outside" not in body


@pytest.mark.parametrize("banner", [
    # netdev, 30 May 2023 (under an Outlook reply's "-----Original Message-----" block; ooma.com's gateway)
    "CAUTION: This email is originated from outside of the organization. Do not click links or open attachments "
    "unless you recognize the sender and know the content is safe.",
    # netdev, 28 April 2020 (amazon.com, quoted one level, wrapped by the replier)
    "> CAUTION: This email originated from outside of the organization. Do not click\n> links or open attachments "
    "unless you can confirm the sender and know the\n> content is safe.",
    # linux-iio, 9 August 2020 (invensense.com, after a no-break space)
    "\u00a0CAUTION: This email originated from outside of the organization. Please make sure the sender is who they "
    "say they are and do not click links or open attachments unless you recognize the sender and know the content "
    "is safe.",
    # linux-kernel, 31 October 2023 (a Microsoft 365 tenant's own banner)
    "EXTERNAL EMAIL: Do not click links or open attachments unless you know the\ncontent is safe",
    # three more, as public projects that strip banners quote the ones their users get (UK public bodies, a
    # company's Proofpoint, a school's own)
    "WARNING: This email came from outside of the organisation. Do not provide login or password details. Always "
    "be cautious opening links and attachments wherever the email appears to come from. If you have any doubts "
    "about this email, contact ICT.",
    "[EXTERNAL] This email came from outside the organization.",
    "This email came from outside your organisation. Don’t open attachments or click links unless you're "
    "absolutely sure it’s safe.",
])
def test_a_gateways_warning_in_the_shapes_public_mail_shows_goes(banner):
    text = f"Dzień dobry,\n\n{banner}\n\nW § 5 ust. 2 proponuję dopisać konsultacje społeczne."
    assert without_gateway_banners(text) == "Dzień dobry,\n\nW § 5 ust. 2 proponuję dopisać konsultacje społeczne."


def test_the_residents_words_a_line_break_after_the_warning_stay():
    banner = ("CAUTION: This email originated from outside of the organization. Do not click links or open "
              "attachments unless you recognize the sender and know the content is safe.")
    html = f'<p><span style="color:red">{banner}</span><br>Dzień dobry, proszę o zmianę § 3.</p><p>Anna</p>'
    raw = ("From: Anna Nowak <anna@example.org>\r\nSubject: Uwagi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           + html).encode()
    assert parse_mail(raw).body_text == "Dzień dobry, proszę o zmianę § 3.\n\nAnna"
    wrapped = banner.replace(" Do not", "\nDo not").replace(" know the", "\nknow the")
    expected = "Dzień dobry,\nw § 3 brakuje celu."
    assert without_gateway_banners(f"{wrapped}\n{expected}") == expected


@pytest.mark.parametrize("text", [
    "Uwaga: proszę otworzyć załącznik i kliknąć link do formularza.",  # "uwaga" is what residents send
    "Warning: the programme does not say who may open the attachments to the grant agreement or click links.\n"
    + "It should say so in § 9, with the officials named, and the register of the agreements open to all "
      "residents, as the programme of 2024 promised and the Council asked in its resolution." * 5,  # too long
    "CAUTION: the deadline in § 7 is too short for small associations.",  # a warning, but not a gateway's
    "Please do not click links in the city's newsletter; they expire.",  # no warning opening
    "Warning: this message came from outside the programme's scope, as § 2 says nothing about sport clubs, "
    "so the council must add them.",  # a warning about something else
])
def test_a_residents_own_words_are_not_taken_for_a_banner(text):
    assert without_gateway_banners(text) == text


def test_the_citys_own_wording_goes_whatever_its_line_breaks_and_quote_marks():
    city = ("UWAGA: Ta wiadomość pochodzi spoza Urzędu Miasta. Nie otwieraj załączników i nie klikaj linków, "
            "jeśli nie znasz nadawcy.")
    text = ("Przesyłam uwagi stowarzyszenia.\n\n> UWAGA: Ta wiadomość pochodzi spoza Urzędu\n> Miasta. Nie otwieraj "
            "załączników i nie klikaj linków, jeśli nie znasz\n> nadawcy.\n>\n> W § 3 brakuje celu szczegółowego.")
    assert without_gateway_banners(text, (city,)) == ("Przesyłam uwagi stowarzyszenia.\n\n"
                                                     "> W § 3 brakuje celu szczegółowego.")
    assert without_gateway_banners("Uwaga do § 3: brakuje celu.", (city,)) == "Uwaga do § 3: brakuje celu."


def test_the_configured_wording_reaches_the_parser():
    city = "UWAGA: Wiadomość z zewnątrz. Zachowaj ostrożność."
    raw = ("From: Anna Nowak <anna@example.org>\r\nSubject: Uwagi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "UWAGA: Wiadomość z zewnątrz.\r\nZachowaj ostrożność.\r\n\r\nProszę o dopisanie celu.\r\n").encode()
    assert parse_mail(raw, banners=(city,)).body_text == "Proszę o dopisanie celu."
    assert parse_mail(raw).body_text.startswith("UWAGA: Wiadomość z zewnątrz.")
