"""Microsoft 365's first contact safety tip ("You don't often get email from … Learn why this is important") is
not the sender's text: it goes wherever it stands, in any language, and nothing around it goes with it.
Real mails: tests/corpus/mail/m365/SOURCES.md; the short texts below are lines of real mails quoted there."""

from __future__ import annotations

import email
from email import policy

import pytest

from services.intake.mail.parse import parse_mail, without_safety_tips
from tests.unit.intake_mail.conftest import CORPUS

M365 = CORPUS / "m365"


def test_a_forward_keeps_both_texts_and_loses_the_tip_outlook_quoted():
    body = parse_mail((M365 / "outlook-forward-safety-tip.eml").read_bytes()).body_text
    assert body.startswith("Hi Eesa\n\nI am not sure if this will help")
    assert "[The e-mail server of the sender could not be verified (SPF Record)]" in body  # the tenant's own note
    assert "Hi dears,\n\nI created a TX usrp an RX usrp object" in body
    assert body.rstrip().endswith("Thank you.\n\nEesa")
    assert "often get email" not in body and "LearnAboutSenderIdentification" not in body
    assert "Subject: [USRP-users]" not in body  # the forward's header block still goes as a block


def test_the_tip_outlook_quoted_in_its_html_table_goes_when_the_mail_has_no_plain_text():
    message = email.message_from_bytes((M365 / "outlook-forward-safety-tip.eml").read_bytes(), policy=policy.default)
    html = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
    message.set_payload([html])  # the alternative without its plain text, as Outlook sends with "HTML only"
    body = parse_mail(message.as_bytes()).body_text
    assert "Hi Eesa" in body and "Hi dears," in body and "Can anyone help me to resolve this issue?" in body
    assert "often get email" not in body and "Learn why this is important" not in body


def test_the_tip_outlook_on_the_web_puts_on_top_in_french_goes_and_the_answer_stays():
    body = parse_mail((M365 / "owa-safety-tip-fr-html.eml").read_bytes()).body_text
    assert body.startswith("Hi Quentin,\nPerhaps your issue is related to the 'length' parameter of the RFNoC")
    assert body.rstrip().endswith("Rob")
    assert "obtenez pas souvent" not in body and "important" not in body
    assert "Hello everyone" not in body  # the quoted thread is history, as before


def test_the_tip_an_imap_client_receives_in_plain_text_goes():
    body = parse_mail((M365 / "thunderbird-safety-tip-fr-plain.eml").read_bytes()).body_text
    assert body.startswith("OK. The AXI-Stream Data (simple) interface is the easiest for this case in my opinion.")
    assert "obtenez pas souvent" not in body and "aka.ms" not in body
    assert body.rstrip().endswith("is no problem.\nRob")
    assert "I'm not sure. I also tried" not in body


@pytest.mark.parametrize(("text", "expected"), [
    # quoted by Outlook as plain text, wrapped, above a tenant's own banner (linux-kernel, 31 Oct 2023)
    ("[Some people who received this message don't often get email from\nvkoul@kernel.org. Learn why this is "
     "important at\nhttps://aka.ms/LearnAboutSenderIdentification ]\n\nEXTERNAL EMAIL: Do not click links or open "
     "attachments unless you know the\ncontent is safe\n\nOn 31-10-23, 10:57, shravan chippa wrote:",
     "EXTERNAL EMAIL: Do not click links or open attachments unless you know the\ncontent is safe\n\n"
     "On 31-10-23, 10:57, shravan chippa wrote:"),
    # under Outlook's "-----Original Message-----" block (git mailing list, 13 Jan 2024): the block stays whole
    ("-----Original Message-----\nFrom: Torsten Bögershausen <tboegi@web.de>\nSent: Friday, January 12, 2024 "
     "11:43 PM\nSubject: [EXTERNAL]Re: Suggested clarification\n\n[You don't often get email from tboegi@web.de. "
     "Learn why this is important at https://aka.ms/LearnAboutSenderIdentification ]\n\nOn Sat, Jan 13, 2024 at "
     "02:56:27AM +0000, Michael Litwak wrote:",
     "-----Original Message-----\nFrom: Torsten Bögershausen <tboegi@web.de>\nSent: Friday, January 12, 2024 "
     "11:43 PM\nSubject: [EXTERNAL]Re: Suggested clarification\n\nOn Sat, Jan 13, 2024 at 02:56:27AM +0000, "
     "Michael Litwak wrote:"),
    # right under the Subject line, no blank line between (Outlook's plain text of the HTML table)
    ("Subject: [USRP-users] Creating TX usrp\nYou don't often get email from eesa.nikahd@gmail.com. Learn why this "
     "is important<https://aka.ms/LearnAboutSenderIdentification>\n\nHi dears,",
     "Subject: [USRP-users] Creating TX usrp\n\nHi dears,"),
    # inside a quote, two levels deep (a Thunderbird reply quoting an Outlook reply, dri-devel, 12 Aug 2024)
    (">> [Some people who received this message don't often get email from\n>> vivek.kasireddy@intel.com. Learn "
     "why this is important at\n>> https://aka.ms/LearnAboutSenderIdentification ]\n>>\n>> Hi Huan,",
     ">>\n>> Hi Huan,"),
])
def test_the_tips_lines_go_wherever_a_client_put_them(text, expected):
    assert without_safety_tips(text) == expected


def test_a_text_that_only_names_the_link_keeps_it():
    text = "Proszę nie wklejać do uwag linku\nhttps://aka.ms/LearnAboutSenderIdentification\nz ostrzeżenia Outlooka."
    assert without_safety_tips(text) == text
