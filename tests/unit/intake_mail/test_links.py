"""A mail that links to its file on OneDrive, Google Drive or WeTransfer instead of attaching it waits for staff,
and the mail's record and the transcription page say which files it links to: Uwagi never opens them. The links
below are real public share links as their services write them (from public project pages and course notes)."""

from __future__ import annotations

from sqlalchemy import select

from services.intake.mail.importer import NEEDS_REVIEW, import_mail
from services.intake.mail.links import MAX_ADDRESSES, MAX_LINKS, SharedFile, shared_files
from services.intake.models import InboundMail
from tests.unit.intake_mail.conftest import mail_row, now
from tests.unit.intake_mail.test_importer import mail_with
from tests.unit.intake_mail.test_transcription import reviewer_client

ONEDRIVE_NAMED = ("https://epmmop365-my.sharepoint.com/:w:/r/personal/diana_diaz_epmmop_gob_ec/Documents/DESARROLLO/"
                  "NORMATIVA/ANEXOS/ETAPA%207%20%E2%80%93%20Paso%20a%20Producci%C3%B3n/Anexo_E7_Plan_Reversa.docx"
                  "?d=w5a1423474f5d49b7a37eaa645c10cf7d&csf=1&web=1&e=2DkSKl")
ONEDRIVE_SHARED = ("https://solitontech-my.sharepoint.com/:w:/p/sadhana_suresh/"
                   "EUg5HBnxLrpCqPJ7OgUee3IBjahCa6hl3Jtg0OSPKQXD-Q?e=hvmr8B")
GOOGLE_DOC = "https://docs.google.com/document/d/1SSEvaA1CjvFzp_syOhSzLdmLxeYmgo4XvjxS0VEK-6Q/edit?usp=sharing"


def test_share_links_are_named_by_their_service_and_file_name_where_the_address_shows_it():
    text = (f"Uwagi Stowarzyszenia w pliku:\n{ONEDRIVE_NAMED}\n\noraz w dokumencie Google ({GOOGLE_DOC}).\n"
            f"Formularz: <{ONEDRIVE_SHARED}>, a zdjęcia na https://we.tl/t-ZbWkQ8Jv1k.")
    assert shared_files(text) == (
        SharedFile("OneDrive / SharePoint", ONEDRIVE_NAMED, "Anexo_E7_Plan_Reversa.docx"),
        SharedFile("Google Docs", GOOGLE_DOC),
        SharedFile("OneDrive / SharePoint", ONEDRIVE_SHARED),
        SharedFile("WeTransfer", "https://we.tl/t-ZbWkQ8Jv1k"))


def test_other_links_the_same_link_twice_and_lookalike_hosts_name_no_shared_file():
    text = (f"Program: https://www.torun.pl/pl/konsultacje oraz {GOOGLE_DOC} i jeszcze raz {GOOGLE_DOC}.\n"
            "https://sharepoint.com.example.org/:w:/x https://notdropbox.com/s/abc http://[::1:80/")
    assert [file.url for file in shared_files(text)] == [GOOGLE_DOC]


def test_a_mail_listing_many_links_names_the_first_ones():
    text = "\n".join(f"https://drive.google.com/file/d/{number}/view" for number in range(MAX_LINKS * 5))
    assert len(shared_files(text)) == MAX_LINKS


def test_only_the_first_addresses_of_a_long_text_are_looked_at():
    text = "https://www.torun.pl/ " * MAX_ADDRESSES + GOOGLE_DOC
    assert shared_files(text) == () and shared_files(text[-500:]) == (SharedFile("Google Docs", GOOGLE_DOC),)


def test_a_mail_that_links_its_form_waits_for_staff_who_are_told_so(ctx, consultation):
    body = ("Dzień dobry,\r\nw imieniu Fundacji przesyłam link do formularza z uwagami:\r\n"
            f"{ONEDRIVE_NAMED}\r\n\r\nZ poważaniem\r\nAnna Nowak")
    result = import_mail(ctx, mail_with(body=body), received_at=now(), source="t", consultation_id=consultation)
    assert result.status == NEEDS_REVIEW
    row = mail_row(ctx, result.message_id)
    assert ("links to shared files instead of attaching them: OneDrive / SharePoint (Anexo_E7_Plan_Reversa.docx)"
            in row.reason)
    page = reviewer_client(ctx).get(f"/intake/staff/mails/{row.id}").get_data(as_text=True)
    assert "Pliki udostępnione linkiem, nie załączone" in page and "Uwagi nie otwiera linków" in page
    assert ">Anexo_E7_Plan_Reversa.docx</a>" in page and 'rel="noopener noreferrer nofollow"' in page


def test_a_mail_without_shared_links_has_no_such_note_nor_section(ctx, consultation):
    result = import_mail(ctx, mail_with(body="Proszę o dwa konkursy w roku."), received_at=now(), source="t",
                         consultation_id=consultation)
    with ctx.db.transaction() as session:
        row = session.scalar(select(InboundMail).where(InboundMail.message_id == result.message_id))
    assert "shared files" not in (row.reason or "")
    page = reviewer_client(ctx).get(f"/intake/staff/mails/{row.id}").get_data(as_text=True)
    assert "Pliki udostępnione linkiem" not in page


def test_an_html_only_mail_whose_link_is_named_by_the_file_shows_its_address_and_is_known_to_link_it(
        ctx, consultation):
    """The new Outlook shares a OneDrive file as a link whose words are the file's name (written for this test in
    the shape Outlook gives it: a Word-HTML body only, the link inside a paragraph), and a sender writes "tutaj"
    over a WeTransfer link: the text keeps each address after its words, as a plain-text mail shows it."""
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body lang="PL">'
            '<div class="WordSection1"><p class="MsoNormal">Dzień dobry,<o:p></o:p></p>'
            '<p class="MsoNormal">przesyłam uwagi Fundacji: <a href="' + ONEDRIVE_SHARED + '">Uwagi_Fundacji.docx'
            '</a>, zdjęcia pism <a href="https://we.tl/t-ZbWkQ8Jv1k">tutaj</a>, a stanowisko jest na '
            '<a href="https://www.torun.pl/pl/ngo">stronie urzędu</a>.<o:p></o:p></p></div></body></html>')
    raw = (mail_with().split(b"Content-Type:")[0] + b"Content-Type: text/html; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n" + html.encode() + b"\r\n")
    result = import_mail(ctx, raw, received_at=now(), source="t", consultation_id=consultation)
    assert result.status == NEEDS_REVIEW
    row = mail_row(ctx, result.message_id)
    assert f"Uwagi_Fundacji.docx <{ONEDRIVE_SHARED}>" in row.body_text
    assert "tutaj <https://we.tl/t-ZbWkQ8Jv1k>" in row.body_text
    assert "stronie urzędu." in row.body_text and "www.torun.pl" not in row.body_text  # other links as read
    assert "OneDrive / SharePoint (Uwagi_Fundacji.docx), WeTransfer" in row.reason
    page = reviewer_client(ctx).get(f"/intake/staff/mails/{row.id}").get_data(as_text=True)
    assert ">Uwagi_Fundacji.docx</a>" in page
