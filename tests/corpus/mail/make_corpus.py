"""Rebuilds the adapted files of this corpus (see SOURCES.md): the filled forms and the mails that carry them.

The mail shapes (headers, MIME structure, reply and forward layout) are copied from the real samples
named in SOURCES.md; only the words are replaced with public comment text from the 2024 announcement,
and the forms are attached. Run from the repository root:
`.venv/bin/python tests/corpus/mail/make_corpus.py` (needs LibreOffice for the ODT).
"""

from __future__ import annotations

import base64
import quopri
import subprocess
import tempfile
from pathlib import Path

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


def b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def qp(text: str, charset: str) -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def write(name: str, text: str) -> None:
    (HERE / name).write_bytes(text.replace("\n", "\r\n").encode("ascii"))


def main() -> None:
    form_a(HERE / "form-a-toruń.docx")
    form_b(HERE / "form-b-columns-reordered.docx")
    odt_from(HERE / "form-a-toruń.docx", HERE / "form-a-toruń.odt")
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


if __name__ == "__main__":
    main()
