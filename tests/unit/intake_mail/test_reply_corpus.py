"""What a resident wrote, read from replies as real mail clients write them (corpus/mail/replies/SOURCES.md).

The consultation's mailbox gets answers to the city's own mails: the sender's words are the comment, the quoted
announcement under them is not. Expectations were written by reading each file."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from services.intake.mail.parse import html_to_text, parse_mail, strip_reply

REPLIES = Path(__file__).resolve().parents[2] / "corpus" / "mail" / "replies"
FUSCE = ("Fusce bibendum, quam hendrerit sagittis tempor, dui turpis tempus erat, pharetra sodales ante sem sit amet "
         "metus.\nNulla malesuada, orci non vulputate lobortis, massa felis pharetra ex, convallis consectetur ex "
         "libero eget ante.\nNam vel turpis posuere, rhoncus ligula in, venenatis orci. Duis interdum venenatis ex a "
         "rutrum.\nDuis ut libero eu lectus consequat consequat ut vel lorem. Vestibulum convallis lectus urna,\net "
         "mollis ligula rutrum quis. Fusce sed odio id arcu varius aliquet nec nec nibh.")


@pytest.mark.parametrize("client", ["android", "aol", "apple_mail", "apple_mail_2", "comcast", "gmail", "hotmail",
                                    "iphone", "outlook", "sparrow", "thunderbird", "yahoo"])
def test_the_answer_above_each_clients_quote_is_the_body(client):
    """Android's Gmail in Russian wrapped its attribution ("02.04.2012 14:20 пользователь "bob…" <" / "bob…>
    написал:") over two lines, which stayed in the body as the sender's words."""
    assert parse_mail((REPLIES / f"talon-{client}.eml").read_bytes()).body_text == "Hello"


def _mail(text: str, *, subject: str, subtype: str = "plain") -> bytes:
    """A one-part mail around a fixture's body (the fixture gives the body alone)."""
    message = EmailMessage()
    message["From"] = "Jan Kowalski <jan.kowalski@example.com>"
    message["To"] = "konsultacje@example.org"
    message["Subject"] = subject
    message.set_content(text, subtype=subtype)
    return bytes(message)


@pytest.mark.parametrize("client", ["gmail", "hotmail", "mail_ru", "ms_outlook_2003", "ms_outlook_2007",
                                    "ms_outlook_2010", "thunderbird", "windows_mail", "yandex_ru"])
def test_the_answer_above_each_clients_html_quote_is_the_body(client):
    """Hotmail's XHTML body opens with `<?xml … encoding="UTF-8"?>`, which lxml refuses in a decoded string: the
    whole mail read as empty. Outlook 2003's quoted header ("From:" and its value on lines of their own, as the
    HTML source wraps them) stayed in the body."""
    markup = (REPLIES / f"talon-{client}.html").read_text(encoding="utf-8")
    assert parse_mail(_mail(markup, subject="Re: Test message", subtype="html")).body_text == "Hi. I am fine."


def test_a_line_break_in_the_html_source_is_a_space_as_a_browser_shows_it():
    text = html_to_text('<p class=MsoNormal><span>Proponuję dodać w § 5 ust. 2\nzadanie „wspieranie\r\n'
                        'wolontariatu”.</span></p><pre>a\n  b</pre>')
    assert text == "Proponuję dodać w § 5 ust. 2 zadanie „wspieranie wolontariatu”.\na\nb"  # <pre> keeps its line break


@pytest.mark.parametrize("fixture", ["email_fr_multiline", "email_german_2", "email_italian", "email_12",
                                     "email_13", "email_danish_dash_separator", "email_tricky_5_mixed_languages",
                                     "email_8"])
def test_attributions_and_header_blocks_in_other_languages_end_the_answer(fixture):
    """French "Le … à 19:42, John <…>" / "a écrit :", Italian "In data … ha scritto:", Outlook's "Von: / Gesendet:",
    "Van: / Verzonden:", "Da: / Inviato:", Danish "-------- Oprindelig besked --------": all stayed in the body."""
    assert strip_reply((REPLIES / f"crisp-{fixture}.txt").read_text(encoding="utf-8")) == FUSCE


@pytest.mark.parametrize(("fixture", "expected"), [
    ("email_custom_quote_header", "Thank you!"),  # Hungarian: "2013.02.08. 7:31 keltezéssel, "…" írta:"
    ("email_zoho", "What is the best way to clear a Riak bucket of all key, values after\nrunning a test?"),
    ("email_thread", "This is new email reply in thread from bellow."),  # "On Nov 21, 2014,\nat 10:18,\n… wrote:"
    ("email_2_1", "Outlook with a reply"),  # a rule, then "*From:* … [mailto:" wrapped, "*Sent:*", "*To:*"
])
def test_the_attribution_goes_with_the_quote(fixture, expected):
    assert strip_reply((REPLIES / f"crisp-{fixture}.txt").read_text(encoding="utf-8")) == expected


def test_an_attribution_with_a_year_and_an_address_and_no_time_goes_with_the_quote():
    """crisp's email_7: "Il giovedì 8 dicembre 2016, Company Questions <questions@…>" / "ha scritto:" stayed, and
    the quoted line "ignissim odio?" that lost its ">" when wrapped was kept as an answer."""
    body = strip_reply((REPLIES / "crisp-email_7.txt").read_text(encoding="utf-8"))
    assert body.startswith(FUSCE) and "ha scritto" not in body and "ignissim" not in body


def test_an_attribution_over_three_lines_without_a_time_goes_with_the_quote():
    body = strip_reply((REPLIES / "crisp-email_reply_header.txt").read_text(encoding="utf-8"))
    assert body.endswith("On the other hand, it could happen TWICE!\n\nStranger")


@pytest.mark.parametrize(("body", "expected"), [
    # The phone joined the answer and the attribution (talon's test_reply_and_quotation_splitter_share_line)
    ("reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:\n> Hi", "reply"),
    ("reply\nbla-bla - bla--- On Wed, Apr 4, 2012 at 3:59 PM, me@domain.com wrote:\n> Hi", "reply\nbla-bla - bla"),
    ("Dziękuję za odpowiedź W dniu 12.10.2024 o 10:00, Urząd Miasta pisze:\n> Szanowni Państwo",
     "Dziękuję za odpowiedź"),
    # Gmail in Ukrainian and in Russian (no verb: the quote must follow), and the old Gmail's "date address:"
    ("Пропоную змінити § 5.\n\nпн, 14 жовт. 2024 р. о 10:12 Urząd <konsultacje@um.torun.pl> пише:\n> Szanowni",
     "Пропоную змінити § 5."),
    ("Предлагаю изменить § 5.\n\nпн, 14 окт. 2024 г. в 10:12, Urząd <konsultacje@um.torun.pl>:\n\n> Szanowni",
     "Предлагаю изменить § 5."),
    ("Uwaga do § 5.\n\n2015-01-28 1:53 GMT+01:00 Urząd Miasta <\nkonsultacje@um.torun.pl>:\n\n> Szanowni",
     "Uwaga do § 5."),
    # Gmail of about 2011: date and sender, no time, no colon (talon's test_pattern_date_email_with_unicode)
    ("Replying ok\n2011/4/7 Nathan иova <support@example.com>\n\n>  Cool beans, scro", "Replying ok"),
])
def test_attribution_shapes_in_plain_text(body, expected):
    assert strip_reply(body) == expected


@pytest.mark.parametrize("body", [
    # A sentence with a date and a colon, and no quote under it, is the sender's
    "Proponuję w § 5 dodać zdanie z uchwały z 12.10.2024 o 10:00, Jan <jan@example.org>:\nPkt 3 skreślić.",
    # Pasted raw headers with a date first and no From among the next three lines are text (imap_tools' issue)
    "Nagłówki:\nDate: Fri, 25 Jan 2019 10:37:47 -0800\nMessage-ID: <a@b>\nSubject: x\nFrom: y <y@z>\nDalej tekst.",
    "Hello\n02.04.2012 to jest zdanie\ni dalej.",
    # The same shape with no quote under it is the sender's own line
    "Spotkanie:\n2024/7/30 Jan Kowalski <jan@example.org>\nW sali 5.",
])
def test_text_that_only_looks_like_an_attribution_is_kept(body):
    assert strip_reply(body) == body


def test_a_wrapped_subject_in_a_forwarded_header_block_is_not_left_in_the_text():
    body = ("FYI\n\n---------- Forwarded message ----------\nFrom: bob@example.com\nDate: Tue, Sep 4, 2012 at 1:35 PM"
            "\nSubject: Two\nline subject\nTo: rob@example.com\n\nText")  # talon's forwarded-message test
    assert strip_reply(body) == "FYI\n\nText"


@pytest.mark.parametrize(("fixture", "expected"), [
    ("email_pl_1_1", "Czesc Anno,\n\nJak się masz?"),
    ("email_pl_1_2", "Czesc Anno,\n\nJak się masz?"),  # "Dnia 28 lutego 2023 14:00 … napisał(a):" ends it
    ("email_pl_1_3", "Cześć Anno,\n\nJak się masz?"),  # "Z powazaniem," typed without its "ż"
])
def test_a_text_sent_on_under_outlooks_header_block_is_kept_unless_the_mail_is_a_reply(fixture, expected):
    """With nothing written above it, Outlook's block heads the text sent on (a forward whose "PD:" the sender
    retyped): the whole text was dropped as a quoted original, and the mail taken as empty. In a reply ("Re:",
    "ODP:") the block is the quoted original, the city's own mail, and still ends the sender's words."""
    text = (REPLIES / f"mpr-{fixture}.txt").read_text(encoding="utf-8")
    assert strip_reply(text, reply=False) == expected
    assert strip_reply(text) == ""


@pytest.mark.parametrize(("subject", "expected"), [
    ("Uwagi stowarzyszenia do programu", "Czesc Anno,\n\nJak się masz?"),
    ("ODP: Test email", ""),
    ("Re: Test email", ""),
    ("AW: Test email", ""),
])
def test_the_subject_tells_a_text_sent_on_from_a_reply(subject, expected):
    text = (REPLIES / "mpr-email_pl_1_1.txt").read_text(encoding="utf-8")
    assert parse_mail(_mail(text, subject=subject)).body_text == expected


def test_a_german_gmail_attribution_with_its_verb_inside_goes_with_the_quote():
    text = (REPLIES / "mpr-email_3_1.txt").read_text(encoding="utf-8")
    assert strip_reply(text).startswith("First reply.\n\nThis is fairly common; nothing too hard here!")
    assert "schrieb John Doe" not in strip_reply(text)
    assert strip_reply("Danke.\n\nAm So., 1. Jan. 2023 um 17:22 Uhr schrieb John Doe <\njohn@example.com>:\n\nHallo") \
        == "Danke."


@pytest.mark.parametrize(("client", "sent_on"), [
    ("apple_forward", "test\n\nblah\n\nText of the original email"),
    ("gmail_forward", "test\n\nblah\n\nSome text"),
    ("thunderbird_forward", "Dear John,\n\nThis is a test."),
    ("mailru_forward", "Дорогой Петр,\n\nЭто тест!"),  # "--" / "С уважением," / the name: the signature
])
def test_an_html_forward_keeps_the_text_sent_on_without_its_header(client, sent_on):
    """A forward sent as HTML alone lost what it forwarded (Apple Mail's and Gmail's containers were dropped as
    quotes), Thunderbird's header rows stayed in the text, and Mail.ru's marker ended the mail."""
    markup = (REPLIES / f"quotequail-{client}.html").read_text(encoding="utf-8")
    assert parse_mail(_mail(markup, subject="Fwd: test", subtype="html")).body_text == sent_on


# The plain-text forwards of quotequail's tests/test_unwrap.py (closeio/quotequail 6969bff, MIT).
@pytest.mark.parametrize(("body", "expected"), [
    ('Hello\n\nBegin forwarded message:\n\n> From: "Some One" <some.one@example.com>\n> Date: 1. August 2011 '
     '23:28:15 GMT-07:00\n> To: "Other Person" <other@example.com>\n> Subject: AW: AW: Some subject\n>\n> Original '
     'text\n\nText bottom\n', "Hello\n\nOriginal text\n\nText bottom"),
    ('Hello\n\n> Begin forwarded message:\n>\n> From: "Some One" <some.one@example.com>\n> Date: 1. August 2011 '
     '23:28:15 GMT-07:00\n> To: "Other Person" <other@example.com>\n> Subject: AW: AW: Some subject\n>\n> Original '
     'text\n\nText bottom\n', "Hello\n\nOriginal text\n\nText bottom"),
    ("Hello\n\nForwarded message:\n\n> From: Some One <some.one@example.com>\n> To: Other person "
     "<other@example.com>\n> Date: Thursday, March 7, 2013 7:09:41 PM\n> Subject: Re: Syncing Up\n>\n> OHAI\n>\n> "
     "Great news!\n\nText bottom\n", "Hello\n\nOHAI\n\nGreat news!\n\nText bottom"),
    ('Hello\n\n> From: "Some One" <some.one@example.com>\n> Date: 1. August 2011 23:28:15 GMT-07:00\n> To: '
     '"Other Person" <other@example.com>\n> Subject: AW: AW: Some subject\n>\n> Original text\n',
     "Hello\n\nOriginal text"),
    ('hello world\n\n-----Original Message-----\nFrom: "Some One" <some.one@example.com>\n\nDate: Sat, 22 Mar 2008 '
     '12:16:06\nTo:<to@example.com>\n\n\nSubject: Antw: FW: html\n\n\nOHAI...\n', "hello world\n\nOHAI..."),
    ('\nText before\n\nDébut du message réexpédié :\n\nDe: "Foo Bar" <from@example.com>\nDate: 14 novembre 2015 '
     '15:14:53 UTC+1\nÀ: "\'Ham Spam\'" <to@example.com>\nObjet: RE: The subject\n\nText after\n',
     "Text before\n\nText after"),
    ("\nText before\n\n-------- Message transféré --------\nSujet :     Re: Some subject\nDate :  Wed, 11 Nov 2015 "
     "12:31:25 +0100\nDe :    Foo Bar <from@example.com>\nPour :  Ham Spam <to@example.com>\n\nText after\n",
     "Text before\n\nText after"),
    ("Hello\n\n---------- Vidarebefordrat meddelande ----------\nFrån: Someone <noreply@example.com>\nDatum: 26 april "
     "2013 20:13\nÄmne: Weekend Spanish classes\nTill: recipient@example.com\n\nSpanish Classes\nLearn Spanish\n",
     "Hello\n\nSpanish Classes\nLearn Spanish"),
])
def test_a_plain_text_forward_keeps_the_text_sent_on_also_when_its_client_quoted_it(body, expected):
    assert strip_reply(body, forward=True) == expected


def test_text_after_a_thread_of_replies_nested_hundreds_deep_is_read():
    """libxml2's HTML parser gives up at 256 levels and dropped everything after: a reply written below a long
    thread, each message quoted inside the one before (three levels each, as Gmail nests them), was lost."""
    thread = '<div class="x"><blockquote><div>Wcześniejsza wiadomość' * 120 + "</div></blockquote></div>" * 120
    markup = f"<html><body>{thread}<p>Proponuję w § 5 dopisać ust. 3.</p></body></html>"
    assert html_to_text(markup).endswith("Proponuję w § 5 dopisać ust. 3.")


def test_a_quoted_line_that_lost_its_mark_when_wrapped_stays_in_the_quote_and_an_answer_between_does_not():
    """crisp's email_8: "> … Aenean tincidunt ornare diam," / "eget accumsan est viverra quis. Pellentesque"" /
    ">" was read as an answer written between the quoted lines, and kept."""
    body = ("On Mon, 1 Jan 2024 at 10:00, Urząd <u@example.org> wrote:\n> Czy zgadzają się Państwo\n"
            "> z zapisem § 5?\nnie zgadzamy się, proponujemy skreślenie.\n> A z § 6, który mówi\no dotacjach?\n"
            "> Pozdrawiamy\nTak.")
    assert strip_reply(body) == "nie zgadzamy się, proponujemy skreślenie.\nTak."


def test_a_polish_thunderbird_reply_written_under_the_quote_is_the_senders_words_joined_as_flowed_text():
    """Thunderbird 1.0 in Polish ("Jacek Luczak napisał(a):") over a quote of two levels, the answer below it,
    its lines ending in a space (format=flowed) joined into the paragraph the sender typed; the name that signs it
    stays, as the sender wrote it."""
    mail = parse_mail((REPLIES / "lkml-thunderbird-pl-bottom-posted-flowed.eml").read_bytes())
    assert mail.body_text == ("It seems that everything is involve by ndiswrapper. Those errors reappear after module "
                              "load. Without ndiswrapper kernel works OK.\n\n\tJacek")
