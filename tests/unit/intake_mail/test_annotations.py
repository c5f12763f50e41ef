"""A draft returned with Word comments and tracked changes gives its comments; a filled form still wins."""

from __future__ import annotations

import io
import zipfile

from docx import Document

from services.intake.mail.annotations import STRUCK
from services.intake.mail.form import read_form
from tests.unit.intake_mail.conftest import CORPUS

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DRAFTING = CORPUS.parent / "drafting"


def rows_of(data: bytes) -> list[tuple[str, str, str, str]]:
    form = read_form("projekt.docx", DOCX, data)
    assert form is not None and form.annotated
    return [(r.section, r.current_text, r.proposal, r.justification) for r in form.rows]


def _saved(document) -> bytes:
    data = io.BytesIO()
    document.save(data)
    return data.getvalue()


def _paragraph(document, prefix: str):
    return next(p for p in document.paragraphs if p.text.replace("\xa0", " ").startswith(prefix))


def test_word_comments_on_a_real_draft_are_comments_on_the_provision_they_are_anchored_to():
    document = Document(str(DRAFTING / "uchwala-piatnica-program.typed-lo.docx"))
    quoted = _paragraph(document, "§ 1")
    document.add_comment(quoted.runs, text="Dopisać, że program przyjęto po konsultacjach.", author="Jan Kowalski")
    document.add_comment(_paragraph(document, "§ 3").runs, text="Kto konkretnie?", author="Jan Kowalski")
    assert rows_of(_saved(document)) == [
        ("§ 1", "Przyjmuje się Program współpracy Gminy Piątnica z organizacjami pozarządowymi oraz innymi "
                "podmiotami prowadzącymi działalność pożytku publicznego na rok 2017, stanowiący załącznik nr 1 "
                "do uchwały.", "Dopisać, że program przyjęto po konsultacjach.", ""),
        ("§ 3", "Wykonanie uchwały powierza się Wójtowi Gminy Piątnica.", "Kto konkretnie?", "")]


def test_tracked_changes_made_by_libreoffice_are_proposals_and_a_comment_on_a_change_its_justification():
    """The corpus's draft-piatnica-tracked.docx: LibreOffice recorded an insertion in § 3 and § 4 deleted whole."""
    document = Document(str(CORPUS / "draft-piatnica-tracked.docx"))
    document.add_comment(_paragraph(document, "§ 3").runs[:1], text="Rada powinna współdecydować.", author="A")
    rows = rows_of(_saved(document))
    assert rows[0] == ("§ 3", "Wykonanie uchwały powierza się Wójtowi Gminy Piątnica.",
                       "Wykonanie uchwały powierza się Wójtowi Gminy Piątnica w porozumieniu z Radą Działalności "
                       "Pożytku Publicznego.", "Rada powinna współdecydować.")
    assert rows[1][0] == "§ 4" and rows[1][1].startswith("Z dniem 31 grudnia 2016 roku traci moc") and \
        rows[1][2:] == (STRUCK, "")
    assert len(rows) == 2


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
W14 = 'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'
W15 = 'xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"'


def _package(body: str, comments: str = "", extended: str = "") -> bytes:
    """A DOCX with these parts, as Word lays them out (ISO/IEC 29500-1 §17.13.4; [MS-DOCX] commentsExtended)."""
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
             'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    document = f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>{body}</w:body></w:document>'
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
        if comments:
            archive.writestr("word/comments.xml", f'<w:comments {W} {W14}>{comments}</w:comments>')
        if extended:
            archive.writestr("word/commentsExtended.xml", f'<w15:commentsEx {W15}>{extended}</w15:commentsEx>')
    return data.getvalue()


def _p(text: str, extra: str = "") -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r>{extra}</w:p>'


def test_a_reply_belongs_to_the_comment_it_answers_and_a_comment_at_a_point_quotes_its_paragraph():
    body = (_p("§ 2. Celem programu jest:") + _p("1) rozwój wolontariatu;") +
            '<w:p><w:commentRangeStart w:id="0"/><w:r><w:t>2) wspieranie inicjatyw lokalnych;</w:t></w:r>'
            '<w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r>'
            '<w:r><w:commentReference w:id="1"/></w:r></w:p>' +  # Word anchors the reply too
            _p("a) w dzielnicach,", '<w:r><w:commentReference w:id="2"/></w:r>'))
    comments = ('<w:comment w:id="0" w:author="Anna"><w:p w14:paraId="0A000001"><w:r><w:t>Dopisać seniorów.</w:t>'
                '</w:r></w:p></w:comment>'
                '<w:comment w:id="1" w:author="Anna"><w:p w14:paraId="0A000002"><w:r><w:t>Bo są aktywni.</w:t>'
                '</w:r></w:p></w:comment>'
                '<w:comment w:id="2" w:author="Anna"><w:p w14:paraId="0A000003"><w:r><w:t>Także na osiedlach.'
                '</w:t></w:r></w:p></w:comment>')
    extended = ('<w15:commentEx w15:paraId="0A000001" w15:done="0"/>'
                '<w15:commentEx w15:paraId="0A000002" w15:paraIdParent="0A000001" w15:done="0"/>'
                '<w15:commentEx w15:paraId="0A000003" w15:done="0"/>')
    assert rows_of(_package(body, comments, extended)) == [
        ("§ 2 pkt 2", "wspieranie inicjatyw lokalnych;", "Dopisać seniorów.\n\nBo są aktywni.", ""),
        ("§ 2 pkt 2 lit. a", "w dzielnicach,", "Także na osiedlach.", "")]


def test_a_paragraph_inserted_with_tracking_on_proposes_new_wording_with_no_current_text():
    body = (_p("§ 3. Program realizuje się w formach:") +
            '<w:p><w:pPr><w:rPr><w:ins w:id="5" w:author="A" w:date="2024-10-20T10:00:00Z"/></w:rPr></w:pPr>'
            '<w:ins w:id="6" w:author="A" w:date="2024-10-20T10:00:00Z"><w:r><w:t>1) konsultacji projektów aktów;'
            '</w:t></w:r></w:ins></w:p>')
    assert rows_of(_package(body)) == [("§ 3 pkt 1", "", "konsultacji projektów aktów;", "")]


def test_a_draft_without_comments_or_changes_is_no_form_and_a_form_with_comments_reads_as_the_form():
    assert read_form("projekt.docx", DOCX, (DRAFTING / "uchwala-piatnica-program.typed-lo.docx").read_bytes()) is None
    form = Document(str(CORPUS / "form-a-toruń.docx"))
    form.add_comment(form.paragraphs[0].runs, text="Nie wiem, co tu wpisać.", author="Jan")
    read = read_form("formularz.docx", DOCX, _saved(form))
    assert read is not None and not read.annotated and read.rows


def test_libreoffices_own_comments_and_recorded_changes_in_an_odt_read_as_the_docx_does():
    """draft-piatnica-annotated.odt: the corpus mail's annotated DOCX saved by LibreOffice as ODT (office:annotation
    with its annotation-end, text:change-start/end around the insertion, text:change where § 4 was deleted whole)."""
    form = read_form("projekt.odt", "application/vnd.oasis.opendocument.text",
                     (CORPUS / "draft-piatnica-annotated.odt").read_bytes())
    assert form is not None and form.annotated
    assert [(r.section, r.proposal, r.justification) for r in form.rows] == [
        ("§ 3", "Wykonanie uchwały powierza się Wójtowi Gminy Piątnica w porozumieniu z Radą Działalności Pożytku "
                "Publicznego.", "Rada powinna współdecydować o wykonaniu programu."),
        ("§ 4", STRUCK, ""), ("§ 5", "Proponuję wejście w życie z dniem ogłoszenia.", "")]
    assert form.rows[0].current_text == "Wykonanie uchwały powierza się Wójtowi Gminy Piątnica."
    assert form.rows[2].current_text.startswith("Uchwała wchodzi w życie z dniem 1 stycznia 2017 r.")


def test_an_odt_form_reads_as_the_form_and_an_odt_draft_without_annotations_as_nothing():
    form = read_form("formularz.odt", "application/vnd.oasis.opendocument.text",
                     (CORPUS / "form-a-toruń.odt").read_bytes())
    assert form.rows and not form.annotated
    plain = Document(str(DRAFTING / "uchwala-piatnica-program.typed-lo.docx"))
    assert read_form("projekt.docx", DOCX, _saved(plain)) is None


def test_a_letter_typed_with_track_changes_left_on_is_no_list_of_proposals_but_its_word_comments_count():
    """Every word an insertion: the changes are how it was typed, not proposals on a draft."""
    inserted = ''.join(f'<w:p><w:ins w:id="{n}" w:author="A" w:date="2024-10-20T10:00:00Z"><w:r><w:t>{text}</w:t>'
                       f'</w:r></w:ins></w:p>' for n, text in enumerate(
                           ["Szanowni Państwo,", "przesyłam uwagi stowarzyszenia do projektu programu współpracy.",
                            "§ 5 powinien przewidywać dwa konkursy w roku."]))
    comment = ('<w:p><w:commentRangeStart w:id="9"/><w:r><w:t>Program na 2025 rok</w:t></w:r>'
               '<w:commentRangeEnd w:id="9"/><w:r><w:commentReference w:id="9"/></w:r></w:p>')
    comments = '<w:comment w:id="9" w:author="A"><w:p><w:r><w:t>Dopisać seniorów.</w:t></w:r></w:p></w:comment>'
    assert rows_of(_package(comment + inserted, comments)) == [("", "Program na 2025 rok", "Dopisać seniorów.", "")]
    assert read_form("list.docx", DOCX, _package(inserted)) is None
