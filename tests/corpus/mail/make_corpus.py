"""Rebuilds the adapted files of this corpus (see SOURCES.md): the filled forms and the mails that carry them.

The mail shapes (headers, MIME structure, reply and forward layout) are copied from the real samples
named in SOURCES.md; only the words are replaced with public comment text from the 2024 announcement,
and the forms are attached. Run from the repository root:
`.venv/bin/python tests/corpus/mail/make_corpus.py` (needs LibreOffice for the ODT).
"""

from __future__ import annotations

import base64
import io
import quopri
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

HERE = Path(__file__).resolve().parent

# Public text: what the 2024 announcement says comments at the Dialogue Congress were about.
TEXT_1 = ("tworzenie warunków do współpracy między organizacjami pozarządowymi, sieciowania, nawiązywania relacji "
          "międzysektorowych organizacji z samorządem, biznesem, jednostkami naukowymi i podmiotami działającymi w ich "
          "otoczeniu")
WHY_1 = "zwiększanie świadomości w zakresie specyfiki działania organizacji pozarządowych i form współpracy z nimi"
TEXT_2 = ("rozwijanie kultury współpracy poprzez dialog oraz wzmacnianie zaufania między gminą i organizacjami "
          "pozarządowymi oraz wzmacnianie dialogu międzysektorowego")
WHY_2 = "przeciwdziałanie dyskryminacji i wykluczeniu społecznemu"
TEXT_3 = ("Toruńskie Forum Organizacji Pozarządowych – porozmawiajmy o formule, pomysłach programowych, tematyce paneli "
          "i warsztatów")
GDPR = ("Zgodnie z art. 13 RODO informujemy, że administratorem danych osobowych jest Prezydent Miasta Torunia. "
        "Dane przetwarzane są wyłącznie w celu przeprowadzenia konsultacji.")


def _merge_title(table, text: str) -> None:
    row = table.rows[0]
    merged = row.cells[0].merge(row.cells[-1])
    merged.text = text
    merged.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def form_a(path: Path) -> None:
    """The city's layout: details as paragraphs, a merged title row, the header, the column numbers, rows with gaps."""
    document = Document()
    document.styles["Normal"].font.size = Pt(11)
    document.add_paragraph("FORMULARZ ZGŁASZANIA UWAG").alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("do projektu Programu współpracy Gminy Miasta Toruń z organizacjami pozarządowymi w 2025 r.")
    document.add_paragraph("Imię i nazwisko: Anna Nowak")
    document.add_paragraph("Nazwa organizacji: Stowarzyszenie Przyjaciół Torunia")
    document.add_paragraph("Adres e-mail: anna.nowak@example.org")
    table = document.add_table(rows=8, cols=5)
    table.style = "Table Grid"
    _merge_title(table, "Zgłaszane uwagi")
    header = ("Lp.", "Część dokumentu, do którego odnosi się uwaga (rozdział, paragraf, ustęp, punkt)",
              "Zapis w projekcie", "Propozycja zmiany (konkretny sugerowany zapis)", "Uzasadnienie zmiany")
    for cell, text in zip(table.rows[1].cells, header):
        cell.text = text
    for cell, text in zip(table.rows[2].cells, ("1", "2", "3", "4", "5")):
        cell.text = text
    rows = (("1.", "§ 5 ust. 2", "Współpraca ma charakter finansowy i pozafinansowy.", TEXT_1, WHY_1),
            ("2.", "", "", "", ""),
            ("3.", "Rozdział 4 pkt 3", "", TEXT_2, WHY_2),
            ("4.", "", "", "", ""), ("5.", "", "", "", ""))
    for row, values in zip(table.rows[3:], rows):
        for cell, text in zip(row.cells, values):
            cell.text = text
    document.add_paragraph("")
    document.add_paragraph(GDPR)
    document.add_paragraph("Data i podpis: 18.10.2024, Anna Nowak")
    document.save(path)


def form_b(path: Path) -> None:
    """Another office's variant: details in a two-column table, columns in another order, an extra column."""
    document = Document()
    document.add_heading("Formularz konsultacyjny", level=1)
    details = document.add_table(rows=3, cols=2)
    details.style = "Table Grid"
    for row, (label, value) in zip(details.rows, (("Imię i nazwisko / nazwa organizacji", "Fundacja Dialog"),
                                                    ("E-mail", "biuro@fundacja-dialog.example.org"),
                                                    ("Telefon", "56 000 00 00"))):
        row.cells[0].text, row.cells[1].text = label, value
    document.add_paragraph("Prosimy o wypełnienie tabeli poniżej.")
    table = document.add_table(rows=4, cols=5)
    table.style = "Table Grid"
    header = ("Lp.", "Treść uwagi", "Część dokumentu, do którego odnosi się uwaga", "Uzasadnienie zmiany",
              "Uwagi dodatkowe")
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ("1", TEXT_3, "Rozdział 7", "Forum jest najważniejszym wydarzeniem "
                                                "sektora w mieście.", "—")):
        cell.text = text
    document.save(path)


def odt_from(docx: Path, odt: Path) -> None:
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as out:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "odt",
                        "--outdir", out, str(docx)], check=True, capture_output=True, timeout=120)
        odt.write_bytes((Path(out) / (docx.stem + ".odt")).read_bytes())


def rtf_from(docx: Path, rtf: Path) -> None:
    """The form saved as RTF by LibreOffice Writer, as offices publish forms that open in any word processor."""
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as out:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "rtf",
                        "--outdir", out, str(docx)], check=True, capture_output=True, timeout=120)
        rtf.write_bytes((Path(out) / (docx.stem + ".rtf")).read_bytes())


def b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def qp(text: str, charset: str) -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def qp_word(text: str, charset: str = "utf-8") -> str:
    """The encoded text of an RFC 2047 Q encoded-word."""
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}" for b in text.encode(charset))


def write(name: str, text: str) -> None:
    (HERE / name).write_bytes(text.replace("\n", "\r\n").encode("ascii"))


def write_8bit(name: str, head: str, body: bytes) -> None:
    """A mail whose body is raw 8-bit bytes, as old clients sent it."""
    (HERE / name).write_bytes(head.replace("\n", "\r\n").encode("ascii") + body.replace(b"\n", b"\r\n"))


def doc_from(docx: Path) -> bytes:
    """The form saved as a Word 97-2003 .doc, as offices still send it."""
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as out:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        "doc:MS Word 97", "--outdir", out, str(docx)], check=True, capture_output=True, timeout=120)
        return (Path(out) / (docx.stem + ".doc")).read_bytes()


def tnef(attachment_title: str, data: bytes, long_name: str) -> bytes:
    """A winmail.dat as Outlook writes it for a mail sent in Rich Text: the TNEF stream (MS-OXTNEF) with the
    message class and one attached file (its 8.3 title, rendering data, bytes, and the property block with the
    long file name in UTF-16, as in the real Outlook stream tests/corpus/mail/tnef/unicode-mapi-attr-name.tnef)."""
    import struct

    def attribute(level: int, attr_id: int, payload: bytes) -> bytes:
        return struct.pack("<BII", level, attr_id, len(payload)) + payload + struct.pack("<H", sum(payload) & 0xFFFF)

    def unicode_property(identifier: int, text: str) -> bytes:
        value = text.encode("utf-16-le") + b"\0\0"
        return struct.pack("<HHII", 0x001F, identifier, 1, len(value)) + value + b"\0" * (-len(value) % 4)

    properties = (struct.pack("<I", 3) + struct.pack("<HHI", 0x0003, 0x3705, 1)  # PR_ATTACH_METHOD: by value
                  + unicode_property(0x3703, "." + long_name.rsplit(".", 1)[-1])  # PR_ATTACH_EXTENSION
                  + unicode_property(0x3707, long_name))  # PR_ATTACH_LONG_FILENAME

    return (struct.pack("<IH", 0x223E9F78, 0x0001)
            + attribute(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
            + attribute(1, 0x00069007, struct.pack("<II", 1250, 0))  # attOemCodepage: a Polish Windows
            + attribute(1, 0x00078008, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
            + attribute(2, 0x00069002, struct.pack("<HiiI", 1, -1, -1, 0))  # attAttachRendData
            + attribute(2, 0x00018010, attachment_title.encode("cp1250") + b"\x00")  # attAttachTitle
            + attribute(2, 0x0006800F, data)  # attAttachData
            + attribute(2, 0x00069005, properties))  # attAttachment


def smime_signature(content: bytes) -> bytes:
    """A detached CMS signature (smime.p7s) over `content`, by a throwaway self-signed certificate."""
    with tempfile.TemporaryDirectory() as folder:
        key, cert, signed = (Path(folder) / name for name in ("key.pem", "cert.pem", "content"))
        signed.write_bytes(content)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "3650", "-subj", "/CN=Anna Nowak/emailAddress=anna.nowak@example.org"],
                       check=True, capture_output=True, timeout=60)
        return subprocess.run(["openssl", "cms", "-sign", "-binary", "-in", str(signed), "-signer", str(cert),
                               "-inkey", str(key), "-outform", "DER"], check=True, capture_output=True, timeout=60).stdout


def main() -> None:
    form_a(HERE / "form-a-toruń.docx")
    form_b(HERE / "form-b-columns-reordered.docx")
    odt_from(HERE / "form-a-toruń.docx", HERE / "form-a-toruń.odt")
    rtf_from(HERE / "form-a-toruń.docx", HERE / "form-a-toruń.rtf")
    docx_a = (HERE / "form-a-toruń.docx").read_bytes()
    docx_b = (HERE / "form-b-columns-reordered.docx").read_bytes()
    odt_a = (HERE / "form-a-toruń.odt").read_bytes()
    pdf = (HERE / "scan.pdf").read_bytes()

    # Zimbra's forward as an attachment (php-mime-mail-parser tests/mails/issue158b): the form is in the inner mail.
    write("zimbra-forward-rfc822-form.eml", f"""Date: Mon, 6 Mar 2017 14:56:51 +0000 (GMT)
From: =?utf-8?Q?Piotr_Zieli=C5=84ski?= <p.zielinski@example.com>
To: konsultacje@um.torun.pl
Message-ID: <445158045.378131.1488812211066.JavaMail.zimbra@zedcore.com>
In-Reply-To: <649983063.377570.1488812041831.JavaMail.zimbra@zedcore.com>
References: <649983063.377570.1488812041831.JavaMail.zimbra@zedcore.com>
Subject: =?utf-8?Q?Fwd:_Uwagi_do_projektu_programu_wsp=C3=B3=C5=82pracy?=
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="----=_Part_378129_257370687.1488812211065"
X-Mailer: Zimbra 8.6.0_GA_1200 (ZimbraWebClient - FF45 (Linux)/8.6.0_GA_1200)
Thread-Topic: Uwagi do projektu programu
Thread-Index: BsIxD6EDQhVNqaTfcPN/d36x7UYGq6dRLyIX

------=_Part_378129_257370687.1488812211065
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp("Przesyłam dalej uwagi Pani Anny Nowak, które trafiły na mój adres.", "utf-8")}

------=_Part_378129_257370687.1488812211065
Content-Type: message/rfc822
Content-Disposition: attachment

Return-Path: anna.nowak@example.org
Date: Mon, 6 Mar 2017 14:54:01 +0000 (GMT)
From: Anna Nowak <anna.nowak@example.org>
To: p.zielinski@example.com
Message-ID: <649983063.377570.1488812041831.JavaMail.zimbra@example.com>
Subject: =?utf-8?Q?Uwagi_do_projektu_programu_wsp=C3=B3=C5=82pracy?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_Part_inner_1488812041831"
X-Mailer: Zimbra 8.6.0_GA_1200 (ZimbraWebClient - FF45 (Linux)/8.6.0_GA_1200)
Thread-Topic: Uwagi do projektu programu
Thread-Index: BsIxD6EDQhVNqaTfcPN/d36x7UYGqw==

------=_Part_inner_1488812041831
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp('<html><body><div style="font-family: arial, helvetica, sans-serif; font-size: 12pt; color: #000000"><div>W za'
    'łączeniu przesyłam formularz z uwagami do projektu programu.<br></div></div></body></html>', "utf-8")}
------=_Part_inner_1488812041831
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;
 name="=?utf-8?Q?formularz_uwag_=E2=80=93_Toru=C5=84.docx?="
Content-Disposition: attachment;
 filename="=?utf-8?Q?formularz_uwag_=E2=80=93_Toru=C5=84.docx?="
Content-Transfer-Encoding: base64

{b64(docx_a)}
------=_Part_inner_1488812041831--
------=_Part_378129_257370687.1488812211065--
""")

    # Netscape Communicator's RFC 2047 file name (php-mime-mail-parser tests/mails/m0014), here a scanned form.
    write("netscape-rfc2047-scan.eml", f"""Message-ID: <392367BC.3D075C95@example.com>
Date: Wed, 17 May 2000 23:47:08 -0400
From: =?iso-8859-2?Q?Jerzy_Kowalczyk?= <j.kowalczyk@example.com>
X-Mailer: Mozilla 4.7 [pl] (WinNT; I)
X-Accept-Language: pl
MIME-Version: 1.0
To: konsultacje@um.torun.pl
Subject: =?iso-8859-2?Q?Uwagi_-_skan_formularza?=
Content-Type: multipart/mixed;
 boundary="------------CA611088711119FBDB3473B4"

This is a multi-part message in MIME format.
--------------CA611088711119FBDB3473B4
Content-Type: text/plain; charset=iso-8859-2
Content-Transfer-Encoding: quoted-printable

{qp("W załączeniu skan podpisanego formularza z uwagami.", "iso-8859-2")}
--------------CA611088711119FBDB3473B4
Content-Type: application/pdf;
 name="=?iso-8859-2?Q?skan_uwag_Toru=F1.pdf?="
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename="=?iso-8859-2?Q?skan_uwag_Toru=F1.pdf?="

{b64(pdf)}
--------------CA611088711119FBDB3473B4--
""")

    # Outlook desktop's reply (crisp-oss/email-reply-parser test/fixtures/email_outlook_split_line_from.txt),
    # as the Polish Outlook writes it: windows-1250, quoted-printable, "Od:/Wysłano:/Do:/Temat:" history.
    body = ("Dzień dobry,\n\nw § 5 ust. 2 proponuję dopisać: " + TEXT_1 + ".\n\nUzasadnienie: " + WHY_1 + ".\n\n"
            "Z poważaniem\nJan Kowalski\nStowarzyszenie Rowerowy Toruń\n\n"
            "Od: Konsultacje Społeczne <konsultacje@um.torun.pl>\nWysłano: poniedziałek, 7 października 2024 10:00\n"
            "Do: Jan Kowalski <jan.kowalski@example.org>\nTemat: Wspólnie o programie współpracy z NGO na 2025 r. - II etap\n\n"
            "Rozpoczynamy II etap konsultacji społecznych Programu współpracy Gminy Miasta Toruń z organizacjami "
            "pozarządowymi w 2025 r.\nNa uwagi czekamy do 21 października 2024.\n")
    write("outlook-reply-cp1250-qp.eml", f"""From: Jan Kowalski <jan.kowalski@example.org>
To: =?windows-1250?Q?Konsultacje_Spo=B3eczne?= <konsultacje@um.torun.pl>
Subject: =?windows-1250?Q?RE:_Wsp=F3lnie_o_programie_wsp=F3=B3pracy_z_NGO_na_2025_r._-_II_etap?=
Thread-Topic: =?windows-1250?Q?Wsp=F3lnie_o_programie_wsp=F3=B3pracy_z_NGO_na_2025_r._-_II_etap?=
Thread-Index: AdsYq4Jw0Gr2l3gXQ8u2m8p1Vd7xQA==
Date: Fri, 18 Oct 2024 09:41:12 +0000
Message-ID: <AM0PR07MB4417C0E6D1B8A4E6F0A2B1C3F9452@AM0PR07MB4417.eurprd07.prod.outlook.com>
References: <4c2b9f0e-1d1e-4b8e-9a0c-konsultacje@um.torun.pl>
In-Reply-To: <4c2b9f0e-1d1e-4b8e-9a0c-konsultacje@um.torun.pl>
Accept-Language: pl-PL, en-US
Content-Language: pl-PL
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
X-Mailer: Microsoft Outlook 16.0
Content-Type: text/plain; charset="windows-1250"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

{qp(body, "windows-1250")}""")

    # Gmail's reply with an attachment (crisp-oss/email-reply-parser test/fixtures/email_gmail_split_line_from.txt
    # for the body; Gmail's multipart/alternative and RFC 2231 file name), in ISO-8859-2 and base64.
    plain = ("Dzień dobry,\n\nw załączeniu formularz z uwagami Fundacji.\n\nPozdrawiam\nMarta Wiśniewska\n\n"
             "pt., 18 paź 2024 o 10:12 Konsultacje Społeczne <\nkonsultacje@um.torun.pl> napisał(a):\n\n"
             "> Rozpoczynamy II etap konsultacji społecznych Programu współpracy.\n> Na uwagi czekamy do 21 października 2024.\n")
    html = ('<div dir="ltr">Dzień dobry,<div><br></div><div>w załączeniu formularz z uwagami Fundacji.</div><div><br>'
            '</div><div>Pozdrawiam</div><div>Marta Wiśniewska</div></div><br><div class="gmail_quote"><div dir="ltr" '
            'class="gmail_attr">pt., 18 paź 2024 o 10:12 Konsultacje Społeczne &lt;<a href="mailto:konsultacje@um.torun.pl">'
            'konsultacje@um.torun.pl</a>&gt; napisał(a):<br></div><blockquote class="gmail_quote" style="margin:0px 0px '
            '0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">Rozpoczynamy II etap konsultacji '
            'społecznych Programu współpracy.<br>Na uwagi czekamy do 21 października 2024.</blockquote></div>\n')
    write("gmail-reply-iso-8859-2-form.eml", f"""MIME-Version: 1.0
Date: Sat, 19 Oct 2024 20:15:03 +0200
References: <4c2b9f0e-1d1e-4b8e-9a0c-konsultacje@um.torun.pl>
In-Reply-To: <4c2b9f0e-1d1e-4b8e-9a0c-konsultacje@um.torun.pl>
Message-ID: <CAJ8n3Vq+5d0xR2cQk7bH0sZyP0n4u6Lwq2m=Vt8Gm1sYb3k1Aw@mail.gmail.com>
Subject: =?UTF-8?Q?Re=3A_Wsp=C3=B3lnie_o_programie_wsp=C3=B3=C5=82pracy_z_NGO?=
From: =?UTF-8?Q?Marta_Wi=C5=9Bniewska?= <marta.wisniewska@example.com>
To: =?UTF-8?Q?Konsultacje_Spo=C5=82eczne?= <konsultacje@um.torun.pl>
Content-Type: multipart/mixed; boundary="000000000000a1b2c30623f0e9a1"

--000000000000a1b2c30623f0e9a1
Content-Type: multipart/alternative; boundary="000000000000a1b2bf0623f0e99f"

--000000000000a1b2bf0623f0e99f
Content-Type: text/plain; charset="ISO-8859-2"
Content-Transfer-Encoding: base64

{b64(plain.encode("iso-8859-2"))}
--000000000000a1b2bf0623f0e99f
Content-Type: text/html; charset="ISO-8859-2"
Content-Transfer-Encoding: quoted-printable

{qp(html, "iso-8859-2")}
--000000000000a1b2bf0623f0e99f--
--000000000000a1b2c30623f0e9a1
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;
	name*=UTF-8''Formularz%20uwag%20%E2%80%93%20Fundacja%20Dialog.docx
Content-Disposition: attachment;
	filename*=UTF-8''Formularz%20uwag%20%E2%80%93%20Fundacja%20Dialog.docx
Content-Transfer-Encoding: base64
X-Attachment-Id: f_m2f9k1p30
Content-ID: <f_m2f9k1p30>

{b64(docx_b)}
--000000000000a1b2c30623f0e9a1--
""")

    # Thunderbird's HTML-only reply (the shape of a Thunderbird 102 mail on qemu-devel, 24 Apr 2023:
    # moz-cite-prefix and blockquote type=cite), with the form as ODT saved by LibreOffice.
    html = ('<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\n'
            '  </head>\n  <body>\n    <p>Dzień dobry,</p>\n    <p>przesyłam formularz uwag w formacie ODT.<br>\n    </p>\n'
            '    <div class="moz-signature">-- <br>\n      Anna Nowak<br>\n      Stowarzyszenie Przyjaciół Torunia</div>\n'
            '    <div class="moz-cite-prefix">W dniu 7.10.2024 o 10:00, Konsultacje Społeczne pisze:<br>\n    </div>\n'
            '    <blockquote type="cite" cite="mid:4c2b9f0e-1d1e-4b8e-9a0c-konsultacje@um.torun.pl">\n'
            '      <pre class="moz-quote-pre" wrap="">Na uwagi czekamy do 21 października 2024.</pre>\n    </blockquote>\n'
            '  </body>\n</html>\n')
    write("thunderbird-html-only-odt.eml", f"""Content-Type: multipart/mixed; boundary="------------w2vxDgiRC1PC05uviQfwd1ki"
Message-ID: <1f17fe7f-9587-8dfd-f698-646f536fbf85@example.org>
Date: Mon, 21 Oct 2024 23:58:50 +0200
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: =?UTF-8?Q?Re=3A_Wsp=C3=B3lnie_o_programie_wsp=C3=B3=C5=82pracy?=
Content-Language: pl
To: konsultacje@um.torun.pl
References: <4c2b9f0e-1d1e-4b8e-9a0c-konsultacje@um.torun.pl>
From: Anna Nowak <anna.nowak@example.org>
In-Reply-To: <4c2b9f0e-1d1e-4b8e-9a0c-konsultacje@um.torun.pl>

This is a multi-part message in MIME format.
--------------w2vxDgiRC1PC05uviQfwd1ki
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp(html, "utf-8")}
--------------w2vxDgiRC1PC05uviQfwd1ki
Content-Type: application/vnd.oasis.opendocument.text;
 name="=?UTF-8?Q?form-a-toru=C5=84=2Eodt?="
Content-Disposition: attachment;
 filename*=UTF-8''form-a-toru%C5%84.odt
Content-Transfer-Encoding: base64

{b64(odt_a)}

--------------w2vxDgiRC1PC05uviQfwd1ki--
""")

    # Outlook for iOS (crisp-oss/email-reply-parser test/fixtures/email_ios_outlook.txt): comments only in the body.
    body = (f"Proponuję dodać do programu: {TEXT_2}.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n"
            "________________________________\nFrom: Konsultacje Społeczne <konsultacje@um.torun.pl>\n"
            "Sent: Monday, October 7, 2024 10:00:12 AM\nTo: Ewa Lis <ewa.lis@example.net>\n"
            "Subject: Wspólnie o programie współpracy z NGO na 2025 r. - II etap\n\n"
            "Na uwagi czekamy do 21 października 2024.\n")
    write("ios-outlook-body-only.eml", f"""From: Ewa Lis <ewa.lis@example.net>
To: "konsultacje@um.torun.pl" <konsultacje@um.torun.pl>
Subject: =?utf-8?B?{base64.b64encode("Re: Wspólnie o programie".encode()).decode()}?=
Thread-Topic: =?utf-8?Q?Wsp=C3=B3lnie_o_programie?=
Date: Sun, 20 Oct 2024 08:01:44 +0000
Message-ID: <DB9PR02MB7308A1E0C0B9C7E8D1E0B8C1A34F2@DB9PR02MB7308.eurprd02.prod.outlook.com>
Accept-Language: en-US
Content-Language: pl-PL
X-MS-Has-Attach:
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64
MIME-Version: 1.0

{b64(body.encode())}
""")
    more_shapes(docx_a, docx_b)
    thunderbird_test_shapes(docx_a, docx_b)
    eudora_shape(docx_b)
    pasted_photo_shape()
    outlook_forward_shape()
    apple_mail_reply_shape()
    php_contact_form_shape()
    thunderbird_pl_inline_forward_shape()
    annotated_draft_shape()
    letter_shapes()
    outlook_item_shape()
    pasted_table_shape()
    excel_97_table()
    pdf_form_shapes()
    scan_shapes()


def more_shapes(docx_a: bytes, docx_b: bytes) -> None:
    """The second batch of real shapes (SOURCES.md, from "gmail-forward-pl-form.eml" on)."""
    docx_mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    # Gmail's inline forward (crisp-oss/email-reply-parser email_tricky_17_forward_header.txt for the header block,
    # php-mime-mail-parser tests/mails/m0001 for Gmail's multipart/mixed > multipart/alternative): an official
    # forwards a resident's mail, with the form Gmail carried over from the forwarded message.
    plain = ("Przekazuję uwagi Pani Anny Nowak, które przyszły na adres Wydziału.\n\n"
             "---------- Wiadomość przekazana ---------\nOd: Anna Nowak <anna.nowak@example.org>\n"
             "Date: pt., 18 paź 2024 o 10:12\nSubject: Uwagi do programu współpracy\n"
             "To: Piotr Zieliński <p.zielinski@example.com>\n\n\n"
             "Dzień dobry,\nw załączeniu formularz z uwagami Stowarzyszenia.\n\nAnna Nowak\n")
    html = ('<div dir="ltr">Przekazuję uwagi Pani Anny Nowak, które przyszły na adres Wydziału.<br><br><div '
            'class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Wiadomość przekazana ---------<br>Od: '
            '<strong class="gmail_sendername" dir="auto">Anna Nowak</strong> <span dir="auto">&lt;<a href="mailto:'
            'anna.nowak@example.org">anna.nowak@example.org</a>&gt;</span><br>Date: pt., 18 paź 2024 o 10:12<br>'
            'Subject: Uwagi do programu współpracy<br>To: Piotr Zieliński &lt;<a href="mailto:p.zielinski@example.com">'
            'p.zielinski@example.com</a>&gt;<br></div><br><br><div dir="ltr">Dzień dobry,<div>w załączeniu formularz '
            'z uwagami Stowarzyszenia.</div><div><br></div><div>Anna Nowak</div></div>\n</div></div>\n')
    write("gmail-forward-pl-form.eml", f"""MIME-Version: 1.0
Date: Mon, 21 Oct 2024 08:03:11 +0200
Message-ID: <CAH_ZkVmPq3x7Lw0ZtN5fYk1m2Gq8Zr0wB6V=Hd3sE4Kx9yT1Qg@mail.gmail.com>
Subject: =?UTF-8?Q?Fwd=3A_Uwagi_do_programu_wsp=C3=B3=C5=82pracy?=
From: =?UTF-8?Q?Piotr_Zieli=C5=84ski?= <p.zielinski@example.com>
To: konsultacje@um.torun.pl
Content-Type: multipart/mixed; boundary="000000000000f1a2b30624f1c2d3"

--000000000000f1a2b30624f1c2d3
Content-Type: multipart/alternative; boundary="000000000000f1a2b10624f1c2d1"

--000000000000f1a2b10624f1c2d1
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(plain, "utf-8")}
--000000000000f1a2b10624f1c2d1
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(html, "utf-8")}
--000000000000f1a2b10624f1c2d1--
--000000000000f1a2b30624f1c2d3
Content-Type: {docx_mime};
	name="=?UTF-8?Q?formularz_uwag_=E2=80=93_Toru=C5=84=2Edocx?="
Content-Disposition: attachment;
	filename="=?UTF-8?Q?formularz_uwag_=E2=80=93_Toru=C5=84=2Edocx?="
Content-Transfer-Encoding: base64
X-Attachment-Id: f_m2j0a1b20
Content-ID: <f_m2j0a1b20>

{b64(docx_a)}
--000000000000f1a2b30624f1c2d3--
""")

    # Apple Mail on macOS (the Apple-Mail boundary, "Mime-Version: 1.0 (Mac OS X Mail …)" and x-unix-mode of
    # php-mime-mail-parser tests/mails/issue163): "Początek przekazywanej wiadomości:" and a file name in the
    # decomposed Unicode (NFD) the Mac file system gives, "n" + U+0301 for "ń".
    plain = ("Dzień dobry,\n\nprzesyłam dalej formularz Fundacji.\n\nMarta Wiśniewska\n\n"
             "Początek przekazywanej wiadomości:\n\nOd: Fundacja Dialog <biuro@fundacja-dialog.example.org>\n"
             "Temat: Formularz uwag\nData: 18 października 2024 o 09:12:40 CEST\n"
             "Do: Marta Wiśniewska <marta.wisniewska@example.com>\n\nMarto, wyślij proszę nasz formularz do Urzędu.\n")
    nfd_name = "formularz uwag – Torun\u0301.docx"
    write("apple-mail-forward-nfd-name.eml", f"""From: =?utf-8?Q?Marta_Wi=C5=9Bniewska?= <marta.wisniewska@example.com>
Content-Type: multipart/mixed;
	boundary="Apple-Mail=_2E8B5B1C-7A4F-4C1E-9E0B-8C3F0D5A6B71"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))
Subject: =?utf-8?Q?Fwd=3A_Formularz_uwag?=
Date: Sat, 19 Oct 2024 21:40:02 +0200
References: <5C0E1F7A-2B6D-4E8F-9A1B-3C4D5E6F7A8B@fundacja-dialog.example.org>
To: konsultacje@um.torun.pl
Message-Id: <9D4E2A61-0B7C-4F3D-8E5A-6C1B2D3E4F50@example.com>
X-Mailer: Apple Mail (2.3774.500.171.1.1)


--Apple-Mail=_2E8B5B1C-7A4F-4C1E-9E0B-8C3F0D5A6B71
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain;
	charset=utf-8

{qp(plain, "utf-8")}
--Apple-Mail=_2E8B5B1C-7A4F-4C1E-9E0B-8C3F0D5A6B71
Content-Disposition: attachment;
	filename*=utf-8''{quote(nfd_name)}
Content-Type: {docx_mime};
	x-unix-mode=0644;
	name="=?utf-8?Q?{qp_word(nfd_name)}?="
Content-Transfer-Encoding: base64

{b64(docx_b)}
--Apple-Mail=_2E8B5B1C-7A4F-4C1E-9E0B-8C3F0D5A6B71
Content-Transfer-Encoding: 7bit
Content-Type: text/plain;
	charset=us-ascii



--Apple-Mail=_2E8B5B1C-7A4F-4C1E-9E0B-8C3F0D5A6B71--
""")

    # The iPhone's Mail (php-mime-mail-parser tests/mails/issue163, "Multiple text blocks"): text, the file, and
    # the text typed after it in a second text/plain part, then the Polish "Wysłane z iPhone’a".
    first = "Dzień dobry,\n\nw załączeniu formularz uwag Stowarzyszenia.\n"
    second = ("\nDodatkowo proszę o rozważenie: " + TEXT_3 + ".\n\nAnna Nowak\n\nWysłane z iPhone\u2019a")
    write("iphone-text-blocks-around-form.eml", f"""From: Anna Nowak <anna.nowak@example.org>
Content-Type: multipart/mixed;
	boundary=Apple-Mail-8C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F
Content-Transfer-Encoding: 7bit
Mime-Version: 1.0 (1.0)
Date: Sun, 20 Oct 2024 18:22:43 +0200
Subject: Uwagi
Message-Id: <B13E0F4C-2D5A-4B6C-9D7E-8F0A1B2C3D4E@example.org>
To: konsultacje@um.torun.pl
X-Mailer: iPhone Mail (21H16)


--Apple-Mail-8C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F
Content-Type: text/plain;
	charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(first, "utf-8")}
--Apple-Mail-8C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F
Content-Type: {docx_mime};
	name=Formularz.docx;
	x-apple-part-url=6E1A2B3C-4D5E-4F60-8172-93A4B5C6D7E8
Content-Disposition: inline;
	filename=Formularz.docx
Content-Transfer-Encoding: base64

{b64(docx_a)}
--Apple-Mail-8C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F
Content-Type: text/plain;
	charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(second, "utf-8")}
--Apple-Mail-8C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F--
""")

    # Polish Outlook desktop's reply with "-----Wiadomość oryginalna-----" (crisp-oss/email-reply-parser
    # email_original_message.txt and email_german_outlook.txt for the separator and the block after it), multipart/
    # mixed > alternative with Word's HTML (MsoNormal, the border-top div), the form attached.
    plain = ("Dzień dobry,\n\nw załączeniu przesyłam formularz z uwagami Stowarzyszenia.\n\nPozdrawiam\nAnna Nowak\n\n"
             "-----Wiadomość oryginalna-----\nOd: Konsultacje Społeczne [mailto:konsultacje@um.torun.pl] \n"
             "Wysłano: poniedziałek, 7 października 2024 10:00\nDo: Anna Nowak <anna.nowak@example.org>\n"
             "Temat: Wspólnie o programie współpracy z NGO na 2025 r. - II etap\n\n"
             "Na uwagi czekamy do 21 października 2024.\n")
    html = ('<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word">'
            '<head><meta http-equiv=Content-Type content="text/html; charset=windows-1250"><style><!-- p.MsoNormal '
            '{margin:0cm;font-size:11.0pt;font-family:"Calibri",sans-serif;} --></style></head><body lang=PL '
            'link="#0563C1" vlink="#954F72"><div class=WordSection1><p class=MsoNormal>Dzień dobry,<o:p></o:p></p>'
            '<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>w załączeniu przesyłam formularz z uwagami '
            'Stowarzyszenia.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Pozdrawiam<br>'
            'Anna Nowak<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div><div style=\'border:none;'
            'border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\'><p class=MsoNormal><b>Od:</b> Konsultacje '
            'Społeczne [mailto:konsultacje@um.torun.pl] <br><b>Wysłano:</b> poniedziałek, 7 października 2024 10:00<br>'
            '<b>Do:</b> Anna Nowak &lt;anna.nowak@example.org&gt;<br><b>Temat:</b> Wspólnie o programie współpracy z '
            'NGO na 2025 r. - II etap<o:p></o:p></p></div></div><p class=MsoNormal><o:p>&nbsp;</o:p></p><p '
            'class=MsoNormal>Na uwagi czekamy do 21 października 2024.<o:p></o:p></p></div></body></html>\n')
    write("outlook-wiadomosc-oryginalna-form.eml", f"""From: Anna Nowak <anna.nowak@example.org>
To: =?windows-1250?Q?Konsultacje_Spo=B3eczne?= <konsultacje@um.torun.pl>
Subject: =?windows-1250?Q?RE:_Wsp=F3lnie_o_programie_wsp=F3=B3pracy_z_NGO_na_2025_r._-_II_etap?=
Date: Mon, 21 Oct 2024 12:14:09 +0200
Message-ID: <000001db2399$8a6b4e10$9f41ea30$@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="----=_NextPart_000_0005_01DB23AA.4DF41E10"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AQHbGKuCcNBq9pd4F0PLtpvKdVXe8bKgOtJw
Content-Language: pl

This is a multipart message in MIME format.

------=_NextPart_000_0005_01DB23AA.4DF41E10
Content-Type: multipart/alternative;
	boundary="----=_NextPart_001_0006_01DB23AA.4DF41E10"


------=_NextPart_001_0006_01DB23AA.4DF41E10
Content-Type: text/plain;
	charset="windows-1250"
Content-Transfer-Encoding: quoted-printable

{qp(plain, "windows-1250")}
------=_NextPart_001_0006_01DB23AA.4DF41E10
Content-Type: text/html;
	charset="windows-1250"
Content-Transfer-Encoding: quoted-printable

{qp(html, "windows-1250")}
------=_NextPart_001_0006_01DB23AA.4DF41E10--

------=_NextPart_000_0005_01DB23AA.4DF41E10
Content-Type: {docx_mime};
	name="=?windows-1250?Q?Formularz_uwag_Toru=F1.docx?="
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
	filename="=?windows-1250?Q?Formularz_uwag_Toru=F1.docx?="

{b64(docx_a)}

------=_NextPart_000_0005_01DB23AA.4DF41E10--
""")

    # Outlook on the web / Outlook.com (an Exchange Online reply in FaetterP/mailgun-send-receive messages.js:
    # "elementToProof", appendonsend, the hr and divRplyFwdMsg; the plain part's underscores and label block),
    # with the Polish labels Od/Wysłane/Do/Temat; comments only in the body.
    plain = (f"Dzień dobry,\n\nproponuję dopisać w Rozdziale 4 pkt 3: {TEXT_2}.\n\nTomasz Wójcik\n"
             "________________________________\nOd: Konsultacje Społeczne <konsultacje@um.torun.pl>\n"
             "Wysłane: poniedziałek, 7 października 2024 10:00\nDo: Tomasz Wójcik <t.wojcik@example.net>\n"
             "Temat: Wspólnie o programie współpracy z NGO na 2025 r. - II etap\n\n"
             "Na uwagi czekamy do 21 października 2024.\n")
    html = ('<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n<style type="text/css" '
            'style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\n</head>\n<body dir="ltr">\n<div style='
            '"font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, Calibri, Helvetica, sans-serif; font-size: '
            '12pt; color: rgb(0, 0, 0);" class="elementToProof">\nDzień dobry,</div>\n<div class="elementToProof"><br>'
            f'</div>\n<div class="elementToProof">proponuję dopisać w Rozdziale 4 pkt 3: {TEXT_2}.</div>\n<div '
            'class="elementToProof"><br></div>\n<div class="elementToProof">Tomasz Wójcik</div>\n<div id="appendonsend">'
            '</div>\n<hr style="display:inline-block;width:98%" tabindex="-1">\n<div id="divRplyFwdMsg" dir="ltr"><font '
            'face="Calibri, sans-serif" style="font-size:11pt" color="#000000"><b>Od:</b> Konsultacje Społeczne &lt;'
            'konsultacje@um.torun.pl&gt;<br>\n<b>Wysłane:</b> poniedziałek, 7 października 2024 10:00<br>\n<b>Do:</b> '
            'Tomasz Wójcik &lt;t.wojcik@example.net&gt;<br>\n<b>Temat:</b> Wspólnie o programie współpracy z NGO na '
            '2025 r. - II etap</font>\n<div>&nbsp;</div>\n</div>\n<div>Na uwagi czekamy do 21 października 2024.</div>\n'
            '</body>\n</html>\n')
    write("outlook-web-reply-body-only.eml", f"""From: =?utf-8?Q?Tomasz_W=C3=B3jcik?= <t.wojcik@example.net>
To: =?utf-8?Q?Konsultacje_Spo=C5=82eczne?= <konsultacje@um.torun.pl>
Subject: =?utf-8?Q?RE:_Wsp=C3=B3lnie_o_programie_wsp=C3=B3=C5=82pracy_z_NGO_na_2025_r._-_II_etap?=
Thread-Topic: =?utf-8?Q?Wsp=C3=B3lnie_o_programie_wsp=C3=B3=C5=82pracy_z_NGO_na_2025_r._-_II_etap?=
Thread-Index: AQHbGKuCcNBq9pd4F0PLtpvKdVXe8bKhPuIA
Date: Sun, 20 Oct 2024 19:05:51 +0000
Message-ID: <PAXPR09MB5341C2E4B19F0D7A63C8E5F1A9412@PAXPR09MB5341.eurprd09.prod.outlook.com>
References: <4c2b9f0e-1d1e-4b8e-9a0c-konsultacje@um.torun.pl>
In-Reply-To: <4c2b9f0e-1d1e-4b8e-9a0c-konsultacje@um.torun.pl>
Accept-Language: pl-PL, en-US
Content-Language: pl-PL
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
msip_labels:
x-ms-publictraffictype: Email
Content-Type: multipart/alternative;
	boundary="_000_PAXPR09MB5341C2E4B19F0D7A63C8E5F1A9412PAXPR09MB5341eurp_"
MIME-Version: 1.0

--_000_PAXPR09MB5341C2E4B19F0D7A63C8E5F1A9412PAXPR09MB5341eurp_
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(plain.encode())}

--_000_PAXPR09MB5341C2E4B19F0D7A63C8E5F1A9412PAXPR09MB5341eurp_
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(html.encode())}

--_000_PAXPR09MB5341C2E4B19F0D7A63C8E5F1A9412PAXPR09MB5341eurp_--
""")

    # Outlook in Rich Text format (zbateson/mail-mime-parser tests/_data/emails/m4006.txt for the ms-tnef part and
    # the X-MS-TNEF-Correlator; Outlook 16's multipart/mixed of a text part and winmail.dat): the form is inside
    # winmail.dat, where no mail client but Outlook shows it.
    body = "Dzień dobry,\n\nw załączeniu formularz z uwagami.\n\nJan Kowalski\n"
    write("outlook-rich-text-winmail-dat.eml", f"""From: Jan Kowalski <jan.kowalski@example.org>
To: =?iso-8859-2?Q?Konsultacje_Spo=B3eczne?= <konsultacje@um.torun.pl>
Subject: Formularz uwag
Date: Mon, 21 Oct 2024 09:12:44 +0200
Message-ID: <004801db2381$a5da1980$f18e4c80$@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="----=_NextPart_000_0049_01DB2392.6962E980"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AdsjgaXFwE/tigzGSJa9glHhu/rfhw==
Content-Language: pl
X-MS-TNEF-Correlator: 0000000016157F213179C7429EADA9F6E95516E60700C3B68E10F77511CEB4CD00AA00BBB6E6000000000005000000AF2C

This is a multipart message in MIME format.

------=_NextPart_000_0049_01DB2392.6962E980
Content-Type: text/plain;
	charset="iso-8859-2"
Content-Transfer-Encoding: quoted-printable

{qp(body, "iso-8859-2")}
------=_NextPart_000_0049_01DB2392.6962E980
Content-Type: application/ms-tnef;
	name="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
	filename="winmail.dat"

{b64(tnef("FORMUL~1.DOC", docx_a, "formularz uwag – Toruń.docx"))}

------=_NextPart_000_0049_01DB2392.6962E980--
""")

    # S/MIME: Outlook's clear-signed mail (zbateson/mail-mime-parser tests/_data/emails/m4002.txt: multipart/signed
    # around Outlook's multipart/mixed), with Outlook's application/x-pkcs7-signature smime.p7s over the signed part.
    signed_text = "Dzień dobry,\n\nprzesyłam podpisany formularz uwag.\n\nAnna Nowak\n"
    signed_part = f"""Content-Type: multipart/mixed;
	boundary="----=_NextPart_001_0016_01DB23B4.1A2B3C40"

This is a multipart message in MIME format.

------=_NextPart_001_0016_01DB23B4.1A2B3C40
Content-Type: text/plain;
	charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(signed_text, "utf-8")}
------=_NextPart_001_0016_01DB23B4.1A2B3C40
Content-Type: {docx_mime};
	name="Formularz uwag.docx"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
	filename="Formularz uwag.docx"

{b64(docx_a)}

------=_NextPart_001_0016_01DB23B4.1A2B3C40--
"""
    signature = smime_signature(signed_part.replace("\n", "\r\n").encode("ascii"))
    write("outlook-smime-signed-form.eml", f"""From: Anna Nowak <anna.nowak@example.org>
To: konsultacje@um.torun.pl
Subject: Formularz uwag (podpisany)
Date: Mon, 21 Oct 2024 10:20:31 +0200
Message-ID: <001501db23b4$1a2b3c40$4e81b4c0$@example.org>
MIME-Version: 1.0
Content-Type: multipart/signed;
	protocol="application/x-pkcs7-signature";
	micalg=SHA1;
	boundary="----=_NextPart_000_0014_01DB23B4.1A2B3C40"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AdsjtBorPEBOgbTAAAAAAAAAAAAAAA==
Content-Language: pl

This is a multipart message in MIME format.

------=_NextPart_000_0014_01DB23B4.1A2B3C40
{signed_part}
------=_NextPart_000_0014_01DB23B4.1A2B3C40
Content-Type: application/x-pkcs7-signature;
	name="smime.p7s"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
	filename="smime.p7s"

{b64(signature)}

------=_NextPart_000_0014_01DB23B4.1A2B3C40--
""")

    # PINE (zbateson/mail-mime-parser tests/_data/emails/m3001.txt: upper-case MULTIPART/MIXED and
    # APPLICATION/octet-stream, Content-ID and Content-Description), the form's name only in Content-Type.
    write("pine-octet-stream-no-disposition.eml", f"""Date: Sat, 19 Oct 2024 09:55:48 +0200 (CEST)
From: Fundacja Dialog <biuro@fundacja-dialog.example.org>
To: konsultacje@um.torun.pl
Subject: Uwagi Fundacji Dialog
Message-ID: <Pine.LNX.4.64.2410190951410.8452@dialog.example.org>
MIME-Version: 1.0
Content-Type: MULTIPART/MIXED; BOUNDARY="-1463757054-952513540-1729324548=:8452"

  This message is in MIME format.  The first part should be readable text,
  while the remaining parts are likely unreadable without MIME-aware tools.

---1463757054-952513540-1729324548=:8452
Content-Type: TEXT/PLAIN; charset=US-ASCII

W zalaczeniu formularz uwag Fundacji.


---1463757054-952513540-1729324548=:8452
Content-Type: APPLICATION/octet-stream; name="uwagi-fundacja-dialog.docx"
Content-Transfer-Encoding: BASE64
Content-ID: <Pine.LNX.4.64.2410190955480.8452@dialog.example.org>
Content-Description: formularz uwag

{b64(docx_b)}
---1463757054-952513540-1729324548=:8452--
""")

    # A long Polish RFC 2047 file name split over four encoded-words in a quoted parameter, "Content-Disposition:"
    # with no space, application/octet-stream and an HTML-only body (SpamScope/mail-parser tests/mails/mail_test_11).
    long_name = ("Uwagi Stowarzyszenia Przyjaciół Torunia do projektu Programu współpracy Gminy Miasta Toruń "
                 "z organizacjami pozarządowymi na 2025 r.docx")
    words = [long_name[:30], long_name[30:62], long_name[62:96], long_name[96:]]
    encoded = "\n        ".join(f"=?UTF-8?Q?{qp_word(word)}?=" for word in words)
    html = "<p>Dzień dobry,</p><p>w załączeniu formularz z uwagami Stowarzyszenia.</p>"
    write("long-rfc2047-name-octet-stream.eml", f"""From: =?UTF-8?B?{base64.b64encode("Stowarzyszenie Przyjaciół Torunia".encode()).decode()}?= <anna.nowak@example.org>
To: konsultacje@um.torun.pl
Subject: =?UTF-8?B?{base64.b64encode("Uwagi do projektu".encode()).decode()}?=
Date: Tue, 22 Oct 2024 14:22:58 +0000
Message-ID: <20241022142258.2NqJR3m2cLnh@example.org>
Content-Type: multipart/mixed; boundary="2NqJR3m2cLnhEraiqXA4Q9hqnmihx7b7"

--2NqJR3m2cLnhEraiqXA4Q9hqnmihx7b7
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: base64

{b64(html.encode())}
--2NqJR3m2cLnhEraiqXA4Q9hqnmihx7b7
Content-Type: application/octet-stream; name="{encoded}"
Content-Disposition:attachment; filename="{encoded}"
Content-Transfer-Encoding: base64

{b64(docx_a)}
--2NqJR3m2cLnhEraiqXA4Q9hqnmihx7b7--
""")

    # RFC 2231 continuations with a charset, quoted the way PINE writes them (zbateson/mail-mime-parser
    # tests/_data/emails/m3004.txt: name*="iso-8859-1''HasenundFr%F6sche.txt"), here ISO-8859-2 over three sections.
    name = "Formularz uwag Fundacji Dialog - Łódź i Toruń, październik 2024.docx"
    raw_name = quote(name.encode("iso-8859-2"))
    sections = [raw_name[:40], raw_name[40:80], raw_name[80:]]
    params = ";\n ".join(f"filename*{i}*={('iso-8859-2' + chr(39) * 2) if i == 0 else ''}{part}"
                         for i, part in enumerate(sections))
    names = ";\n ".join(f"name*{i}*={('iso-8859-2' + chr(39) * 2) if i == 0 else ''}{part}"
                        for i, part in enumerate(sections))
    write("pine-rfc2231-continuations-iso-8859-2.eml", f"""Date: Sat, 19 Oct 2024 10:26:12 +0200 (CEST)
From: Fundacja Dialog <biuro@fundacja-dialog.example.org>
To: konsultacje@um.torun.pl
Subject: =?iso-8859-2?Q?Uwagi_Fundacji_Dialog_-_=A3=F3d=BC?=
Message-ID: <Pine.LNX.4.64.2410191024380.8452@dialog.example.org>
MIME-Version: 1.0
Content-Type: MULTIPART/MIXED; BOUNDARY="-1463757054-891160829-1729326372=:8452"

  This message is in MIME format.  The first part should be readable text,
  while the remaining parts are likely unreadable without MIME-aware tools.

---1463757054-891160829-1729326372=:8452
Content-Type: TEXT/PLAIN; charset=iso-8859-2
Content-Transfer-Encoding: QUOTED-PRINTABLE

{qp("Przesyłamy formularz z uwagami Fundacji.", "iso-8859-2")}

---1463757054-891160829-1729326372=:8452
Content-Type: APPLICATION/vnd.openxmlformats-officedocument.wordprocessingml.document;
 {names}
Content-Transfer-Encoding: BASE64
Content-ID: <Pine.LNX.4.64.2410191026120.8452@dialog.example.org>
Content-Description: formularz
Content-Disposition: attachment;
 {params}

{b64(docx_b)}
---1463757054-891160829-1729326372=:8452--
""")

    # A Word 97-2003 .doc (php-mime-mail-parser tests/mails/m0024: application/msword with an RFC 2047 name).
    doc = doc_from(HERE / "form-a-toruń.docx")
    write("word-97-doc-legacy.eml", f"""Date: Mon, 21 Oct 2024 17:57:01 +0200 (CEST)
From: Anna Nowak <anna.nowak@example.org>
To: konsultacje@um.torun.pl
Message-ID: <1836555613.12616.1729526221099.JavaMail.www@wwinf1h05>
MIME-Version: 1.0
Content-Type: multipart/mixed; 
	boundary="----=_Part_12615_2070162380.1729526221094"
Subject: Uwagi do programu

------=_Part_12615_2070162380.1729526221094
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp("Dzień dobry, w załączeniu formularz uwag (Word 97-2003).", "utf-8")}

------=_Part_12615_2070162380.1729526221094
Content-Type: application/msword;  
	name="=?UTF-8?Q?Formularz_uwag_Toru=C5=84.doc?="
Content-Transfer-Encoding: base64
Content-Disposition: attachment; 
	filename="=?UTF-8?Q?Formularz_uwag_Toru=C5=84.doc?="

{b64(doc)}
------=_Part_12615_2070162380.1729526221094--
""")

    # No MIME at all, 8-bit ISO-8859-2 (a PINE or mutt user's mail without MIME headers, like zbateson/mail-mime-parser
    # tests/_data/emails/m3002.txt without its Content-Type): the charset must be guessed, and cp1250 is wrong here.
    body = ("Dzień dobry,\n\nw § 5 ust. 2 proponuję dopisać: " + TEXT_1 + ".\n\nUzasadnienie: " + WHY_1 +
            ". Żółć, źdźbło, ślą, gęś - ąćęłńóśźż.\n\n-- \nJerzy Kowalczyk\n")
    write_8bit("pine-undeclared-iso-8859-2.eml", """Date: Sat, 19 Oct 2024 09:58:03 +0200 (CEST)
From: Jerzy Kowalczyk <j.kowalczyk@example.com>
To: konsultacje@um.torun.pl
Subject: uwagi do programu
Message-ID: <Pine.LNX.4.64.2410190955420.8453@example.com>

""", body.encode("iso-8859-2"))

    # Gmail with an empty body and only the file, application/octet-stream with no extension in its name
    # (php-mime-mail-parser tests/mails/m0001: empty text/plain, <div dir="ltr"><br></div>, "attach01").
    write("gmail-empty-body-octet-stream-form.eml", f"""MIME-Version: 1.0
Date: Tue, 22 Oct 2024 17:50:12 +0200
Message-ID: <CAH_ZkVmUSM8t2JxgqcuLCQ8d+R_hkKpNHTubJOQK07y=36+d4Q@mail.gmail.com>
Subject: Uwagi
From: Fundacja Dialog <biuro@fundacja-dialog.example.org>
To: konsultacje@um.torun.pl
Content-Type: multipart/mixed; boundary=047d7b1635f77236f404df476f85

--047d7b1635f77236f404df476f85
Content-Type: multipart/alternative; boundary=047d7b1635f77236f004df476f83

--047d7b1635f77236f004df476f83
Content-Type: text/plain; charset=ISO-8859-1



--047d7b1635f77236f004df476f83
Content-Type: text/html; charset=ISO-8859-1

<div dir="ltr"><br></div>

--047d7b1635f77236f004df476f83--
--047d7b1635f77236f404df476f85
Content-Type: application/octet-stream; name=formularz01
Content-Disposition: attachment; filename=formularz01
Content-Transfer-Encoding: base64
X-Attachment-Id: f_hi0eudw60

{b64(docx_b)}
--047d7b1635f77236f404df476f85--
""")

    # Broken MIME: Zimbra's multipart/alternative declared with the boundary of the multipart/mixed around it
    # (SpamScope/mail-parser tests/mails/mail_malformed_1), so the form after it cannot be told from the epilogue.
    write("zimbra-nested-same-boundary-broken.eml", f"""From: Anna Nowak <anna.nowak@example.org>
To: konsultacje@um.torun.pl
Subject: Uwagi
MIME-Version: 1.0
Content-Type: multipart/mixed;
        boundary="----=Part_0118260_79300441.9934604411926"
Message-ID: <791407.263728.a23f87@zimbra.example.org>
X-Mailer: Zimbra 8.6.0_GA_1162 (ZimbraWebClient - FF44 (Linux)/8.6.0_GA_1127)
Date: Tue, 22 Oct 2024 13:09:41 +0100

------=Part_0118260_79300441.9934604411926
Content-Type: multipart/alternative;
 boundary="----=Part_0118260_79300441.9934604411926"

------=Part_0118260_79300441.9934604411926
Content-Type: text/plain;
	charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp("W załączeniu formularz.", "utf-8")}
------=Part_0118260_79300441.9934604411926
Content-Type: text/html;
	charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp("<div>W załączeniu formularz.</div>", "utf-8")}

------=Part_0118260_79300441.9934604411926--

------=Part_0118260_79300441.9934604411926
Content-Type: {docx_mime}; name="formularz.docx"
Content-Transfer-Encoding: base64

{b64(docx_a)}
------=Part_0118260_79300441.9934604411926--
""")


def thunderbird_test_shapes(docx_a: bytes, docx_b: bytes) -> None:
    """Shapes from Thunderbird's own test messages (mozilla/releases-comm-central, SOURCES.md)."""
    docx_mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    pdf = (HERE / "scan.pdf").read_bytes()

    # Forward as attachment without a Content-Disposition on the message/rfc822 part, its Content-Type ending in a
    # stray quote; inside, the form named only in Content-Type under a bare "Content-Disposition: attachment"; a scan
    # with an empty Content-Type parameter list (messages/nestedMessageNoContentDispositionHeader.eml).
    html = ('<html>\n  <head>\n\n    <meta http-equiv="content-type" content="text/html; charset=UTF-8">\n  </head>\n'
            '  <body>\n    <p>Przesyłam wiadomość Pani Anny Nowak z formularzem oraz skan podpisu.<br>\n    </p>\n'
            '  </body>\n</html>\n')
    write("thunderbird-forward-attached-bare-disposition.eml", f"""Message-ID: <8e0c2a41-5b7d-4f2e-9c61-3d7a0b9e4f12@example.com>
Date: Tue, 22 Oct 2024 00:29:55 +0200
To: konsultacje@um.torun.pl
From: =?UTF-8?Q?Piotr_Zieli=C5=84ski?= <p.zielinski@example.com>
Subject: =?UTF-8?Q?Fwd=3A_Uwagi_do_programu_wsp=C3=B3=C5=82pracy?=
Mime-Version: 1.0
Content-Type: multipart/mixed; 
  boundary="------------49CVLb1N6p6Spdka4qq7Naeg"

This is a multi-part message in MIME format.
--------------49CVLb1N6p6Spdka4qq7Naeg
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp(html, "utf-8")}
--------------49CVLb1N6p6Spdka4qq7Naeg
Content-Type: message/rfc822; charset=UTF-8;"
Content-Transfer-Encoding: 7bit

Message-ID: <000201db2396$ae309650$0a8bc2f0$@example.org>
From: Anna Nowak <anna.nowak@example.org>
To: =?UTF-8?Q?Piotr_Zieli=C5=84ski?= <p.zielinski@example.com>
Subject: Uwagi do programu
Date: Mon, 21 Oct 2024 19:32:47 +0200
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="----=_NextPart_000_0002_01DB2396.AE309650"

This is a multi-part message in MIME format.

------=_NextPart_000_0002_01DB2396.AE309650
Content-Type: text/plain;
	charset="iso-8859-2"
Content-Transfer-Encoding: quoted-printable

{qp("Przesyłam formularz z uwagami Stowarzyszenia.", "iso-8859-2")}

------=_NextPart_000_0002_01DB2396.AE309650
Content-Type: {docx_mime};
	name="Formularz uwag.docx"
Content-Transfer-Encoding: base64
Content-Disposition: attachment

{b64(docx_a)}

------=_NextPart_000_0002_01DB2396.AE309650--

--------------49CVLb1N6p6Spdka4qq7Naeg
Content-Type: application/pdf;
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
  filename="skan-podpisu.pdf"

{b64(pdf)}

--------------49CVLb1N6p6Spdka4qq7Naeg--
""")

    # A message that is nothing but the file: a single part with Content-Disposition: attachment, from Outlook 2000
    # (messages/sample03.eml), the sender's name an ISO-8859 encoded-word.
    write("outlook-attachment-only-message.eml", f"""From: =?iso-8859-2?Q?Stanis=B3aw_=A3ukasiewicz?= <s.lukasiewicz@example.org>
To: konsultacje@um.torun.pl
Subject: Uwagi Fundacji
Date: Tue, 22 Oct 2024 19:35:05 +0200
Message-ID: <03.eml.2024102219350500@example.org>
MIME-Version: 1.0
Content-Type: {docx_mime};
	name="uwagi Fundacji.docx"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
	filename="uwagi Fundacji.docx"
X-Priority: 3 (Normal)
X-MSMail-Priority: Normal
X-Mailer: Microsoft Outlook IMO, Build 9.0.2416 (9.0.2910.0)
Importance: Normal
X-MimeOLE: Produced By Microsoft MimeOLE V5.00.2314.1300

{b64(docx_b)}
""")

    # Outlook 2000's attachments named three ways (messages/sample02.eml): a name in Content-Type that differs from
    # the file name in Content-Disposition (the latter is the file's name), a bare "Content-Disposition: attachment"
    # with the name only in Content-Type, and a file name only in Content-Disposition.
    second_page = pdf + b"\n% strona 2\n"
    write("outlook-attachment-names-three-ways.eml", f"""From: Fundacja Dialog <biuro@fundacja-dialog.example.org>
To: konsultacje@um.torun.pl
Subject: Uwagi i skany
Date: Tue, 22 Oct 2024 19:32:47 +0200
Message-ID: <02.eml.2024102219324700@fundacja-dialog.example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="----=_NextPart_000_0002_01DB24A6.AE309650"
X-Priority: 3 (Normal)
X-MSMail-Priority: Normal
X-Mailer: Microsoft Outlook IMO, Build 9.0.2416 (9.0.2910.0)
Importance: Normal
X-MimeOLE: Produced By Microsoft MimeOLE V5.00.2314.1300

This is a multi-part message in MIME format.

------=_NextPart_000_0002_01DB24A6.AE309650
Content-Type: text/plain;
	charset="iso-8859-2"
Content-Transfer-Encoding: quoted-printable

{qp("W załączeniu formularz uwag i skany podpisanych stron.", "iso-8859-2")}

------=_NextPart_000_0002_01DB24A6.AE309650
Content-Type: {docx_mime};
	name="formularz.docx"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
	filename="formularz uwag - Dialog.docx"

{b64(docx_b)}

------=_NextPart_000_0002_01DB24A6.AE309650
Content-Type: application/pdf;
	name="skan strona 1.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment

{b64(pdf)}

------=_NextPart_000_0002_01DB24A6.AE309650
Content-Type: application/pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
	filename="skan strona 2.pdf"

{b64(second_page)}

------=_NextPart_000_0002_01DB24A6.AE309650--
""")


def uuencode(name: str, data: bytes) -> bytes:
    import binascii

    lines = [binascii.b2a_uu(data[i:i + 45]) for i in range(0, len(data), 45)]
    return b"begin 600 " + name.encode("iso-8859-2") + b"\n" + b"".join(lines) + b"`\nend\n"


def eudora_shape(docx_b: bytes) -> None:
    """Eudora Pro (zbateson/mail-mime-parser tests/_data/emails/m3007.txt, m2011.txt, m2015.txt): raw 8-bit letters in
    the headers, in the file name and inside an encoded-word, and the file x-uuencoded."""
    name = "uwagi Toruń.docx"
    head = ("Message-Id: <4.2.0.58.20241019004755.00a86100@pop.example.org>\n"
            "X-Sender: s.lukasiewicz@pop.example.org (Unverified)\n"
            "X-Mailer: QUALCOMM Windows Eudora Pro Version 4.2.0.58 \n"
            "Date: Sat, 19 Oct 2024 00:50:08 +0200\nTo: konsultacje@um.torun.pl\n"
            "From: =?iso-8859-2?Q?Stanisław_=A3ukasiewicz?= <s.lukasiewicz@example.org>\n"
            "Subject: Uwagi Fundacji - Toruń\nMime-Version: 1.0\nContent-Type: multipart/mixed;\n"
            '\tboundary="=====================_716177458==_"\n\n'
            '--=====================_716177458==_\nContent-Type: text/plain; charset="iso-8859-2"\n'
            "Content-Transfer-Encoding: 8bit\n\nW załączeniu formularz uwag Fundacji.\n\n"
            f'--=====================_716177458==_\nContent-Type: application/octet-stream; name="{name}"\n'
            f'Content-Transfer-Encoding: x-uuencode\nContent-Disposition: attachment; filename="{name}"\n\n\n')
    tail = "\n--=====================_716177458==_--\n\n"
    (HERE / "eudora-8bit-headers-uuencode.eml").write_bytes(
        (head.encode("iso-8859-2") + uuencode(name, docx_b) + tail.encode("ascii")).replace(b"\n", b"\r\n"))


def photo_of_form() -> bytes:
    """A phone photo of the printed form: a grey page with table lines and handwriting-like noise, as JPEG."""
    import io
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(20241022)
    page = Image.new("RGB", (900, 1270), (214, 210, 200))
    draw = ImageDraw.Draw(page)
    for y in range(260, 1100, 120):
        draw.line([(60, y), (840, y)], fill=(40, 40, 40), width=3)
    for x in (60, 120, 300, 480, 660, 840):
        draw.line([(x, 260), (x, 1100)], fill=(40, 40, 40), width=3)
    for _ in range(1200):  # ink and the grain of a phone camera
        x, y = rng.randrange(70, 830), rng.randrange(270, 1090)
        draw.line([(x, y), (x + rng.randrange(-12, 12), y + rng.randrange(-6, 6))], fill=(20, 30, 90), width=2)
    out = io.BytesIO()
    page.save(out, "JPEG", quality=70)
    return out.getvalue()


def icon() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 24), (0, 90, 160)).save(out, "PNG")
    return out.getvalue()


def pasted_photo_shape() -> None:
    """GMX / mail.com webmail's multipart/related with a picture pasted into the text, no file name, only a
    Content-ID (php-mime-mail-parser tests/mails/m0129): here a photo of the filled paper form, and a small icon."""
    html = ('<html><head></head><body><div style="font-family: Verdana;font-size: 12.0px;"><div>Dzień dobry, wklejam '
            'zdjęcie wypełnionego formularza uwag.</div><div><img src="cid:c024cb5b0c6eaf060a837c53db9af39b5b564d39"/>'
            '</div>\n\n<div>Krystyna Mazur <img src="cid:9e1a4b7c2d3f5a6b8c0d1e2f3a4b5c6d7e8f9a0b"/></div></div></body>'
            '</html>')
    write("gmx-photo-of-form-pasted-inline.eml", f"""From: Krystyna Mazur <k.mazur@example.com>
To: <konsultacje@um.torun.pl>
Subject: Uwagi
Message-ID: <trinity-5b1e2f6a-7c3d-4e8f-9a0b-1c2d3e4f5a6b-1729618619@3c-app-mailcom-bs07>
Content-Type: multipart/related;
 boundary=rekceb-f07a611a-152e-4313-a4f4-755b6f5524ef
Date: Tue, 22 Oct 2024 18:36:59 +0200

--rekceb-f07a611a-152e-4313-a4f4-755b6f5524ef
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp(html, "utf-8")}
--rekceb-f07a611a-152e-4313-a4f4-755b6f5524ef
Content-Type: image/jpeg
Content-Disposition: inline
Content-ID: <c024cb5b0c6eaf060a837c53db9af39b5b564d39>
Content-Transfer-Encoding: base64

{b64(photo_of_form())}
--rekceb-f07a611a-152e-4313-a4f4-755b6f5524ef
Content-Type: image/png
Content-Disposition: inline
Content-ID: <9e1a4b7c2d3f5a6b8c0d1e2f3a4b5c6d7e8f9a0b>
Content-Transfer-Encoding: base64

{b64(icon())}
--rekceb-f07a611a-152e-4313-a4f4-755b6f5524ef--
""")


def outlook_forward_shape() -> None:
    """Polish Outlook's inline forward ("PD:"): the forwarded mail's Od/Wysłano/Do/Temat block is the one a reply
    has (crisp-oss/email-reply-parser test/fixtures/email_outlook_split_line_from.txt), only the subject says
    forward; an official forwards a resident's comments, his own signature before them."""
    plain = ("Przekazuję do rozpatrzenia uwagi Pana Jana Kowalskiego, które przyszły na adres Wydziału.\n\n"
             "Pozdrawiam\nPiotr Zieliński\nWydział Komunikacji Społecznej i Informacji\n\n"
             "Od: Jan Kowalski <jan.kowalski@example.org>\nWysłano: poniedziałek, 21 października 2024 10:02\n"
             "Do: Wydział Komunikacji <wksi@um.torun.pl>\nTemat: Uwagi do programu współpracy\n\n"
             f"Dzień dobry,\n\nproponuję w § 5 ust. 2 dopisać: {TEXT_1}.\n\nUzasadnienie: {WHY_1}.\n\n"
             "Z poważaniem\nJan Kowalski\n\n"
             "Od: Konsultacje Społeczne <konsultacje@um.torun.pl>\nWysłano: poniedziałek, 7 października 2024 10:00\n"
             "Do: Jan Kowalski <jan.kowalski@example.org>\nTemat: Wspólnie o programie współpracy z NGO na 2025 r.\n\n"
             "Na uwagi czekamy do 21 października 2024.\n")
    write("outlook-pd-forward-body-only.eml", f"""From: =?iso-8859-2?Q?Piotr_Zieli=F1ski?= <p.zielinski@um.torun.pl>
To: =?iso-8859-2?Q?Konsultacje_Spo=B3eczne?= <konsultacje@um.torun.pl>
Subject: PD: Uwagi do programu =?iso-8859-2?Q?wsp=F3=B3pracy?=
Thread-Topic: Uwagi do programu =?iso-8859-2?Q?wsp=F3=B3pracy?=
Thread-Index: AdsjmOq3W4Xk0Rz6TnqC0f3kq2v9ZwAAV7Bw
Date: Mon, 21 Oct 2024 10:31:40 +0000
Message-ID: <DB8PR09MB3297E4B1C6A2F0D95E7C3B14A9432@DB8PR09MB3297.eurprd09.prod.outlook.com>
References: <000a01db2390$3c1f2e40$b45d8ac0$@example.org>
In-Reply-To: <000a01db2390$3c1f2e40$b45d8ac0$@example.org>
Accept-Language: pl-PL, en-US
Content-Language: pl-PL
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
X-Mailer: Microsoft Outlook 16.0
Content-Type: text/plain; charset="iso-8859-2"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

{qp(plain, "iso-8859-2")}""")


def apple_mail_reply_shape() -> None:
    """Apple Mail's plain-text reply in Polish: its attribution line "Wiadomość napisana przez … <…> w dniu
    21 lis 2025, o godz. 03:55:" (as Apple Mail writes it in public mailing-list archives, e.g. dri-devel,
    5 Dec 2025, Message-ID <b6b8203d-2a51-428f-8124-fa65d2c073a0@amlogic.com>, which quotes such replies),
    then the history quoted with "> "; one text/plain part, quoted-printable, Apple's headers."""
    plain = (f"Dzień dobry,\n\nw § 5 ust. 2 proponuję dopisać: {TEXT_1}.\n\nUzasadnienie: {WHY_1}.\n\n"
             "Tomasz Nowicki\n\n"
             "> Wiadomość napisana przez Konsultacje Społeczne <konsultacje@um.torun.pl> w dniu 7 paź 2024, "
             "o godz. 10:00:\n>\n> Na uwagi czekamy do 21 października 2024.\n>\n")
    plain = plain.replace("> Wiadomość napisana", "Wiadomość napisana", 1)
    write("apple-mail-reply-pl-attribution.eml", f"""From: Tomasz Nowicki <t.nowicki@example.org>
Content-Type: text/plain;
	charset=utf-8
Content-Transfer-Encoding: quoted-printable
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3826.400.131.1.6\\))
Subject: Re: =?utf-8?Q?Wsp=C3=B3lnie_o_programie?=
Date: Mon, 21 Oct 2024 09:14:27 +0200
References: <DB9PR02MB7308A1E0C0B9C7E8D1E0B8C1A34F2@DB9PR02MB7308.eurprd02.prod.outlook.com>
To: Konsultacje =?utf-8?Q?Spo=C5=82eczne?= <konsultacje@um.torun.pl>
In-Reply-To: <DB9PR02MB7308A1E0C0B9C7E8D1E0B8C1A34F2@DB9PR02MB7308.eurprd02.prod.outlook.com>
Message-Id: <F04DC684-AD64-447F-87EC-F503D411F25E@example.org>
X-Mailer: Apple Mail (2.3826.400.131.1.6)

{qp(plain, "utf-8")}""")


def php_contact_form_shape() -> None:
    """An NGO website's contact form, sent with PHP's mail() and the headers of the PHP manual's example, copied
    into countless sites (e.g. gist ryanfitton/8196163: `MIME-Version: 1.0`, `Content-type: text/html;
    charset=iso-8859-1`, `From`, `Reply-To`, `X-Mailer: PHP/…`): the charset is declared ISO-8859-1 whatever the
    page's is. Here the page is windows-1250, as Polish sites of that age were, so the HTML body's bytes, the
    From name and the Subject (mail() sends both raw, unencoded) are windows-1250 under a Latin-1 label.
    Read as declared, "ł" shows as "³", "ż" as "¿", "ą" as "¹", "ś" as "œ"."""
    html = ("<html><body>\n<p><b>Imię i nazwisko:</b> Bożena Łukaszewska</p>\n"
            "<p><b>E-mail:</b> b.lukaszewska@example.org</p>\n"
            "<p><b>Wiadomość:</b><br>\nDzień dobry, w imieniu stowarzyszenia zgłaszam uwagę do projektu programu "
            f"współpracy: proponuję dodać w § 4 zadanie „{TEXT_2}”.<br>\nUzasadnienie: {WHY_2}.</p>\n"
            "<p>--<br>\nWiadomość wysłana z formularza kontaktowego strony stowarzyszenia.</p>\n</body></html>\n")
    head = """MIME-Version: 1.0
Content-type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: 8bit
Date: Wed, 16 Oct 2024 21:07:44 +0200
Message-ID: <20241016190744.4F1C21A2B3@www.stowarzyszenie-przykladowe.example.org>
X-Mailer: PHP/5.6.40
To: konsultacje@um.torun.pl
"""
    eight_bit = ("From: Bożena Łukaszewska <b.lukaszewska@example.org>\n"
                 "Reply-To: b.lukaszewska@example.org\n"
                 "Subject: Uwagi do programu współpracy z organizacjami pozarządowymi\n\n")
    (HERE / "php-mail-form-declared-iso-8859-1.eml").write_bytes(
        head.replace("\n", "\r\n").encode("ascii") + eight_bit.replace("\n", "\r\n").encode("windows-1250")
        + html.replace("\n", "\r\n").encode("windows-1250"))


def _flowed(paragraph: str, width: int = 72) -> str:
    """A paragraph as Thunderbird sends it with format=flowed: broken before `width`, a space left at the end
    of every line but the last (RFC 3676 soft breaks)."""
    lines, line = [], ""
    for word in paragraph.split(" "):
        if line and len(line) + len(word) + 1 > width:
            lines.append(line + " ")
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join(lines + [line])


def thunderbird_pl_inline_forward_shape() -> None:
    """Polish Thunderbird's inline forward, multipart/alternative, plain text format=flowed. The shape is a real
    Thunderbird 60 inline forward sent to the linux-uvc-devel list on 25 Jun 2019 (Message-ID
    <73a76e45-b06a-90ad-12b4-78ed67d9992a@yahoo.com>, as archived in a public GitHub repository): the
    X-Forwarded-Message-Id, the text/plain part format=flowed with soft breaks at 72, the text/html part with its
    div class="moz-forward-container". The header block is Thunderbird's Polish one, from its localisation
    (thunderbird/thunderbird-l10n pl/mail/chrome/messenger: composeMsgs.properties
    mailnews.forward_header_originalmessage "--- Treść przekazanej wiadomości ---", mime.properties "Temat",
    "Data", "Nadawca", "Adresat", "Kopia"); in HTML the fields sit in its moz-email-headers-table. A member of an
    association forwards a neighbour's comment written to her."""
    note = "Dzień dobry, przekazuję uwagę Pana Jana Kowalskiego, który prosił mnie o jej przesłanie do Urzędu."
    comment = f"w § 5 ust. 2 proponuję dopisać: {TEXT_1}."
    why = f"Uzasadnienie: {WHY_1}."
    plain = (f"{_flowed(note)}\n\nEwa Maj\n\n--- Treść przekazanej wiadomości ---\n"
             "Temat: \tUwaga do programu współpracy\nData: \tSun, 20 Oct 2024 19:40:12 +0200\n"
             "Nadawca: \tJan Kowalski <jan.kowalski@example.org>\nAdresat: \tEwa Maj <ewa.maj@example.net>\n"
             "Kopia: \tFundacja Dialog <biuro@fundacja-dialog.example.org>\n\n\n"
             f"{_flowed('Pani Ewo, ' + comment)}\n\n{_flowed(why)}\n\n-- \nJan Kowalski\n")
    header_rows = "".join(
        f'<tr><th valign="BASELINE" nowrap="nowrap" align="RIGHT">{name}: </th><td>{value}</td></tr>\n'
        for name, value in (("Temat", "Uwaga do programu współpracy"), ("Data", "Sun, 20 Oct 2024 19:40:12 +0200"),
                            ("Nadawca", "Jan Kowalski &lt;jan.kowalski@example.org&gt;"),
                            ("Adresat", "Ewa Maj &lt;ewa.maj@example.net&gt;"),
                            ("Kopia", "Fundacja Dialog &lt;biuro@fundacja-dialog.example.org&gt;")))
    html = (f'<html>\n  <head>\n\n    <meta http-equiv="content-type" content="text/html; charset=UTF-8">\n  </head>\n'
            f'  <body>\n    <p>{note}</p>\n    <p>Ewa Maj<br>\n    </p>\n    <div class="moz-forward-container"><br>\n'
            '      <br>\n      --- Treść przekazanej wiadomości ---\n      <table class="moz-email-headers-table" '
            f'border="0" cellspacing="0" cellpadding="0">\n        <tbody>\n{header_rows}        </tbody>\n      </table>\n'
            f'      <br>\n      <br>\n      <p>Pani Ewo, {comment}</p>\n      <p>{why}</p>\n'
            '      <pre class="moz-signature" cols="72">-- \nJan Kowalski</pre>\n    </div>\n  </body>\n</html>\n')
    (HERE / "thunderbird-pl-inline-forward-flowed.eml").write_bytes(f"""X-Forwarded-Message-Id: <5d3c1f0e-8a7b-4c2d-9e6f-1a2b3c4d5e6f@example.org>
Message-ID: <0b9e6c2a-4f1d-4e8b-a3c5-7d2f9e1b6a40@example.net>
Date: Mon, 21 Oct 2024 08:12:55 +0200
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: pl
To: konsultacje@um.torun.pl
From: Ewa Maj <ewa.maj@example.net>
Subject: =?UTF-8?Q?Fwd=3A_Uwaga_do_programu_wsp=C3=B3=C5=82pracy?=
References: <5d3c1f0e-8a7b-4c2d-9e6f-1a2b3c4d5e6f@example.org>
In-Reply-To: <5d3c1f0e-8a7b-4c2d-9e6f-1a2b3c4d5e6f@example.org>
Content-Type: multipart/alternative;
 boundary="------------F580E844F666C7548D0E66DD"

This is a multi-part message in MIME format.
--------------F580E844F666C7548D0E66DD
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

{plain}
--------------F580E844F666C7548D0E66DD
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp(html, "utf-8")}
--------------F580E844F666C7548D0E66DD--
""".replace("\n", "\r\n").encode("utf-8"))


def annotated_draft_shape() -> None:
    """A resident returns the draft itself, commented in Word, instead of the form: `draft-piatnica-tracked.docx`
    (the real Piątnica resolution of the drafting corpus, edited by LibreOffice with change tracking on, see
    make_tracked_draft.py) with two Word comments added by python-docx (comments.xml, commentRangeStart/End and
    commentReference, as Word writes them): one on § 3's changed sentence, one on the whole of § 5. The mail is
    Gmail's multipart/mixed with a multipart/alternative body and the file (php-mime-mail-parser
    tests/mails/m0001's shape, its boundaries), here with a name and the DOCX media type."""
    from docx import Document as open_document  # python-docx 1.2 writes Word comments

    document = open_document(str(HERE / "draft-piatnica-tracked.docx"))

    def paragraph(prefix: str):
        return next(p for p in document.paragraphs if p.text.replace("\xa0", " ").startswith(prefix))

    document.add_comment(paragraph("§ 3").runs[:1], text="Rada powinna współdecydować o wykonaniu programu.",
                         author="Anna Nowak", initials="AN")
    document.add_comment(paragraph("§ 5").runs, text="Proponuję wejście w życie z dniem ogłoszenia.",
                         author="Anna Nowak", initials="AN")
    data = io.BytesIO()
    document.save(data)
    plain = ("Dzień dobry,\n\nw załączeniu odsyłam projekt uchwały z moimi poprawkami (w trybie śledzenia zmian) "
             "i komentarzami.\n\nPozdrawiam\nAnna Nowak\n")
    html = ('<div dir="ltr">Dzień dobry,<div><br></div><div>w załączeniu odsyłam projekt uchwały z moimi poprawkami '
            "(w trybie śledzenia zmian) i komentarzami.</div><div><br></div><div>Pozdrawiam</div><div>Anna Nowak"
            "</div></div>\n")
    name = "projekt uchwały – uwagi.docx"
    write("gmail-annotated-draft-returned.eml", f"""MIME-Version: 1.0
Date: Sun, 20 Oct 2024 21:14:03 +0200
Message-ID: <CAH_ZkVn0x4rT9Jq2QqN5hV7sF3dW1eYk8mPz6cL0oB2uR4tA9g@mail.gmail.com>
Subject: =?UTF-8?Q?{qp_word("Uwagi do projektu – poprawki w dokumencie")}?=
From: Anna Nowak <anna.nowak@example.org>
To: konsultacje@um.torun.pl
Content-Type: multipart/mixed; boundary=047d7b1635f77236f404df476f85

--047d7b1635f77236f404df476f85
Content-Type: multipart/alternative; boundary=047d7b1635f77236f004df476f83

--047d7b1635f77236f004df476f83
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp(plain, "utf-8")}
--047d7b1635f77236f004df476f83
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp(html, "utf-8")}
--047d7b1635f77236f004df476f83--
--047d7b1635f77236f404df476f85
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document; 
	name="=?UTF-8?Q?{qp_word(name)}?="
Content-Disposition: attachment; 
	filename="=?UTF-8?Q?{qp_word(name)}?="
Content-Transfer-Encoding: base64
X-Attachment-Id: f_m2hk5c3v0

{b64(data.getvalue())}
--047d7b1635f77236f404df476f85--
""")


# A real comment, as the Kujawsko-Pomorska Federacja Organizacji Pozarządowych made it in Toruń's consultation of
# the 2012 programme (quoted by zielonydziennik.pl, 1 September 2011, "NGO: Rozmowy w toku").
FEDERATION_CURRENT = ("Prezydent Miasta Torunia podejmuje ostateczną decyzję w sprawie wyboru ofert i wysokości dotacji w "
                      "oparciu o przedłożone przez Komisje oceny i propozycje kwot dotacji")
FEDERATION_PROPOSAL = "Prezydent Miasta Torunia zatwierdza rekomendowane do współfinansowania przedsięwzięcia"
LETTER_HTML = f"""<!DOCTYPE html><html lang="pl"><head><meta charset="utf-8"><title>Uwagi</title></head><body>
<p>Kujawsko-Pomorska Federacja Organizacji Pozarządowych</p>
<p style="text-align: right">Toruń, 8 września 2011 r.</p>
<p>Urząd Miasta Torunia<br>Wydział Komunikacji Społecznej i Informacji<br>ul. Wały gen. Sikorskiego 8<br>87-100 Toruń</p>
<p><b>Uwagi do projektu Programu Współpracy Gminy Miasta Toruń w 2012 roku z organizacjami pozarządowymi</b></p>
<p>W odpowiedzi na zaproszenie do udziału w konsultacjach projektu Programu przekazujemy uwagi Federacji, zgłoszone
w imieniu organizacji członkowskich. Prosimy o ich rozpatrzenie i o informację o sposobie rozpatrzenia.</p>
<ol>
<li>Rozdział VI Zasady realizacji § 12 ust. 19 „{FEDERATION_CURRENT}”<br>Zmiana na: „{FEDERATION_PROPOSAL}”.</li>
<li>§ 5 ust. 2 – proponujemy dopisać nowy punkt: „{TEXT_1}”.<br>Uzasadnienie: {WHY_1}.</li>
</ol>
<p>Z poważaniem</p>
<p>Prezes Zarządu</p>
</body></html>
"""


def letter_files() -> tuple[bytes, bytes]:
    """The Federation's letter as LibreOffice Writer makes it: imported from HTML (its <ol> becomes Writer's own
    numbered list), saved as DOCX, and the DOCX exported to PDF as LibreOffice prints it."""
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as out:
        source = Path(out) / "uwagi-federacji.html"
        source.write_text(LETTER_HTML, encoding="utf-8")
        run = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless"]
        subprocess.run(run + ["--infilter=HTML (StarWriter)", "--convert-to", "docx:MS Word 2007 XML", "--outdir", out,
                              str(source)], check=True, capture_output=True, timeout=120)
        docx = Path(out) / "uwagi-federacji.docx"
        subprocess.run(run + ["--convert-to", "pdf:writer_pdf_Export", "--outdir", out, str(docx)], check=True,
                       capture_output=True, timeout=120)
        return docx.read_bytes(), (Path(out) / "uwagi-federacji.pdf").read_bytes()


def outlook_16_with_file(file_name: str, *, sender: str, subject: str, thread_index: str, date: str, local_id: str,
                         server: str, plain: str, name: str, media_type: str, data: bytes) -> None:
    """Outlook 16 / Exchange Online's multipart/mixed of a windows-1250 text part and one file named in
    windows-1250 RFC 2047 words, with `Content-Description` and `size=` (the `_004_…eurp_` boundary Exchange
    writes for a mail with attachments); `sender` and `subject` as already encoded header values."""
    boundary = f"_004_{local_id}{server}eurp_"
    word = qp_word(name, "windows-1250")
    write(file_name, f"""From: {sender}
To: =?windows-1250?Q?Konsultacje_Spo=B3eczne?= <konsultacje@um.torun.pl>
Subject: {subject}
Thread-Topic: {subject.removeprefix("PD: ")}
Thread-Index: {thread_index}
Date: {date}
Message-ID: <{local_id}@{server}.eurprd07.prod.outlook.com>
Accept-Language: pl-PL, en-US
Content-Language: pl-PL
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator:
X-Mailer: Microsoft Outlook 16.0
Content-Type: multipart/mixed;
\tboundary="{boundary}"
MIME-Version: 1.0

--{boundary}
Content-Type: text/plain; charset="windows-1250"
Content-Transfer-Encoding: quoted-printable

{qp(plain, "windows-1250")}
--{boundary}
Content-Type: {media_type};
\tname="=?windows-1250?Q?{word}?="
Content-Description: =?windows-1250?Q?{word}?=
Content-Disposition: attachment;
\tfilename="=?windows-1250?Q?{word}?="; size={len(data)}
Content-Transfer-Encoding: base64

{b64(data)}

--{boundary}--
""")


def letter_shapes() -> None:
    """An NGO's letter with its comments attached instead of the form: as a PDF to an Outlook mail
    (outlook-reply-cp1250-qp.eml's Outlook 16 headers, multipart/mixed with a windows-1250 text part), and as a
    DOCX to a Thunderbird mail (thunderbird-forward-attached-bare-disposition.eml's headers)."""
    docx, pdf = letter_files()
    (HERE / "letter-federacja-torun.docx").write_bytes(docx)
    (HERE / "letter-federacja-torun.pdf").write_bytes(pdf)
    odt_from(HERE / "letter-federacja-torun.docx", HERE / "letter-federacja-torun.odt")
    (HERE / "letter-federacja-torun.doc").write_bytes(doc_from(HERE / "letter-federacja-torun.docx"))
    plain = ("Szanowni Państwo,\n\nw załączeniu przesyłamy uwagi Federacji do projektu Programu Współpracy na 2012 rok."
             "\n\nZ poważaniem\nBiuro Federacji\n")
    name = "Uwagi Federacji do Programu Współpracy 2012.pdf"
    outlook_16_with_file("outlook-letter-pdf-attached.eml",
                         sender="=?windows-1250?Q?Biuro_Federacji?= <biuro@federacja.example.org>",
                         subject="Uwagi do projektu Programu =?windows-1250?Q?Wsp=F3=B3pracy?=",
                         thread_index="AdxhK3v1o2Qe5bJcTn2Wm0a7Rk9sQA==", date="Thu, 8 Sep 2011 14:05:12 +0000",
                         local_id="AM6PR07MB5589D2A7C4E0B91F3B6A2D11C4A10", server="AM6PR07MB5589", plain=plain, name=name,
                         media_type="application/pdf", data=pdf)
    name = "uwagi-federacji.docx"
    (HERE / "thunderbird-letter-docx-attached.eml").write_bytes(f"""Message-ID: <5e8b1c2a-9f4d-4b7e-a1c3-7d2e0f6b9a41@federacja.example.org>
Date: Thu, 8 Sep 2011 16:20:44 +0200
MIME-Version: 1.0
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Thunderbird/102.15.1
Content-Language: pl
To: konsultacje@um.torun.pl
From: Biuro Federacji <biuro@federacja.example.org>
Subject: =?UTF-8?Q?{qp_word("Uwagi do projektu Programu Współpracy")}?=
Content-Type: multipart/mixed; boundary="------------7Q0bXn2c9Lf3R4sYk1Hm8DqA"

This is a multi-part message in MIME format.
--------------7Q0bXn2c9Lf3R4sYk1Hm8DqA
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

{plain}
--------------7Q0bXn2c9Lf3R4sYk1Hm8DqA
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;
 name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64

{b64(docx)}

--------------7Q0bXn2c9Lf3R4sYk1Hm8DqA--
""".replace("\n", "\r\n").encode("utf-8"))  # Thunderbird sends UTF-8 text as 8bit


def outlook_item_shape() -> None:
    """An official drags a resident's mail from Outlook into a new one: Outlook 16's multipart/mixed with the item
    as `application/vnd.ms-outlook` (outlook-reply-cp1250-qp.eml's headers). The item is a real Outlook .msg from
    Apache Tika's tests (msg/SOURCES.md) holding a Word 97 document and a text file."""
    item = (HERE / "msg" / "testMSG_att_doc.msg").read_bytes()
    plain = "Przekazuję wiadomość mieszkańca z uwagami w załączniku.\n\nPozdrawiam\nPiotr Zieliński\n"
    name = "Uwagi mieszkańca.msg"
    outlook_16_with_file("outlook-item-dragged-in.eml",
                         sender="=?windows-1250?Q?Piotr_Zieli=F1ski?= <p.zielinski@um.torun.pl>",
                         subject="PD: Uwagi do programu =?windows-1250?Q?wsp=F3=B3pracy?=",
                         thread_index="AdxhL2k9r1Qw3bYcT7Vn2m0a8Sk4qQ==", date="Tue, 22 Oct 2024 08:12:40 +0000",
                         local_id="DB9PR09MB4410C1F0A7B2E3D4F5A6B7C8D9E0F", server="DB9PR09MB4410", plain=plain, name=name,
                         media_type="application/vnd.ms-outlook", data=item)


def _word_cell(text: str, width: int, *, bold: bool = False, span: str = "") -> str:
    """A table cell as Word writes it into HTML (and Outlook keeps when a table is pasted into a mail)."""
    paragraphs = "".join(f"<p class=MsoNormal>{'<b>' if bold else ''}{line}{'</b>' if bold else ''}<o:p></o:p></p>"
                         for line in text.split("\n"))
    return (f"<td width={width} valign=top{span} style='width:{width * 0.75:.1f}pt;border:solid windowtext 1.0pt;"
            f"padding:0cm 5.4pt 0cm 5.4pt'>{paragraphs}</td>")


def pasted_table_shape() -> None:
    """A resident copies the form's table from Word into a new Outlook mail and fills it in there. Word's table
    HTML (MsoTableGrid, `p class=MsoNormal`, `o:p`, widths in px and pt, as Word and Outlook write it: see the
    real samples in SOURCES.md) inside Outlook 16's multipart/alternative (outlook-wiadomosc-oryginalna-form.eml's
    headers); the header in two rows ("Zapis" over "obecny" | "proponowany", "Lp." and "Uzasadnienie" spanning
    both rows), two filled rows; the plain part with the cells apart by tabs."""
    header_top = (_word_cell("Lp.", 40, bold=True, span=" rowspan=2")
                  + _word_cell("Część dokumentu, do której odnosi się uwaga", 120, bold=True, span=" rowspan=2")
                  + _word_cell("Zapis", 300, bold=True, span=" colspan=2")
                  + _word_cell("Uzasadnienie", 160, bold=True, span=" rowspan=2"))
    header_bottom = _word_cell("obecny", 150, bold=True) + _word_cell("proponowany", 150, bold=True)
    rows = [("1.", "§ 5 ust. 2", "Współpraca ma charakter finansowy i pozafinansowy.", f"{TEXT_1}.", f"{WHY_1}."),
            ("2.", "Rozdział 4 pkt 3", "", f"{TEXT_2}.", f"{WHY_2}.")]
    body_rows = "".join("<tr>" + "".join(_word_cell(cell, width) for cell, width in
                                         zip(row, (40, 120, 150, 150, 160))) + "</tr>\n" for row in rows)
    html = ('<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" '
            'xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv=Content-Type content="text/html; '
            'charset=windows-1250"><meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!-- '
            'p.MsoNormal {margin:0cm;font-size:11.0pt;font-family:"Calibri",sans-serif;} table.MsoTableGrid '
            '{border:solid windowtext 1.0pt;} --></style></head><body lang=PL link="#0563C1" vlink="#954F72">'
            '<div class=WordSection1><p class=MsoNormal>Dzień dobry,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;'
            '</o:p></p><p class=MsoNormal>przesyłam uwagi do projektu programu współpracy w tabeli z formularza:'
            '<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>'
            "<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;"
            "border:none;mso-border-alt:solid windowtext .5pt;mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm "
            f"5.4pt'>\n<tr style='mso-yfti-irow:0;mso-yfti-firstrow:yes'>{header_top}</tr>\n<tr>{header_bottom}</tr>\n"
            f"{body_rows}</table><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Imię i nazwisko: Anna "
            "Nowak<o:p></o:p></p><p class=MsoNormal>Nazwa organizacji: Stowarzyszenie Przyjaciół Torunia<o:p></o:p>"
            "</p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Pozdrawiam<br>Anna Nowak<o:p></o:p></p>"
            "</div></body></html>\n")
    table_text = "\n".join("\t".join(cells) for cells in [
        ("Lp.", "Część dokumentu, do której odnosi się uwaga", "Zapis", "", "Uzasadnienie"),
        ("", "", "obecny", "proponowany", ""), *rows])
    plain = (f"Dzień dobry,\n\nprzesyłam uwagi do projektu programu współpracy w tabeli z formularza:\n\n{table_text}\n\n"
             "Imię i nazwisko: Anna Nowak\nNazwa organizacji: Stowarzyszenie Przyjaciół Torunia\n\n"
             "Pozdrawiam\nAnna Nowak\n")
    write("outlook-form-table-pasted-in-text.eml", f"""From: Anna Nowak <anna.nowak@example.org>
To: =?windows-1250?Q?Konsultacje_Spo=B3eczne?= <konsultacje@um.torun.pl>
Subject: Uwagi do programu =?windows-1250?Q?wsp=F3=B3pracy?=
Date: Mon, 21 Oct 2024 15:40:51 +0200
Message-ID: <000a01db23b5$c2f1d9a0$48d58ce0$@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative;
\tboundary="----=_NextPart_000_000B_01DB23C6.8680E9A0"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AdsjtcBvR3m2m7XyQ1a6kD0H2u7Qzg==
Content-Language: pl

This is a multipart message in MIME format.

------=_NextPart_000_000B_01DB23C6.8680E9A0
Content-Type: text/plain;
\tcharset="windows-1250"
Content-Transfer-Encoding: quoted-printable

{qp(plain, "windows-1250")}
------=_NextPart_000_000B_01DB23C6.8680E9A0
Content-Type: text/html;
\tcharset="windows-1250"
Content-Transfer-Encoding: quoted-printable

{qp(html, "windows-1250")}
------=_NextPart_000_000B_01DB23C6.8680E9A0--
""")


# The table of the public guide to commenting (polskapv.pl: "a filled table, best in an editable format (e.g. .docx
# or .xls)"), with its example rows, as tests/unit/intake_mail/test_form.py has it for XLSX.
GUIDE_TABLE = [["Uwagi do projektu rozporządzenia"],
               ["Podmiot wnoszący propozycję", "Jednostka redakcyjna", "Treść uwagi i uzasadnienie", "Propozycja zmiany"],
               ["Fundacja Edukacja i Prawo", "§ 4 ust. 1", "W obecnym brzmieniu przepis może sugerować obowiązek, mimo "
                "że intencją wydaje się być jedynie zalecenie.", "Zmienić słowo „należy” na „można”"],
               ["Jan Kowalski", "Załącznik nr 2, tabela, wiersz 5", "Limit 10 kWh jest zbyt niski.",
                "Podnieść limit do 30 kWh"]]


def excel_97_table() -> None:
    """The guide's table as an Excel 97-2003 workbook: written by openpyxl, saved as .xls by LibreOffice Calc."""
    from openpyxl import Workbook

    workbook = Workbook()
    for row in GUIDE_TABLE:
        workbook.active.append(row)
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as out:
        source = Path(out) / "uwagi-tabela.xlsx"
        workbook.save(source)
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        "xls:MS Excel 97", "--outdir", out, str(source)], check=True, capture_output=True, timeout=120)
        (HERE / "uwagi-tabela.xls").write_bytes((Path(out) / "uwagi-tabela.xls").read_bytes())


def pdf_from(docx: Path) -> bytes:
    """The document as LibreOffice Writer exports it to PDF ("Eksportuj jako PDF"), with its default settings."""
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as out:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        "pdf:writer_pdf_Export", "--outdir", out, str(docx)], check=True, capture_output=True,
                       timeout=120)
        return (Path(out) / (docx.stem + ".pdf")).read_bytes()


CITY_FORM_ROWS = (
    ("§ 8 ust. 2", "Otwarte konkursy ofert ogłasza się w Biuletynie Informacji Publicznej, na stronie internetowej "
     "Gminy oraz na tablicy ogłoszeń Urzędu Miasta Torunia.",
     "Otwarte konkursy ofert ogłasza się w Biuletynie Informacji Publicznej, na stronie internetowej Gminy, na tablicy "
     "ogłoszeń Urzędu Miasta Torunia oraz w newsletterze dla organizacji pozarządowych.",
     "Wiele małych organizacji nie śledzi BIP; newsletter dociera do nich bezpośrednio."),
    ("§ 7", "Program realizowany jest w okresie od 1 stycznia do 31 grudnia 2027 r.",
     " ".join(["Proponujemy, aby otwarte konkursy ofert na zadania realizowane od stycznia ogłaszać najpóźniej do końca "
               "listopada roku poprzedniego, a wyniki konkursów publikować w ciągu trzydziestu dni od upływu terminu "
               "składania ofert."] * 6),
     "Organizacje, które dostają dotację w marcu, muszą przez pierwsze miesiące roku finansować zajęcia z własnych "
     "środków; społeczno-gospodarczy rozwój dzielnic na tym traci."),
    ("§ 10 ust. 1", "", "Dodać miernik: „liczba organizacji korzystających z lokali udostępnianych przez Gminę”.",
     "Pozwoli ocenić, czy współpraca pozafinansowa rzeczywiście wspiera organizacje."),
)


def city_form_filled() -> None:
    """The consultation's own form as intake serves it (services/intake/comment_form.py), filled in: a long second
    comment runs over three pages, where Writer repeats the table's header."""
    import docx

    from services.intake.comment_form import CommentFormSpec, build_comment_form

    blank = build_comment_form(CommentFormSpec(
        title="Wspólnie o programie współpracy z NGO na 2027 r.", stage="II etap",
        organiser="Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia",
        contact_email="konsultacje@um.torun.pl",
        document_title="Program współpracy Gminy Miasta Toruń z organizacjami pozarządowymi w 2027 r."))
    document = docx.Document(io.BytesIO(blank))
    details, comments = document.tables[0], document.tables[1]
    for row, value in zip(details.rows, ("Jan Kamiński", "Stowarzyszenie Mieszkańców Starego Miasta",
                                         "ul. Szeroka 1, 87-100 Toruń", "jan.kaminski@example.org", "")):
        row.cells[1].paragraphs[0].text = value
    for row, values in zip(comments.rows[1:], CITY_FORM_ROWS):
        for cell, value in zip(row.cells[1:], values):
            cell.paragraphs[0].text = value
    document.save(HERE / "city-form-filled.docx")


TEXT_BOXES = ("§ 6 ust. 1 pkt 5", "działalności na rzecz osób w wieku emerytalnym;",
              "działalności na rzecz osób w wieku emerytalnym, w tym przeciwdziałania samotności seniorów;",
              "Coraz więcej starszych mieszkańców żyje samotnie.")


def text_boxes_form() -> bytes:
    """The consultation's form as a PDF (Writer's export of the blank form) filled in the way macOS Preview's
    text tool and Acrobat's Fill & Sign fill a PDF that has no fields: a FreeText annotation laid over each cell,
    its words in /Contents, the page's own text untouched."""
    import pdfplumber
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import FreeText

    from services.intake.comment_form import CommentFormSpec, build_comment_form

    with tempfile.TemporaryDirectory() as out:
        blank = Path(out) / "formularz.docx"
        blank.write_bytes(build_comment_form(CommentFormSpec(title="Wspólnie o programie współpracy z NGO na 2027 r.")))
        pdf = pdf_from(blank)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[0]
        details, comments = page.find_tables()[:2]
        height = float(page.height)
        # the sender's name and e-mail in the details table, then the first comment's four cells
        cells = [details.rows[0].cells[1], details.rows[3].cells[1], *comments.rows[1].cells[1:]]
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for (x0, top, x1, bottom), text in zip(cells, ("Halina Dąbrowska", "h.dabrowska@example.org", *TEXT_BOXES)):
        writer.add_annotation(0, FreeText(text=text, rect=(x0 + 2, height - bottom + 2, x1 - 2, height - top - 2),
                                          font="Helvetica", font_size="10pt"))
    out_bytes = io.BytesIO()
    writer.write(out_bytes)
    return out_bytes.getvalue()


def city_form_long() -> None:
    """The consultation's own form with 120 comments (an NGO's collected comments): Writer's PDF of it runs over
    many pages, a row broken at nearly every page's foot and the header repeated at every page's top."""
    import docx

    from services.intake.comment_form import CommentFormSpec, build_comment_form

    document = docx.Document(io.BytesIO(build_comment_form(CommentFormSpec(title="Wspólnie o programie współpracy"))))
    table = document.tables[1]
    while len(table.rows) < 121:
        table.add_row()
    for number, row in enumerate(table.rows[1:], start=1):
        for cell, text in zip(row.cells, (
                f"{number}.", f"§ {number % 12 + 1} ust. 2",
                "Współpraca ma charakter finansowy i pozafinansowy, co dotyczy organizacji pozarządowych.",
                f"Dopisać punkt {number}: współpraca finansowa i pozafinansowa z organizacjami pozarządowymi "
                "działającymi w mieście.",
                "Tak będzie jaśniej dla mieszkańców i organizacji, które korzystają z programu.")):
            cell.paragraphs[0].text = text
    document.save(HERE / "city-form-long.docx")
    (HERE / "city-form-long.pdf").write_bytes(pdf_from(HERE / "city-form-long.docx"))


def pdf_form_shapes() -> None:
    """Both forms filled in and saved as PDF instead of DOCX, as residents do before mailing them: form A's
    narrow columns make Writer break long words inside ("pozafinanso" | "wy.") and its third comment runs onto
    the second page. Form A goes to an Outlook 16 mail (as `outlook-letter-pdf-attached.eml`)."""
    pdf_a = pdf_from(HERE / "form-a-toruń.docx")
    (HERE / "form-a-toruń.pdf").write_bytes(pdf_a)
    (HERE / "form-b-columns-reordered.pdf").write_bytes(pdf_from(HERE / "form-b-columns-reordered.docx"))
    plain = "Dzień dobry,\n\nw załączeniu formularz z uwagami Stowarzyszenia w PDF.\n\nAnna Nowak\n"
    city_form_filled()
    (HERE / "city-form-filled.pdf").write_bytes(pdf_from(HERE / "city-form-filled.docx"))
    (HERE / "city-form-text-boxes.pdf").write_bytes(text_boxes_form())
    city_form_long()
    outlook_16_with_file("outlook-form-saved-as-pdf.eml", sender="Anna Nowak <anna.nowak@example.org>",
                         subject="Uwagi do programu =?windows-1250?Q?wsp=F3=B3pracy?=",
                         thread_index="AdxiR7b2c4Tf6cKdUo3Xn1b8Sl0tRB==", date="Fri, 18 Oct 2024 11:42:07 +0000",
                         local_id="PA4PR07MB7309E3B8D5F1C02A4C7B3E22D5B21", server="PA4PR07MB7309", plain=plain,
                         name="formularz uwag – Toruń.pdf", media_type="application/pdf", data=pdf_a)


if __name__ == "__main__":
    main()


def copier_scan(pdf: bytes, *, dpi: int = 200, seed: int = 20111107) -> bytes:
    """The printed letter scanned to PDF by an office copier: each page a greyscale picture at `dpi`, a little
    skewed as paper lies on the glass, with toner specks and the copier's JPEG; no text layer."""
    import random

    import pypdfium2
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    pages = []
    for page in pypdfium2.PdfDocument(pdf):
        picture = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        picture = picture.rotate(rng.uniform(-0.8, 0.8), resample=Image.BICUBIC, fillcolor=255, expand=False)
        specks = picture.load()
        for _ in range(picture.width * picture.height // 2500):
            specks[rng.randrange(picture.width), rng.randrange(picture.height)] = rng.randrange(40, 160)
        pages.append(picture.filter(ImageFilter.GaussianBlur(0.5)).point(lambda v: max(0, min(255, v * 0.94 + 8))))
    out = io.BytesIO()
    stamp = time.gmtime(1729503000)  # 21 October 2024, fixed: the same bytes on every run
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=dpi, quality=72,
                  creationDate=stamp, modDate=stamp)
    return out.getvalue()


def scan_shapes() -> None:
    """Comments that reach the office on paper and come back as scans: the Federation's letter printed, signed
    and scanned by an office copier to an image-only PDF, mailed from Outlook; and a printed page photographed
    with a digital camera (a real photo from tesseract-polish, `scans/SOURCES.md`), mailed from Thunderbird."""
    scan = copier_scan((HERE / "letter-federacja-torun.pdf").read_bytes())
    (HERE / "letter-federacja-torun-scan.pdf").write_bytes(scan)
    plain = ("Szanowni Państwo,\n\nw załączeniu skan podpisanego pisma Federacji z uwagami do projektu Programu "
             "Współpracy na 2012 rok. Oryginał wysłaliśmy pocztą.\n\nZ poważaniem\nBiuro Federacji\n")
    outlook_16_with_file("outlook-scanned-letter-pdf.eml",
                         sender="=?windows-1250?Q?Biuro_Federacji?= <biuro@federacja.example.org>",
                         subject="Skan pisma - uwagi do Programu =?windows-1250?Q?Wsp=F3=B3pracy?=",
                         thread_index="AdxhZq2c7Hn1Ue0bQ8yVt3kR5mJwPg==", date="Tue, 8 Nov 2011 13:07:41 +0000",
                         local_id="AM6PR07MB5589F03B71E2C4D6A9E8B2F0C4A11", server="AM6PR07MB5589", plain=plain,
                         name="SKM_C25811110814050.pdf", media_type="application/pdf", data=scan)
    # The form filled in on a computer, printed, signed and scanned: its table must be read from the pictures
    (HERE / "form-a-toruń-scan.pdf").write_bytes(copier_scan((HERE / "form-a-toruń.pdf").read_bytes(), seed=20241018))
    (HERE / "city-form-filled-scan.pdf").write_bytes(copier_scan((HERE / "city-form-filled.pdf").read_bytes(),
                                                                  seed=20241021))
    plain = ("Dzień dobry,\n\nw załączeniu skan podpisanego formularza z uwagami Stowarzyszenia.\n\n"
             "Anna Nowak\nStowarzyszenie Przyjaciół Torunia\n")
    outlook_16_with_file("outlook-scanned-form-pdf.eml",
                         sender="Anna Nowak <anna.nowak@example.org>",
                         subject="Formularz uwag - skan",
                         thread_index="AdxhZr7d2Kp0Ye4cR9vWu5lS6nKxQh==", date="Fri, 18 Oct 2024 12:44:09 +0000",
                         local_id="DB9PR02MB7308C5E1A3B7D90F2E6C4B8A1D5E3", server="DB9PR02MB7308", plain=plain,
                         name="Skan formularza uwag.pdf", media_type="application/pdf",
                         data=(HERE / "form-a-toruń-scan.pdf").read_bytes())
    tiff = (HERE / "scans" / "sample_pl-part1-helvetica-digital_cam.tif").read_bytes()
    name = "strona z uwagami.tif"
    (HERE / "thunderbird-photographed-page-tiff.eml").write_bytes(f"""Message-ID: <0c1f7e52-3b8d-4a61-9e2f-5d7a4b8c9e13@example.net>
Date: Mon, 14 Oct 2024 19:42:03 +0200
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: pl
To: konsultacje@um.torun.pl
From: Tomasz Wieczorek <t.wieczorek@example.net>
Subject: =?UTF-8?Q?{qp_word("Uwagi – zdjęcie strony")}?=
Content-Type: multipart/mixed; boundary="------------Zq7mB2xV9cN4kR1tY8wL3pHs"

This is a multi-part message in MIME format.
--------------Zq7mB2xV9cN4kR1tY8wL3pHs
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Dzień dobry,

przesyłam zdjęcie strony z uwagami.

Tomasz Wieczorek

--------------Zq7mB2xV9cN4kR1tY8wL3pHs
Content-Type: image/tiff; name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64

{b64(tiff)}

--------------Zq7mB2xV9cN4kR1tY8wL3pHs--
""".replace("\n", "\r\n").encode("utf-8"))
