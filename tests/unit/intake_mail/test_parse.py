"""Raw MIME to the message model: charsets, encodings, file names, HTML, replies, signatures, robots, breakage."""

from __future__ import annotations

import base64
import binascii
import quopri
from pathlib import Path

import pytest

from services.intake.mail.parse import (INLINE_PICTURE_BYTES, MailRefused, guess_polish_8bit, html_to_text, parse_mail,
                                       strip_reply, unflow)
from tests.support.mime_shapes import nested_multiparts

PANGRAM = "Zażółć gęślą jaźń - proszę dopisać § 5 ust. 2."


def mail(headers: str, body: bytes | str = b"") -> bytes:
    head = "From: Anna Nowak <anna@example.org>\r\nTo: konsultacje@um.torun.pl\r\nMessage-ID: <m1@example.org>\r\n"
    body = body.encode() if isinstance(body, str) else body
    return (head + headers.replace("\n", "\r\n") + "\r\n").encode() + body


@pytest.mark.parametrize("charset,encoding,encode", [
    ("utf-8", "8bit", lambda t: t.encode("utf-8")),
    ("iso-8859-2", "quoted-printable", lambda t: quopri.encodestring(t.encode("iso-8859-2"))),
    ("windows-1250", "base64", lambda t: base64.encodebytes(t.encode("windows-1250"))),
    ("ISO-8859-2", "base64", lambda t: base64.encodebytes(t.encode("iso-8859-2"))),
    ("windows-1250", "quoted-printable", lambda t: quopri.encodestring(t.encode("windows-1250"))),
])
def test_a_body_in_each_polish_charset_and_transfer_encoding_reads_the_same(charset, encoding, encode):
    raw = mail(f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {encoding}\n",
               encode(PANGRAM))
    assert parse_mail(raw).body_text == PANGRAM


def test_an_unknown_or_lying_charset_does_not_stop_the_mail():
    raw = mail("Content-Type: text/plain; charset=x-unknown-polish\nContent-Transfer-Encoding: 8bit\n",
               PANGRAM.encode("windows-1250"))
    assert parse_mail(raw).body_text == PANGRAM


# Real Polish text in both 8-bit charsets, as public sources carry it: a PLD Linux package description written
# in ISO-8859-2, and a PHP script of a Polish site written in windows-1250. Read as Latin-1 they show as
# "Narzêdzia te stanowi± warstwê" and "Nie mo¿na znaleŸæ bazy danych!".
PLD_ISO_8859_2 = "Programy DECnet dla Linuksa. Narzędzia te stanowią warstwę interfejsu aplikacji dla DECnetu."
PHP_WINDOWS_1250 = "Nie można znaleźć bazy danych!"


@pytest.mark.parametrize("declared", ["iso-8859-1", "ISO-8859-1", "windows-1252", "us-ascii"])
@pytest.mark.parametrize("text,charset", [(PLD_ISO_8859_2, "iso-8859-2"), (PHP_WINDOWS_1250, "windows-1250"),
                                          (PANGRAM, "iso-8859-2"), (PANGRAM, "windows-1250")])
def test_polish_bytes_under_a_western_label_read_as_polish(declared, text, charset):
    raw = mail(f"MIME-Version: 1.0\nContent-Type: text/plain; charset={declared}\nContent-Transfer-Encoding: 8bit\n",
               text.encode(charset))
    assert parse_mail(raw).body_text == text


@pytest.mark.parametrize("text", [
    "Zużycie: 1000 m³ wody rocznie, café.",  # one "m³" alone never flips a Latin-1 body
    "¿Qué pasa? Señor Muñoz pagó £5 y ± 3 €.",
    "Une sœur à la fête : être ou ne pas être, cœur et œuvre.",  # French letters alone are no sign
])
def test_genuine_latin_1_text_stays_as_declared(text):
    data = text.encode("windows-1252", errors="replace")
    raw = mail("MIME-Version: 1.0\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n",
               data)
    assert parse_mail(raw).body_text == data.decode("windows-1252")


def test_header_encoded_words_that_say_latin_1_but_carry_polish_are_read_as_polish():
    raw = ("From: =?iso-8859-1?Q?Micha=B3_Wo=BCniak?= <m.wozniak@example.org>\r\nTo: konsultacje@um.torun.pl\r\n"
           "Message-ID: <m2@example.org>\r\nSubject: =?ISO-8859-1?Q?Uwagi_do_programu_wsp=F3=B3pracy?=\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nTreść.\r\n").encode()
    parsed = parse_mail(raw)
    assert (parsed.sender_name, parsed.subject) == ("Michał Woźniak", "Uwagi do programu współpracy")


def test_a_latin_1_name_in_an_encoded_word_stays_latin_1():
    raw = ("From: =?iso-8859-1?Q?Fran=E7ois_M=FCller?= <fm@example.org>\r\nTo: konsultacje@um.torun.pl\r\n"
           "Message-ID: <m3@example.org>\r\nSubject: =?iso-8859-1?Q?Caf=E9?=\r\n\r\nx\r\n").encode()
    parsed = parse_mail(raw)
    assert (parsed.sender_name, parsed.subject) == ("François Müller", "Café")


def test_rfc2047_headers_are_decoded():
    raw = ("From: =?windows-1250?Q?Ma=B3gorzata_=AFak?= <m.zak@example.org>\r\nTo: k@um.torun.pl\r\n"
           "Subject: =?iso-8859-2?B?" + base64.b64encode("Uwagi - Łódź".encode("iso-8859-2")).decode() + "?=\r\n"
           "\r\ntreść\r\n").encode()
    parsed = parse_mail(raw)
    assert (parsed.sender_name, parsed.sender_address, parsed.subject) == ("Małgorzata Żak", "m.zak@example.org",
                                                                           "Uwagi - Łódź")


@pytest.mark.parametrize("from_header,name", [
    # Thunderbird folds a long name into encoded-words split inside a word; the space between them is not text.
    ("=?UTF-8?Q?Wydzia=c5=82_Komunikacji_Spo=c5=82ecznej_i_Informacji_Urz?=\r\n =?UTF-8?Q?=c4=99du?= Miasta"
     " Torunia <konsultacje@um.torun.pl>", "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia"),
    ("=?utf-8?b?R3J6ZWdvcnogQnJ6?= =?utf-8?b?xJljenlzemN6eWtpZXdpY3o=?= <g@example.org>",
     "Grzegorz Brzęczyszczykiewicz"),
    ('"Kowalski, Jan" <konsultacje@um.torun.pl>', "Kowalski, Jan"),
    ("=?iso-8859-2?Q?Stowarzyszenie_=A3=F3d=BC?= <konsultacje@um.torun.pl>", "Stowarzyszenie Łódź"),
])
def test_a_name_split_into_several_encoded_words_reads_as_one(from_header, name):
    raw = f"From: {from_header}\r\nTo: k@um.torun.pl\r\nSubject: x\r\n\r\ntreść\r\n".encode()
    assert parse_mail(raw).sender_name == name


def test_the_name_in_the_older_address_form_is_the_senders_name():
    """ "From: tyra3l@gmail.com (Ferenc Kovacs)": the name in a comment after the address (RFC 5322, 3.4), as a
    list server rewrote a Gmail sender's header (PHP internals, 2014). The standard library drops comments, so the
    mail came in from no one by name."""
    real = parse_mail((LIBRARIES / "php-mime-mail-parser-issue84.eml").read_bytes())
    assert (real.sender_name, real.sender_address) == ("Ferenc Kovacs", "tyra3l@gmail.com")
    for header, name in [(b"jan@example.org (=?iso-8859-2?q?Pawe=B3_Nowak?=)", "Paweł Nowak"),
                         ("jan@example.org (Urząd Miasta)".encode(), "Urząd Miasta"),
                         (b"jan@example.org", ""), (b"a@example.org (Ala), b@example.org (Ola)", "")]:
        assert parse_mail(b"From: " + header + b"\r\nSubject: x\r\n\r\nt\r\n").sender_name == name


@pytest.mark.parametrize("charset,data", [
    ("utf-8", b"\xef\xbb\xbfUwaga do \xc2\xa7 3"), (None, b"\xef\xbb\xbfUwaga do \xc2\xa7 3"),
    ("utf-16le", b"\xff\xfe" + "Uwaga do § 3".encode("utf-16-le")), ("utf-16", "Uwaga do § 3".encode("utf-16")),
])
def test_a_byte_order_mark_is_not_part_of_the_text(charset, data):
    declared = f"; charset={charset}" if charset else ""
    raw = (f"From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain{declared}\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n").encode() + base64.encodebytes(data)
    assert parse_mail(raw).body_text == "Uwaga do § 3"


def test_soft_hyphens_and_zero_width_spaces_do_not_split_words():
    html = "<p>Pro\u00adgram wsp\u00f3\u0142\u200bpracy &shy;z organizacjami</p>"
    raw = mail("MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n", html)
    assert parse_mail(raw).body_text == "Program współpracy z organizacjami"


def multipart(*parts: str) -> bytes:
    body = "".join(f"--b1\r\n{part}\r\n" for part in parts) + "--b1--\r\n"
    return mail('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n', body)


def test_rfc2231_file_names_with_continuations_and_rfc2047_names_are_polish():
    raw = multipart(
        "Content-Type: text/plain; charset=utf-8\r\n\r\nW załączeniu.",
        "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
        " filename*0*=utf-8''Uwagi%20do%20programu%20%E2%80%93%20;\r\n filename*1*=%C5%81%C3%B3d%C5%BA.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"%PDF-1.4 test").decode(),
        'Content-Type: application/pdf; name="=?windows-1250?Q?za=B3=B9cznik_=9Cl=B9ski.pdf?="\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"%PDF-1.4 second").decode(),
    )
    parsed = parse_mail(raw)
    assert [a.filename for a in parsed.attachments] == ["Uwagi do programu – Łódź.pdf", "załącznik śląski.pdf"]
    assert parsed.attachments[0].data == b"%PDF-1.4 test"


def test_an_html_only_body_becomes_text_without_scripts_styles_or_markup():
    html = ("<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
            "<p>Dzień dobry,</p><p>proponuję&nbsp;zmianę w&nbsp;<b>§ 5</b>:<br>nowy zapis.</p>"
            "<ul><li>pierwsze</li><li>drugie</li></ul></body></html>")
    raw = mail("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n", html)
    # a list keeps its items' marks, as a plain-text mail writes them
    assert parse_mail(raw).body_text == "Dzień dobry,\n\nproponuję zmianę w § 5:\nnowy zapis.\n\n- pierwsze\n- drugie"


def test_the_quoted_history_of_html_replies_is_dropped():
    gmail = ('<div dir="ltr">Moja uwaga.</div><br><div class="gmail_quote"><div class="gmail_attr">'
             'W dniu pt. napisał(a):</div><blockquote class="gmail_quote">stara treść</blockquote></div>')
    outlook = ('<div class="WordSection1"><p>Moja uwaga.</p><div style="border:none;border-top:solid #E1E1E1 1.0pt">'
               '<p><b>Od:</b> Urząd <br><b>Wysłano:</b> poniedziałek</p></div><p>stara treść</p></div>')
    assert html_to_text(gmail) == "Moja uwaga."
    assert html_to_text(outlook) == "Moja uwaga."


@pytest.mark.parametrize("text,expected", [
    ("Moja uwaga.\n\nOn Mon, 7 Oct 2024 at 10:00, Urząd <k@um.pl> wrote:\n> stare\n", "Moja uwaga."),
    ("Moja uwaga.\n\nW dniu 7.10.2024 o 10:00, Urząd pisze:\n> stare\n", "Moja uwaga."),
    ("Moja uwaga.\n\nDnia 7 października 2024 10:00 Urząd <k@um.pl> napisał(a):\n> stare\n", "Moja uwaga."),
    # Apple Mail (pl), as in public mailing-list archives: on one line, and wrapped by a quoting client
    ("Moja uwaga.\n\nWiadomość napisana przez Urząd <k@um.pl> w dniu 7 paź 2024, o godz. 10:00:\n\n> stare\n",
     "Moja uwaga."),
    ("Moja uwaga.\n\nWiadomość napisana przez Ao Xu <ao.xu@amlogic.com> w dniu 21 lis \n2025, o godz. 03:55:\n> stare\n",
     "Moja uwaga."),
    ("Moja uwaga.\n\n-----Original Message-----\nFrom: Urząd\nstare\n", "Moja uwaga."),
    ("Moja uwaga.\n\n-----Oryginalna wiadomość-----\nOd: Urząd\nstare\n", "Moja uwaga."),
    ("Moja uwaga.\nCiąg dalszy.\n\n-- \nAnna Nowak\ntel. 600 000 000\n", "Moja uwaga.\nCiąg dalszy."),
    ("Moja uwaga.\n\nPozdrawiam\nAnna Nowak\n", "Moja uwaga."),
    ("Moja uwaga.\n\nZ poważaniem,\nAnna Nowak\nPrezes Stowarzyszenia\n", "Moja uwaga."),
    ("Moja uwaga.\n\nWysłane z mojego iPhone'a\n", "Moja uwaga."),
    ("Moja uwaga.\n\nWysłane z iPhone\u2019a", "Moja uwaga."),  # the Polish iOS default, with no "mojego"
    ("Moja uwaga.\n\nWysłano z iPada\n", "Moja uwaga."),
    ("Moja uwaga.\n\nSerdecznie pozdrawiam,\nAnna Nowak\n", "Moja uwaga."),
    ("Moja uwaga.\n\nDziękuję i pozdrawiam\nAnna\n", "Moja uwaga."),
    ("Moja uwaga.\n\nPozdrowienia,\nAnna\n", "Moja uwaga."),
    ("Nasze uwagi.\n\nPozdrawiamy\nZarząd Stowarzyszenia\n", "Nasze uwagi."),
    ("> cytat bez nagłówka\nMoja odpowiedź.\n", "Moja odpowiedź."),
    # Thunderbird (pl), its composeMsgs.properties: "#1 pisze:" without a date, and the "user specified" header
    ("Moja uwaga.\n\nUrząd Miasta Torunia pisze:\n> stare\n", "Moja uwaga."),
    ("Moja uwaga.\n\n--- Treść oryginalnej wiadomości ---\nTemat: Konsultacje\nstare\n", "Moja uwaga."),
])
def test_replies_lose_their_history_and_signature(text, expected):
    assert strip_reply(text) == expected


def test_a_sentence_that_opens_like_apple_mails_attribution_stays():
    text = "Wiadomość napisana przez nasze stowarzyszenie w dniu konsultacji jest w załączniku.\nDruga linia uwagi."
    assert strip_reply(text) == text


def test_a_closing_formula_in_the_middle_of_a_long_text_is_not_a_signature():
    text = "Pozdrawiam wszystkich uczestników.\n" + "\n".join(f"Uwaga {i}: " + "treść " * 30 for i in range(10))
    assert strip_reply(text).startswith("Pozdrawiam wszystkich") and "Uwaga 9" in strip_reply(text)


def test_a_line_that_ends_in_pisze_without_a_quote_after_it_stays():
    text = "Jak pisze:\nustawa w art. 5 ust. 4 wymaga konsultacji."
    assert strip_reply(text) == text


def test_thunderbirds_polish_forward_header_block_is_dropped_with_all_its_fields():
    """Its mime.properties name the fields Temat, Data, Nadawca, Adresat, Kopia, Ukryta kopia, Odpowiedź-Do,
    Wysyłane przez, Firma/Organizacja; before, the last ones stayed in the body as if the forwarder wrote them."""
    text = ("Przesyłam dalej.\n\n--- Treść przekazanej wiadomości ---\nTemat: \tUwagi\nData: \tMon, 21 Oct 2024\n"
            "Nadawca: \tAnna <a@example.org>\nOdpowiedź-Do: \ta@example.org\nFirma/Organizacja: \tFundacja\n"
            "Adresat: \tb@example.org\nKopia: \tc@example.org\nUkryta kopia: \td@example.org\n"
            "Wysyłane przez: \te@example.org\n\nTreść uwagi Anny.\n")
    assert strip_reply(text, forward=True) == "Przesyłam dalej.\n\nTreść uwagi Anny."


@pytest.mark.parametrize(("flowed", "delete_space", "expected"), [
    ("Proponuję dopisać w § 5 tworzenie \nwarunków do współpracy.\n\nDruga.", False,
     "Proponuję dopisać w § 5 tworzenie warunków do współpracy.\n\nDruga."),
    # space-stuffing (RFC 3676 4.4): a line that starts with a space, "From " or ">" gets one more space
    ("Tekst\n From Toruń\n >nie cytat", False, "Tekst\nFrom Toruń\n>nie cytat"),
    # a quoted paragraph flows within its depth only; "-- " is the signature mark, not a soft break
    ("> cytat jest \n> długi\n>> głębiej \n> płycej\n-- \nAnna", False,
     "> cytat jest długi\n>> głębiej \n> płycej\n-- \nAnna"),
    # Apple Mail's DelSp=yes: the space before a soft break was added by the client
    ("nawiązywania rela\u0020\ncji międzysektorowych", True, "nawiązywania relacji międzysektorowych"),
])
def test_format_flowed_text_is_read_as_its_paragraphs(flowed, delete_space, expected):
    assert unflow(flowed, delete_space=delete_space) == expected


def test_a_flowed_part_is_unflowed_and_a_fixed_one_is_not():
    def mail(content_type: str) -> bytes:
        return (f"From: a@example.org\r\nMessage-ID: <f@example.org>\r\nContent-Type: {content_type}\r\n\r\n"
                "Uwaga do \r\n\u00a7 5.\r\n").encode("utf-8")
    assert parse_mail(mail("text/plain; charset=UTF-8; format=flowed")).body_text == "Uwaga do \u00a7 5."
    assert parse_mail(mail("text/plain; charset=UTF-8")).body_text == "Uwaga do\n\u00a7 5."


def test_an_inline_forward_keeps_the_forwarded_text_without_its_header_block():
    text = ("Przesyłam dalej.\n\n---------- Forwarded message ---------\nOd: Anna <a@example.org>\n"
            "Date: pt., 18 paź 2024\nSubject: Uwagi\nTo: <b@example.org>\n\nTreść uwagi Anny.\n")
    assert strip_reply(text) == "Przesyłam dalej.\n\nTreść uwagi Anny."


@pytest.mark.parametrize("header", ["Auto-Submitted: auto-replied", "Auto-Submitted: auto-generated",
                                    "Precedence: bulk", "Precedence: junk", "X-Autoreply: yes", "X-Autorespond: on"])
def test_auto_replies_are_recognised_by_their_headers(header):
    assert parse_mail(mail(header + "\n", "Jestem na urlopie.")).automatic


def test_a_person_saying_auto_submitted_no_is_a_person():
    assert parse_mail(mail("Auto-Submitted: no\nSubject: Uwagi\n", "Moja uwaga.")).automatic is None


def test_a_dsn_is_a_bounce():
    raw = mail('MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="r"\n',
               "--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n--r\r\nContent-Type: message/delivery-status\r\n"
               "\r\nStatus: 5.1.1\r\n--r--\r\n")
    assert "delivery-status" in parse_mail(raw).automatic


@pytest.mark.parametrize("raw,code", [
    (b"", "broken_mime"),
    (b"just some words without any header line at all", "broken_mime"),
    (mail('MIME-Version: 1.0\nContent-Type: multipart/mixed\n', "--x\r\nContent-Type: text/plain\r\n\r\na\r\n--x--\r\n"),
     "broken_mime"),
    (mail('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="zz"\n',
          "--x\r\nContent-Type: text/plain\r\n\r\nthe parts' boundary is not the declared one\r\n--x--\r\n"),
     "broken_mime"),
    (mail('MIME-Version: 1.0\nContent-Type: multipart/mixed\n', "--x\r\n"), "broken_mime"),
    (mail('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n',  # UTF-16 with half a character:
          "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=utf-16le''%00%D8%61%00"
          ".txt\r\n\r\nx\r\n--b--\r\n"), "broken_mime"),  # UnicodeDecodeError out of the standard library
    (b"To: k@um.torun.pl\r\nSubject: bez nadawcy\r\n\r\ntresc\r\n", "no_sender"),
])
def test_broken_mime_is_refused_with_a_reason(raw, code):
    with pytest.raises(MailRefused) as refused:
        parse_mail(raw)
    assert refused.value.code == code and refused.value.reason


MIMEKIT = Path(__file__).resolve().parents[2] / "corpus" / "mail" / "mimekit"
CPYTHON = MIMEKIT.parent / "cpython"


@pytest.mark.parametrize("name,sender,subject,text", [
    ("outlook-express-mac-reused-boundary", "xx@xx.dk", "XX", "Some removed test."),  # and its picture: below
    ("multipart-without-its-parts", "barry@digicool.com", "Here is your dingus fish",
     "Hi there,\n\nThis is the dingus fish.\n\n[Non-text (image/gif) part of message omitted, filename "
     "dingusfish.gif]"),
    ("multipart-without-boundary", "xxx@example.com", "64423", "Blah blah blah"),
])
def test_a_multipart_that_cannot_be_split_but_holds_plain_text_is_read_for_its_text(name, sender, subject, text):
    """CPython's test mails (corpus/mail/cpython/SOURCES.md): a multipart whose boundary never comes or is not
    given, left holding only text, or whose nested part reused its boundary, was refused as broken MIME."""
    parsed = parse_mail((CPYTHON / f"{name}.eml").read_bytes())
    assert (parsed.sender_address, parsed.subject, parsed.body_text.strip()) == (sender, subject, text)
    assert [a.filename for a in parsed.attachments] == (["xx.gif"] if name.startswith("outlook") else [])


def test_parts_after_a_closing_boundary_that_a_nested_part_reused_are_read_as_the_parents():
    """Outlook Express 5 for Mac gave the nested multipart/alternative its parent's boundary: the nested part's
    closing line closed the parent, and the picture attached after it stands in the parent's epilogue."""
    parsed = parse_mail((CPYTHON / "outlook-express-mac-reused-boundary.eml").read_bytes())
    picture = parsed.attachments[0]
    assert (picture.filename, picture.media_type) == ("xx.gif", "image/gif")
    footer = mail('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n',
                  "--b\r\nContent-Type: text/plain\r\n\r\ntekst\r\n--b--\r\nContent-Type: text/plain\r\n\r\nstopka\r\n")
    parsed = parse_mail(footer)  # after the end but not after the boundary: a list's footer, no part
    assert parsed.body_text.strip() == "tekst" and parsed.attachments == ()


def test_a_bounce_whose_to_is_a_group_with_a_comment_is_read_as_the_automatic_mail_it_is():
    """MimeKit's delivery-status.txt: `To: unlisted-recipients:; (no To-header on input)` made the standard
    library's address parser raise AttributeError, and the import crashed."""
    parsed = parse_mail((MIMEKIT / "delivery-status.eml").read_bytes())
    assert parsed.sender_address == "postmaster@mm1.sprynet.com"
    assert parsed.automatic and parsed.recipients == ("postmaster@mm1.sprynet.com",)  # its Cc; the group is empty


def test_a_to_of_thousands_of_colons_is_read_for_its_addresses():
    """MimeKit's stack-overflow.txt: 2,710 encoded-words with colons in To; Python's parser recursed per colon."""
    parsed = parse_mail((MIMEKIT / "stack-overflow.eml").read_bytes())
    assert (parsed.sender_address, parsed.subject, parsed.body_text.strip()) == (
        "test@test.com", "Message Subject", "Message Body")
    assert "test@test.com" in parsed.recipients


@pytest.mark.parametrize("name", ["From", "Subject", "Message-ID", "Content-Type", "Content-Disposition"])
def test_a_parsed_header_longer_than_any_mail_client_writes_is_refused_before_it_is_parsed(name):
    """The standard library's header parser takes time growing with the square of a value's length."""
    value = "\r\n\t".join(["=?utf-8?Q?date=3E2017-08-20T10:08:28.617=3C/pr?="] * 3000)
    raw = (f"From: a@example.org\r\nTo: konsultacje@um.torun.pl\r\n{name}: {value}\r\n\r\ntext\r\n").encode()
    if name == "From":
        raw = f"To: konsultacje@um.torun.pl\r\nFrom: {value}\r\n\r\ntext\r\n".encode()
    with pytest.raises(MailRefused) as refused:
        parse_mail(raw)
    assert refused.value.code == "broken_mime" and name in refused.value.reason


def test_long_headers_this_reader_never_parses_are_left_alone():
    references = " ".join(f"<thread-{n}@lists.example.org>" for n in range(2000))  # a long thread's References
    raw = mail(f"References: {references}\nSubject: Uwagi\n", "Proszę dopisać § 5.")
    assert parse_mail(raw).body_text == "Proszę dopisać § 5."


MIKEL = Path(__file__).resolve().parents[2] / "corpus" / "mail" / "mikel"


def test_an_outlook_express_boundary_left_unquoted_with_an_equals_sign_still_splits_the_parts():
    parsed = parse_mail((MIKEL / "outlook-express-bare-boundary.eml").read_bytes())
    assert (parsed.sender_address, parsed.subject) == ("email_test@me.nowhere", "Testing outlook")
    assert parsed.body_text.split() == "Hello This is an outlook test So there. Me.".split()


def test_a_forwarded_mail_cut_short_is_kept_for_staff_and_the_mail_around_it_is_read():
    parsed = parse_mail((MIKEL / "forwarded-mail-cut-short.eml").read_bytes())
    assert parsed.sender_address == "test@example.com"
    # the mail's own HTML is one picture and no word: the picture is what was sent, kept after the attached mail
    assert [(a.filename, a.media_type, a.forwarded) for a in parsed.attachments] == [
        ("Testmail.eml", "message/rfc822", True), ("img.png", "image/png", False)]
    assert b"Subject: Another PDF" in parsed.attachments[0].data


def test_a_stray_line_among_the_headers_does_not_turn_the_rest_into_the_body():
    parsed = parse_mail((MIKEL / "stray-line-in-headers.eml").read_bytes())
    assert (parsed.sender_address, parsed.recipients, parsed.subject) == (
        "xxx@xxx.xxx", ("xxx@xxx.com",), "Stop adware/spyware once and for all.")
    assert parsed.body_text.startswith("You are infected with:")


def test_a_newline_a_web_form_let_into_the_subject_is_folded_back():
    raw = ("From: Anna <anna@example.org>\r\nSubject: Uwagi do programu\r\ndo § 5\r\nTo: konsultacje@um.torun.pl\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nProszę dopisać.\r\n").encode()
    parsed = parse_mail(raw)
    assert (parsed.subject, parsed.recipients, parsed.body_text) == (
        "Uwagi do programu do § 5", ("konsultacje@um.torun.pl",), "Proszę dopisać.")


def test_text_right_after_the_headers_is_not_taken_for_headers():
    """No blank line after the headers: "Uwagi: …" is the sender's text, not a header, as no header every mail
    has follows it."""
    raw = ("From: Anna <anna@example.org>\r\nTo: konsultacje@um.torun.pl\r\nSubject: uwagi\r\nDzień dobry,\r\n"
           "Uwagi: § 5 do zmiany\r\n\r\nDziękuję\r\n").encode()
    parsed = parse_mail(raw)
    assert parsed.subject == "uwagi" and parsed.body_text.startswith("Dzień dobry,\nUwagi: § 5 do zmiany")


def test_an_oversized_mail_is_refused_before_it_is_read():
    with pytest.raises(MailRefused) as refused:
        parse_mail(mail("", "x" * 2000), max_bytes=1000)
    assert refused.value.code == "too_large"


def test_too_many_parts_are_refused():
    raw = multipart(*["Content-Type: application/octet-stream\r\n\r\nx"] * 300)
    with pytest.raises(MailRefused) as refused:
        parse_mail(raw)
    assert refused.value.code == "too_many_parts"


def test_a_mail_without_message_id_is_identified_by_its_bytes():
    raw = b"From: a@example.org\r\nTo: k@um.torun.pl\r\n\r\ntresc\r\n"
    assert parse_mail(raw).message_id == parse_mail(raw).message_id
    assert parse_mail(raw).message_id != parse_mail(raw + b"x").message_id


def test_an_apple_mail_forward_keeps_the_forwarded_text_after_the_blank_line_before_its_header_block():
    text = ("Przesyłam dalej.\n\nPoczątek przekazywanej wiadomości:\n\nOd: Fundacja <f@example.org>\n"
            "Temat: Uwagi\nData: 18 października 2024 o 09:12:40 CEST\nDo: Marta <m@example.com>\n\nTreść uwagi.\n")
    assert strip_reply(text) == "Przesyłam dalej.\n\nTreść uwagi."


def test_text_parts_on_either_side_of_an_attachment_are_one_body_but_alternatives_are_not_added_up():
    raw = multipart(
        "Content-Type: text/plain; charset=utf-8\r\n\r\nPrzed plikiem.",
        "Content-Type: application/pdf; name=a.pdf\r\nContent-Disposition: inline; filename=a.pdf\r\n\r\n%PDF-1.4",
        "Content-Type: text/plain; charset=utf-8\r\n\r\nPo pliku.",
    )
    assert parse_mail(raw).body_text == "Przed plikiem.\n\nPo pliku."
    alternative = mail('MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="a"\n',
                       "--a\r\nContent-Type: text/plain\r\n\r\nJeden.\r\n--a\r\nContent-Type: text/plain\r\n\r\n"
                       "Jeden raz jeszcze.\r\n--a--\r\n")
    assert parse_mail(alternative).body_text == "Jeden."


def test_a_decomposed_file_name_from_a_mac_reads_composed():
    raw = multipart("Content-Type: text/plain\r\n\r\nx",
                    "Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
                    " filename*=utf-8''Torun%CC%81%20%C5%81o%CC%81dz%CC%81.pdf\r\n\r\n%PDF-1.4")
    assert parse_mail(raw).attachments[0].filename == "Toruń Łódź.pdf"


@pytest.mark.parametrize("charset", ["iso-8859-2", "windows-1250"])
@pytest.mark.parametrize("declared", ["", "Content-Type: text/plain; charset=us-ascii\n",
                                      "Content-Type: text/plain; charset=unknown-8bit\n"])
def test_polish_8bit_text_that_does_not_say_its_charset_reads_right_in_either(charset, declared):
    text = "Zażółć gęślą jaźń. Świat, źdźbło, Ąą Śś Źź."
    assert parse_mail(mail(declared, text.encode(charset))).body_text == text


def test_the_charset_guess_prefers_windows_1250_when_the_text_has_its_control_range_bytes():
    assert guess_polish_8bit("Śląsk ąś".encode("windows-1250")) == "windows-1250"
    assert guess_polish_8bit("ąśź ĄŚŹ".encode("iso-8859-2")) == "iso-8859-2"
    assert guess_polish_8bit("łóżęć".encode("iso-8859-2")) == "windows-1250"  # the same bytes in both


def raw_mail(from_name: bytes, subject: bytes, attachment_headers: bytes) -> bytes:
    return (b"From: " + from_name + b" <anna@example.org>\r\nTo: k@um.torun.pl\r\nMessage-ID: <r@example.org>\r\n"
            b"Subject: " + subject + b'\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
            b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ntresc\r\n--b\r\n" + attachment_headers +
            b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"%PDF-1.4") + b"\r\n--b--\r\n")


@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-2", "windows-1250"])
def test_raw_8bit_letters_in_the_headers_and_the_file_name_read_right(charset):
    raw = raw_mail("Zofia Żółć-Śliwa".encode(charset), "Uwagi – Toruń, ąśź".encode(charset) if charset == "utf-8"
                   else "Uwagi - Toruń, ąśź".encode(charset),
                   'Content-Type: application/pdf; name="uwagi Łódź ąś.pdf"\r\n'
                   'Content-Disposition: attachment; filename="uwagi Łódź ąś.pdf"'.encode(charset))
    parsed = parse_mail(raw)
    assert parsed.sender_name == "Zofia Żółć-Śliwa"
    assert parsed.subject.endswith("Toruń, ąśź")
    assert [a.filename for a in parsed.attachments] == ["uwagi Łódź ąś.pdf"]


def test_an_unquoted_rfc2047_file_name_and_8bit_letters_inside_an_encoded_word_are_read():
    raw = raw_mail("=?iso-8859-2?Q?Stanisław_=A3ukasiewicz?=".encode("iso-8859-2"), b"x",
                   b"Content-Type: application/pdf; name==?iso-8859-2?Q?uwagi_Toru=F1.pdf?=\r\n"
                   b"Content-Disposition: attachment; filename==?iso-8859-2?Q?uwagi_Toru=F1.pdf?=")
    parsed = parse_mail(raw)
    assert parsed.sender_name == "Stanisław Łukasiewicz"
    assert [a.filename for a in parsed.attachments] == ["uwagi Toruń.pdf"]


def test_an_x_uuencoded_attachment_is_decoded():
    raw = raw_mail(b"Anna", b"x", b'Content-Type: application/octet-stream; name="a.pdf"').replace(
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"%PDF-1.4"),
        b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 600 a.pdf\r\n" + binascii.b2a_uu(b"%PDF-1.4 uu")
        + b"`\r\nend")
    assert parse_mail(raw).attachments[0].data == b"%PDF-1.4 uu"


def test_a_logo_in_the_html_is_no_attachment_but_a_pasted_photo_of_a_page_is_kept_with_a_usable_name():
    def inline_picture(size: int, cid: str) -> str:
        return (f"Content-Type: image/jpeg\r\nContent-Disposition: inline\r\nContent-ID: <{cid}>\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"\xff\xd8\xff" + b"x" * size).decode())
    raw = multipart('Content-Type: text/html; charset=utf-8\r\n\r\n<p>Zdjęcie formularza:</p><img src="cid:a">',
                    inline_picture(INLINE_PICTURE_BYTES * 2, "a"), inline_picture(2000, "logo"))
    parsed = parse_mail(raw)
    assert [(a.filename, a.media_type) for a in parsed.attachments] == [("attachment-1.jpg", "image/jpeg")]


OUTLOOK_FORWARD = ("Przekazuję uwagi mieszkańca.\n\nPozdrawiam\nPiotr Zieliński\nWydział Komunikacji\n\n"
                   "Od: Jan Kowalski <jan@example.org>\nWysłano: poniedziałek, 21 października 2024 10:00\n"
                   "Do: Wydział <wydzial@um.torun.pl>\nTemat: Uwagi\n\nProponuję dopisać § 5 ust. 3.\n\n"
                   "Z poważaniem\nJan Kowalski\n\nOd: Konsultacje <k@um.torun.pl>\nWysłano: poniedziałek\n"
                   "Do: Jan Kowalski\nTemat: II etap\n\nNa uwagi czekamy.\n")


def test_an_outlook_forward_keeps_the_forwarded_text_but_not_its_own_history_nor_the_signatures():
    assert strip_reply(OUTLOOK_FORWARD, forward=True) == "Przekazuję uwagi mieszkańca.\n\nProponuję dopisać § 5 ust. 3."
    assert strip_reply(OUTLOOK_FORWARD) == "Przekazuję uwagi mieszkańca."  # a reply's history is not read


@pytest.mark.parametrize("subject", ["PD: Uwagi", "FW: Uwagi", "Fwd: Uwagi", "Przek.: Uwagi", "WG: Uwagi", "TR: Uwagi",
                                     "[EXTERNAL] FW: Uwagi", "[ZEWNĘTRZNA] PD: Uwagi"])
def test_a_forward_is_known_by_its_subject(subject):
    raw = mail(f"Subject: {subject}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n",
               OUTLOOK_FORWARD)
    assert "Proponuję dopisać § 5 ust. 3." in parse_mail(raw).body_text


def test_a_gmail_forward_after_the_forwarders_signature_keeps_the_forwarded_text():
    text = ("Przesyłam dalej.\n\nPozdrawiam\nPiotr\n\n---------- Forwarded message ---------\n"
            "Od: Anna <a@example.org>\nDate: pt., 18 paź 2024\nSubject: Uwagi\nTo: <b@example.org>\n\nTreść uwagi Anny.\n")
    assert strip_reply(text) == "Przesyłam dalej.\n\nTreść uwagi Anny."


LIBRARIES = MIMEKIT.parent / "libraries"  # public mail libraries' test mails, corpus/mail/libraries/SOURCES.md


def test_an_answer_written_below_the_quote_or_between_its_lines_is_read():
    """A bottom-posted "+1 from me." under the whole quoted RFC (PHP internals, 2014) was thrown away with the
    quote, and the mail rejected as empty; so were the answers between an interleaved reply's quoted lines."""
    assert parse_mail((LIBRARIES / "php-mime-mail-parser-issue84.eml").read_bytes()).body_text == "+1 from me."
    interleaved = parse_mail((LIBRARIES / "flanker-from-encoding.eml").read_bytes()).body_text
    assert interleaved.startswith("Isn't that the case for almost every other server you care to mention?")
    assert "processing stage?" in interleaved and "Marc Slemko wrote" not in interleaved
    assert "buffer overflow" not in interleaved
    top = mail("Content-Type: text/plain; charset=utf-8\n",
               "Moja uwaga powyżej.\r\n\r\nW dniu 1.10.2026 o 10:00, Jan pisze:\r\n> pytanie\r\n> dalej\r\n")
    assert parse_mail(top).body_text == "Moja uwaga powyżej."  # the quote ends the mail: the answer was above it
    outlook = mail("Content-Type: text/plain; charset=utf-8\n",
                   "Odpowiedź.\r\n\r\n-----Original Message-----\r\nFrom: Jan\r\n\r\nTreść oryginału.\r\n")
    assert parse_mail(outlook).body_text == "Odpowiedź."  # Outlook's unquoted original is not the sender's


def test_a_recipient_address_in_raw_utf8_is_read_as_its_letters():
    """SpamScope's mail_test_12 has To: danglüe@… in raw UTF-8 (RFC 6532); the address kept the parser's
    surrogates, and storing the reason that names it raised UnicodeEncodeError."""
    parsed = parse_mail((LIBRARIES / "spamscope-mail_test_12.eml").read_bytes())
    assert "danglüe@email.com" in parsed.recipients
    assert not any("\ud800" <= char <= "\udfff" for address in parsed.recipients for char in address)


def test_utf8_with_a_broken_byte_stays_utf8():
    """One truncated sequence no longer turns every Polish letter into windows-1250 mojibake; Yahoo cut a Russian
    file name in the middle of a letter (flanker's russian-attachment-yahoo.eml)."""
    cut = mail("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n",
               "Proszę zmienić zapis o żółtej linii.\r\nKoniec ".encode() + "ł".encode()[:1])
    assert parse_mail(cut).body_text.startswith("Proszę zmienić zapis o żółtej linii.\nKoniec")
    yahoo = parse_mail((LIBRARIES / "flanker-russian-attachment-yahoo.eml").read_bytes())
    assert yahoo.attachments[0].filename.startswith("Картинка с очень, очень длинным предлинным именем")
    windows = mail("Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n",
                   "Proszę zmienić zapis o żółtej linii.".encode("windows-1250"))
    assert parse_mail(windows).body_text == "Proszę zmienić zapis o żółtej linii."  # no UTF-8 in it: Polish


def test_text_labelled_gb2312_is_read_as_gbk_as_browsers_do():
    gbk = mail("Content-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: 8bit\n", "朱镕基".encode("gbk"))
    assert parse_mail(gbk).body_text == "朱镕基"  # 镕 is GBK's, not GB2312's


def test_a_preamble_right_after_the_headers_is_not_folded_into_them():
    """Thunderbird 16's mail with no blank line before "This is a multi-part message" (enmime's test data): the
    boundary line and the first part's headers were taken for the mail's own, and the mail refused."""
    parsed = parse_mail((LIBRARIES / "enmime-qp-utf8-header-no-break.eml").read_bytes())
    assert (parsed.sender_address, parsed.subject) == ("jamehi03@jamehi03lx.noa.com", "MIME UTF8 Test ¢ More Text")
    assert parsed.body_text.startswith("Lorem ipsum dolor sit amet, consectetur adipiscing elit. Nullam venenatis")


def test_a_transfer_encoding_declared_on_a_multipart_is_ignored_as_mail_clients_do():
    """A newsletter's multipart/related says quoted-printable (SpamScope's mail_test_6); its parts split all the
    same, and it was refused as broken MIME."""
    parsed = parse_mail((LIBRARIES / "spamscope-mail_test_6.eml").read_bytes())
    assert parsed.subject == "Быстрее вкладывайте в золото!" and "Профессионалы.ru" in parsed.body_text


def test_an_attached_mail_is_read_after_the_senders_words_and_alone_when_they_wrote_only_a_signature():
    """django-mailbox's test mail says "I am sending you an email message as an attachment" and attaches one
    (message/rfc822); its text was dropped. MIME-tools' ak-0696 (Netscape 2.02, 1997) forwards a German letter
    under a signature alone, and was rejected as a mail with no text."""
    from services.intake.mail.parse import ATTACHED_MAIL

    parsed = parse_mail((LIBRARIES / "django-mailbox-message_with_rfc822_attachment.eml").read_bytes())
    own, attached = parsed.body_text.split(f"\n\n{ATTACHED_MAIL}\n\n")
    assert own == "Dear Sir or Madam,\n\nI am sending you an email message as an attachment."
    assert attached == "Hello!\n\nThis is the attached email."
    forwarded = parse_mail((LIBRARIES / "mime4j-mimetools-ak-0696.eml").read_bytes()).body_text
    assert forwarded.startswith("Hallo Herr Specht,") and ATTACHED_MAIL not in forwarded
    assert "Juergen Specht - KULTURBOX" not in forwarded


def test_an_attached_mail_sent_in_base64_is_decoded_and_read():
    """Yandex's webmail sends attached mails in base64 (imap_tools' attachment_2_base64.eml), which the standard
    library reads as a mail without headers: the two attached GitHub notifications were lost."""
    parsed = parse_mail((LIBRARIES / "imap_tools-attachment_2_base64.eml").read_bytes())
    assert parsed.body_text.startswith("two attach\n\n") and "As .EML files have these headers:" in parsed.body_text
    assert parsed.forwarded_senders == ("notifications@github.com", "notifications@github.com")


def test_a_transfer_encoding_with_spaces_after_it_is_still_decoded():
    """Stalwart's thirdparty/003.eml: "quoted-printable" and then fourteen spaces; the part was kept encoded
    ("Move =E2=99=9A"). The fixture has no From, which is added."""
    raw = b"From: Anna Nowak <anna@example.org>\r\n" + (LIBRARIES / "stalwart-thirdparty-003.eml").read_bytes()
    text = parse_mail(raw).body_text
    assert "=E2=99" not in text and text.count("Move ♚ to ♛'s ♝") == 4  # 8bit, binary, QP and base64 alike
    pdf = mail('Content-Type: multipart/mixed; boundary="b"\n',
               "--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64 \r\n\r\n"
               + base64.b64encode("Uwagi w załączniku.".encode()).decode() + "\r\n--b\r\n"
               "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=uwagi.pdf\r\n"
               "Content-Transfer-Encoding: base64  \r\n\r\n" + base64.b64encode(b"%PDF-1.4 x").decode() + "\r\n--b--\r\n")
    parsed = parse_mail(pdf)
    assert parsed.body_text == "Uwagi w załączniku." and parsed.attachments[0].data == b"%PDF-1.4 x"


def test_a_small_picture_is_kept_when_the_mail_has_no_other_text_or_no_html_to_show_it_in():
    """Stalwart's thirdparty/011.eml (Thunderbird 91, "small image"): the HTML is one picture and no word, and
    the mail was rejected as empty; imap_tools' attachment_content_location.eml (Apple Mail): plain text and a
    photo with a Content-ID, which no HTML shows, was dropped as a logo."""
    alone = parse_mail((LIBRARIES / "stalwart-thirdparty-011.eml").read_bytes())
    assert alone.body_text == "" and [a.media_type for a in alone.attachments] == ["image/png"]
    assert alone.attachments[0].data.startswith(b"\x89PNG")
    apple = parse_mail((LIBRARIES / "imap_tools-attachment_content_location.eml").read_bytes())
    assert apple.body_text == "This is the first part." and [a.media_type for a in apple.attachments] == ["image/jpeg"]


def test_a_nul_in_a_text_part_is_not_kept():
    """Stalwart's thirdparty/000.eml has a NUL in its base64 text, which a PostgreSQL text column refuses (the
    comment made from the mail's body would fail to store). The fixture has no From, which is added."""
    raw = b"From: Anna Nowak <anna@example.org>\r\n" + (LIBRARIES / "stalwart-thirdparty-000.eml").read_bytes()
    text = parse_mail(raw).body_text
    assert "\x00" not in text and text.startswith("we have\na lot\nof binary stuff in here")


def test_base64_with_a_stray_group_of_characters_is_decoded_as_far_as_it_goes():
    """The standard library gives such a part's encoded text itself (InvalidBase64LengthDefect)."""
    encoded = base64.b64encode("Uwaga do § 5: proszę dopisać organizacje seniorów.".encode()).decode()
    raw = mail("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n", encoded + "\r\nQUJD\r\nX\r\n")
    assert parse_mail(raw).body_text.startswith("Uwaga do § 5: proszę dopisać organizacje seniorów.")
    # enmime's mime-bad-content-transfer-encoding: words and spaces labelled base64 stay the words they are
    labelled = parse_mail((LIBRARIES / "enmime-mime-bad-content-transfer-encoding.eml").read_bytes()).body_text
    assert labelled.startswith("ploozdect  nispplul swunkglap zarplontruskdremp fruftsist")


RT = LIBRARIES.parent / "rt"  # Request Tracker's test mails, corpus/mail/rt/SOURCES.md


def test_a_mail_attached_by_exchange_with_a_blank_line_inside_its_header_is_read():
    """Its Content-Type and MIME-Version came after the blank line, so its text was read as raw MIME source."""
    body = parse_mail((RT / "outlook-rfc822.eml").read_bytes()).body_text
    assert body.endswith("---------- Załączona wiadomość / Attached message ----------\n\nthis is a test")
    assert "Content-Type" not in body and "boundary" not in body


@pytest.mark.parametrize(("name", "text"), [
    ("gnupg-4-signed-inline-plain.eml", "This is a test email with inline signature.\nID:4"),
    ("gnupg-19-signed-inline-plain-nested.eml", "This is a test email with inline nested signature.\nID:19"),
])
def test_text_signed_inline_with_openpgp_is_read_without_its_armour(name, text):
    assert parse_mail((RT / name).read_bytes()).body_text == text


def test_text_encrypted_inline_with_openpgp_becomes_a_file_not_a_comment():
    parsed = parse_mail((RT / "gnupg-10-encrypted-inline-plain.eml").read_bytes())
    assert parsed.body_text == ""
    assert [(a.filename, a.media_type) for a in parsed.attachments] == [
        ("wiadomosc-zaszyfrowana-1.asc", "application/pgp-encrypted")]
    assert parsed.attachments[0].data.startswith(b"-----BEGIN PGP MESSAGE-----")


def test_forwards_of_forwards_nested_nine_deep_are_read():
    """Refused as "nested deeper than 8" before: a chain of forwards sent as attachments nests two levels a time."""
    body = parse_mail((RT / "nested-mime-sample.eml").read_bytes()).body_text
    assert body.startswith("MIME is fun at times.\n\n---------- Załączona wiadomość / Attached message ----------")
    assert body.endswith("2nd outer message\n\nThis is the first middle message\n\nThis is the second middle message")


@pytest.mark.parametrize("depth", [33, 200, 3000])
def test_parts_nested_beyond_the_limit_are_refused_however_deep(depth):
    """3,000 levels made the standard library's parser raise RecursionError out of parse_mail."""
    with pytest.raises(MailRefused) as refused:
        parse_mail(b"From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
                   + nested_multiparts(depth))
    assert refused.value.code == "broken_mime"


def test_an_attached_mail_in_base64_nested_thousands_deep_is_refused_not_a_crash():
    """An attached mail sent in base64 is parsed again inside the walk, where the same recursion could escape."""
    attached = base64.encodebytes(b"From: c@example.org\r\nSubject: y\r\nMIME-Version: 1.0\r\n"
                                  + nested_multiparts(3000))
    raw = (b'From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: '
           b'multipart/mixed; boundary="out"\r\n\r\n--out\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--out\r\n'
           b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n" + attached + b"--out--\r\n")
    with pytest.raises(MailRefused) as refused:
        parse_mail(raw)
    assert refused.value.code == "broken_mime"
