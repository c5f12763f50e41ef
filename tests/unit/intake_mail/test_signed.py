"""Documents signed electronically (CAdES, XAdES) and mails Outlook signed opaquely (S/MIME): the content is read,
the signer named, the signature kept. Expectations from the public files themselves (tests/corpus/signed/SOURCES.md)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from services.intake.mail.importer import CREATED, NEEDS_REVIEW, import_mail
from services.intake.mail.letter import letter_text
from services.intake.mail.parse import parse_mail
from services.intake.mail.signed import (MAX_WRAPPINGS, package_signers, pdf_signers, signature_signers,
                                         signed_content)
from tests.unit.intake_mail.conftest import CORPUS, mail_row, now, received_events
from tests.unit.intake_mail.test_importer import DOCX, FORM, mail_with

SIGNED = CORPUS.parent / "signed"


@pytest.mark.parametrize(("name", "inner_name", "starts", "size", "signer"), [
    ("Signature-C-B-B-8.p7m", "Signature-C-B-B-8.pdf", b"%PDF-1.6\r", 74827, "Tayfun USTA (Kale Yazilim)"),
    ("Signature-C-HU_MIC-1.p7m", "Signature-C-HU_MIC-1.bin", b"test doc", 8, "Géczi Zoltán Csaba (Microsec zrt.)"),
    ("Signature-C-DE_CRY-3.p7m", "Signature-C-DE_CRY-3.bin", b"SAMPLE", 6, "Matthias Schlede (secrypt GmbH)"),
    ("cades-bes-signeddata-enveloping.p7m", "cades-bes-signeddata-enveloping.bin", b"Hello World", 11,
     "good-user (Nowina Solutions)"),
    ("Signature-X-HU_POL-3.xml", "tobesigned.txt", b"toBeSigned", 10, "POLYSYS Kft."),
    ("xades-valid-object.xml", "xades-valid-object.txt", b"Test Object\n", 12, "Roberto Baudizzone"),
    ("john-doe-lta.xml", "john-doe-lta.xml", b"\xef\xbb\xbf<?xml", None,
     "John Doe (Test Qualified Trust Service Provider 1 from ZZ)"),
])
def test_the_file_inside_a_real_signature_is_taken_out_and_the_signer_named(name, inner_name, starts, size, signer):
    opened = signed_content(name, (SIGNED / name).read_bytes())
    assert opened is not None
    assert opened.filename == inner_name
    assert opened.data.startswith(starts)
    assert size is None or len(opened.data) == size
    assert len(opened.signers) == 1 and opened.signers[0].startswith(signer)


@pytest.mark.parametrize("armour", ["pem", "base64"])
def test_a_signature_saved_as_text_opens_as_the_binary_one_does(armour):
    """Some signing programs and gateways save the .p7m as PEM or as bare base64 text."""
    der = (SIGNED / "Signature-C-HU_MIC-1.p7m").read_bytes()
    encoded = base64.encodebytes(der)
    text = b"-----BEGIN PKCS7-----\n" + encoded + b"-----END PKCS7-----\n" if armour == "pem" else encoded
    opened = signed_content("doc.txt.p7m", text)
    assert opened.data == b"test doc" and opened.filename == "doc.txt"
    assert opened.signers == ("Géczi Zoltán Csaba (Microsec zrt.)",)


def test_an_encrypted_s_mime_envelope_is_no_signature():
    # Request Tracker's S/MIME-encrypted mail (tests/corpus/mail/rt/SOURCES.md): enveloped-data, not signed-data
    parsed = parse_mail((CORPUS / "rt" / "smime-4-encrypted-plain.eml").read_bytes())
    envelope = next(a for a in parsed.attachments if a.filename == "smime.p7m")
    assert signed_content("smime.p7m", envelope.data) is None and envelope.signed_by == ()


def test_the_pdf_inside_is_the_signed_pdf_byte_for_byte():
    opened = signed_content("Signature-C-B-B-8.p7m", (SIGNED / "Signature-C-B-B-8.p7m").read_bytes())
    # the digest of what `openssl cms -verify -noverify` writes out of the same file
    assert hashlib.sha256(opened.data).hexdigest().startswith("b86b02d26a6ede1f")
    assert opened.media_type == "application/pdf"


@pytest.mark.parametrize("name", ["Signature-C-DE_CRY-3.p7m", "Signature-C-HU_MIC-1.p7m", "xades-valid-object.xml"])
def test_a_certificates_serial_number_never_names_the_signer(name):
    """A Polish qualified certificate's serialNumber is the signer's PESEL; these carry a German, a Hungarian and
    an Italian personal identifier there."""
    opened = signed_content(name, (SIGNED / name).read_bytes())
    assert not any(marker in " ".join(opened.signers) for marker in ("DTRWE", "1.3.6.1.4.1.21528", "BDZRRT"))


@pytest.mark.parametrize("name", ["cades-bes-signeddata-detached.p7s", "Signature-X-HU_MIC-1.xml",
                                  "Signature-X-AT-1.xml"])
def test_a_signature_with_no_file_inside_opens_to_nothing(name):
    assert signed_content(name, (SIGNED / name).read_bytes()) is None


@pytest.mark.parametrize(("name", "signer"), [
    ("cades-bes-signeddata-detached.p7s", "good-user (Nowina Solutions)"),
    ("Signature-X-HU_MIC-1.xml", "Géczi Zoltán Csaba (Microsec zrt.)"),
    ("Signature-X-AT-1.xml", "Herbert Leitold"),  # the XHTML it signs is XML, not a file: only the signer
])
def test_a_detached_signature_still_names_who_signed(name, signer):
    assert signature_signers((SIGNED / name).read_bytes()) == ((signer,) if signer else ())


def test_a_file_that_is_no_signature_names_no_one():
    assert signature_signers(FORM) == () and signature_signers(b"<html>Signature</html>") == ()


@pytest.mark.parametrize(("name", "document", "content", "signer"), [
    ("onefile-ok.asice", "test.text", b"Hello World !", "good-user (Nowina Solutions)"),
    # the ID card's common name carries the personal code: the given name and surname name the signer instead
    ("Signature-A-EE_AS-19.asice", "0123456789~#%&()=`@{[]}'.txt", b"123\n", "VEIKO SINIVEE (ESTEID)"),
])
def test_the_documents_of_an_asic_container_are_taken_out_with_their_signer(name, document, content, signer):
    raw = mail_with((name, "application/vnd.etsi.asic-e+zip", (SIGNED / name).read_bytes()))
    attachments = parse_mail(raw).attachments
    assert [(a.filename, a.data, a.inside, a.signed_by) for a in attachments[1:]] == [
        (document, content, name, (signer,))]
    assert attachments[0].filename == name and attachments[0].signed_by == (signer,)
    assert "36706020210" not in repr(attachments)


@pytest.mark.parametrize(("name", "signers"), [
    ("Signature-P-HU_MIC-1.pdf", ("Géczi Zoltán Csaba",)),  # /Name in PDFDocEncoding's octal escapes
    ("Signature-P-BG_BOR-1.pdf", ("Valentin Tsvetanov Ivanov (BORICA - BANKSERVICE AD)",)),  # no /Name: the certificate
    # a personal code in /Name: the certificate's given name and surname; then a second signer
    ("annotation-and-visible-change.pdf",
     ("JAAN MURUMETS", "Adobe Sign, a Document Cloud solution (Adobe Systems Software Ireland Ltd.)")),
    # five signatures by three people, two names mangled through Windows-1250; the document timestamp signs nothing
    ("pades-5-signatures-and-1-document-timestamp.pdf", ("Peter Rybár", "Ing. Pavol Grünner", "Ivan Chrenko")),
    # an encrypted PDF's /Name is ciphertext; its signature's certificate is not
    ("encrypted.pdf", ("ČR - Český úřad zeměměřický a katastrální (ČR - Český úřad zeměměřický a katastrální "
                       "[IČ 00025712])",)),
])
def test_a_signed_pdf_names_who_signed_it(name, signers):
    assert pdf_signers((SIGNED / name).read_bytes()) == signers


def test_an_unsigned_pdf_and_a_pdf_with_a_lying_byte_range_name_no_one():
    assert pdf_signers((CORPUS / "form-a-toruń.pdf").read_bytes()) == ()
    assert pdf_signers(b"%PDF-1.7\n/ByteRange [0 99999999 99999999 5] /Contents <3082> /Name (X)") == ()
    # a /Name with no signature where its byte range points: no one signed it
    assert pdf_signers(b"%PDF-1.7\n/ByteRange [0 30 40 5] /Contents <zz> /Name (Anna Nowak)") == ()


def test_a_signed_pdf_mailed_as_a_letter_tells_staff_who_signed_it(ctx, consultation):
    pdf = (SIGNED / "Signature-P-HU_MIC-1.pdf").read_bytes()
    result = import_mail(ctx, mail_with(("pismo.pdf", "application/pdf", pdf)), received_at=now(), source="t",
                         consultation_id=consultation)
    row = mail_row(ctx, result.message_id)
    assert "'pismo.pdf' signed electronically by Géczi Zoltán Csaba (signatures are not verified" in row.reason


@pytest.mark.parametrize(("name", "signers", "text"), [
    ("hello-world-signed-twice.docx", ("Bart Hanssens (Signature)", "Bryan Brouckaert (Signature)"), "Hello world"),
    ("ms-office-2010-signed.xlsx", ("Frank Cornelis (Signature)",), None),
    ("office2007prettyPrintedRels.docx", ("Hamed (unit)",), "Sample"),
    ("open-document-signed.odt", ("good-user (Nowina Solutions)",), "Simple Text"),
])
def test_a_document_signed_in_word_excel_or_libreoffice_is_read_and_names_its_signers(name, signers, text):
    data = (SIGNED / name).read_bytes()
    assert package_signers(data) == signers
    attachment = parse_mail(mail_with((name, "application/octet-stream", data))).attachments[0]
    assert attachment.signed_by == signers and attachment.data == data
    if text is not None:
        assert text in letter_text(name.rsplit(".", 1)[-1], data)


def test_an_unsigned_package_names_no_one():
    assert package_signers(FORM) == () and package_signers(b"PK\x03\x04broken") == ()


def test_outlooks_opaque_signed_mail_is_read_as_the_mail_it_wraps():
    parsed = parse_mail((SIGNED / "outlook2003-exchange-opaque-signed.eml").read_bytes())
    # The text inside the signature, by reading it: the sender's note above Outlook's header block of the mail
    # it answers ("From: Eric Goetz … Hey, I just noticed this"), which is history
    assert parsed.body_text.startswith("I think this would be worthwhile to do on the VIPs, the Akamai monitors that")
    assert "Could I enlist your help on this over the next week or so?" in parsed.body_text
    assert parsed.body_text.rstrip().endswith("Noj")
    assert "Hey, I just noticed" not in parsed.body_text and "MIAGCSqGSIb3" not in parsed.body_text
    assert [(a.filename, a.signed_by) for a in parsed.attachments] == [("smime.p7m", ("Thawte Freemail Member",))]


def test_an_opaque_signed_mail_waits_for_staff_as_a_readable_mail_not_as_an_encrypted_one(ctx, consultation):
    raw = (SIGNED / "outlook2003-exchange-opaque-signed.eml").read_bytes()
    result = import_mail(ctx, raw, received_at=now(), source="t", consultation_id=consultation)
    assert result.status == NEEDS_REVIEW
    row = mail_row(ctx, result.message_id)
    assert "encrypt" not in row.reason and "envelope" not in row.reason
    assert "'smime.p7m' is an electronic signature by Thawte Freemail Member" in row.reason
    assert row.body_text.startswith("I think this would be worthwhile")


# -- a real form, signed as Polish signers wrap it --------------------------------------------------------------

def _certificate() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Stowarzyszenie Przyjaciół Torunia"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Anna Nowak"),
                         x509.NameAttribute(NameOID.SERIAL_NUMBER, "PNOPL-80010112345")])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(7).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=730))
                   .sign(key, hashes.SHA256()))
    return certificate, key


def _cades(data: bytes) -> bytes:
    certificate, key = _certificate()
    return (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(certificate, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))


def _xades_enveloping(data: bytes, name: str) -> bytes:
    """The shape Szafir and gov.pl's signer write: the file in a base64 ds:Object, its name in MIME headers of
    DataObjectFormat's Description, the certificate in KeyInfo (the signature value is not checked here)."""
    certificate, _key = _certificate()
    der = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    content = base64.encodebytes(data).decode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="ID-1"><ds:SignedInfo>
<ds:Reference Id="ID-ref" URI="#ID-obj"><ds:Transforms>
<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#base64"/></ds:Transforms>
<ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue>
<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
<ds:Object Id="ID-obj" MimeType="application/octet-stream">{content}</ds:Object>
<ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#"><xades:SignedProperties>
<xades:SignedDataObjectProperties><xades:DataObjectFormat ObjectReference="#ID-ref">
<xades:Description>MIME-Version: 1.0&#13;
Content-Type: {DOCX}&#13;
Content-Disposition: filename="{name}"</xades:Description><xades:MimeType>{DOCX}</xades:MimeType>
</xades:DataObjectFormat></xades:SignedDataObjectProperties></xades:SignedProperties></xades:QualifyingProperties>
</ds:Object></ds:Signature>""".encode()


def _asic(data: bytes) -> bytes:
    """An ASiC-E container as the specification lays it out: `mimetype` first and stored, the form, its CAdES
    signature in META-INF/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.etsi.asic-e+zip")
        archive.writestr("Formularz uwag.docx", data, compress_type=zipfile.ZIP_DEFLATED)
        detached = (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(*_certificate(), hashes.SHA256())
                    .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                       pkcs7.PKCS7Options.Binary]))
        archive.writestr("META-INF/signature001.p7s", detached)
    return buffer.getvalue()


def _podpis_zaufany(data: bytes) -> bytes:
    """gov.pl's signer on a file other than a PDF: ePUAP's `podpisanyPlik` document, the file in base64 with its
    name in base64 too, then the enveloped signature under the ministry's seal naming the person (and their PESEL).
    No real one is public; the shape is what three public readers of these files parse (hakiergrzonzo's
    `os:imie`/`os:nazwisko`/`nazwaPliku`, distress_radar's and a PHP voting app's XPath
    `/wnio:Dokument/wnio:TrescDokumentu/str:Zalaczniki/str:Zalacznik/str:DaneZalacznika`)."""
    name = base64.b64encode("Formularz uwag Toruń.docx".encode()).decode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<wnio:Dokument xmlns:wnio="http://epuap.gov.pl/fe-model-web/wzor_lokalny/EPUAP-----/podpisanyPlik/"
 xmlns:str="http://crd.gov.pl/xml/schematy/struktura/2009/11/16/"><wnio:TrescDokumentu><str:Zalaczniki>
<str:Zalacznik format="{DOCX}" kodowanie="base64" nazwaPliku="{name}">
<str:DaneZalacznika>{base64.encodebytes(data).decode()}</str:DaneZalacznika></str:Zalacznik></str:Zalaczniki>
</wnio:TrescDokumentu><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="ID-1">
<ds:SignedInfo><ds:Reference URI=""/></ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue>
<ds:Object><ppZP:PodpisZP xmlns:ppZP="http://crd.gov.pl/xml/schematy/ppzp/"
 xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/11/16/"><ppZP:DaneZPOsobyFizycznej>
<os:Imie>ANNA</os:Imie><os:Nazwisko>NOWAK</os:Nazwisko><os:PESEL>80010112345</os:PESEL>
</ppZP:DaneZPOsobyFizycznej></ppZP:PodpisZP></ds:Object></ds:Signature></wnio:Dokument>""".encode()


@pytest.mark.parametrize(("envelope", "media_type", "wrap"), [
    ("Formularz uwag.asice", "application/vnd.etsi.asic-e+zip", _asic),
    ("Formularz uwag.docx.p7m", "application/pkcs7-mime", _cades),
    ("Formularz uwag.docx.sig", "application/octet-stream", _cades),
    ("Formularz uwag.xades", "application/octet-stream", lambda data: _xades_enveloping(data, "Formularz uwag.docx")),
    ("Formularz uwag.docx.xml", "text/xml", lambda data: _xades_enveloping(data, "Formularz uwag.docx")),
])
def test_a_signed_form_becomes_comments_and_staff_are_told_who_signed_it(ctx, consultation, envelope, media_type,
                                                                        wrap):
    unsigned = import_mail(ctx, mail_with(("u.docx", DOCX, FORM)), received_at=now(), source="t",
                           consultation_id=consultation)
    result = import_mail(ctx, mail_with((envelope, media_type, wrap(FORM))), received_at=now(), source="t",
                         consultation_id=consultation)
    assert result.status == CREATED and unsigned.status == CREATED
    assert result.comments == unsigned.comments > 0
    row = mail_row(ctx, result.message_id)
    assert "signed electronically by Anna Nowak (Stowarzyszenie Przyjaciół Torunia)" in row.reason
    assert "not verified" in row.reason and "80010112345" not in row.reason
    stored = {a["filename"]: a for a in row.attachments}
    assert stored[envelope]["signed_by"] == ["Anna Nowak (Stowarzyszenie Przyjaciół Torunia)"]
    assert stored["Formularz uwag.docx"]["role"] == "form" and stored["Formularz uwag.docx"]["inside"] == envelope
    # review shows the reviewer who signed the file the comments came in; the unsigned form names no one
    [event] = received_events(ctx, result.reference)
    assert event["signed_by"] == ["Anna Nowak (Stowarzyszenie Przyjaciół Torunia)"]
    assert received_events(ctx, unsigned.reference)[0]["signed_by"] == []


def test_a_form_signed_with_podpis_zaufany_becomes_comments_named_for_the_person(ctx, consultation):
    unsigned = import_mail(ctx, mail_with(("u.docx", DOCX, FORM)), received_at=now(), source="t",
                           consultation_id=consultation)
    result = import_mail(ctx, mail_with(("Formularz uwag Toruń.docx.xml", "text/xml", _podpis_zaufany(FORM))),
                         received_at=now(), source="t", consultation_id=consultation)
    assert result.status == CREATED and result.comments == unsigned.comments
    row = mail_row(ctx, result.message_id)
    assert "'Formularz uwag Toruń.docx' signed electronically by ANNA NOWAK" in row.reason
    assert "80010112345" not in row.reason
    assert received_events(ctx, result.reference)[0]["signed_by"] == ["ANNA NOWAK"]


def test_a_signed_form_sent_in_a_zip_becomes_comments(ctx, consultation):
    """An NGO zips the signed form (or staff drag the NGO's mail in as .msg): the envelope among the archive's
    files is opened as one attached to the mail is."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("uwagi/Formularz uwag.docx.p7m", _cades(FORM))
        archive.writestr("uwagi/pismo przewodnie.txt", "W załączeniu podpisany formularz.")
    result = import_mail(ctx, mail_with(("uwagi.zip", "application/zip", buffer.getvalue())), received_at=now(),
                         source="t", consultation_id=consultation)
    assert result.status == CREATED and result.comments > 0
    stored = {a["filename"]: a for a in mail_row(ctx, result.message_id).attachments}
    assert stored["Formularz uwag.docx.p7m"]["inside"] == "uwagi.zip"
    assert stored["Formularz uwag.docx"]["inside"] == "Formularz uwag.docx.p7m"
    assert stored["Formularz uwag.docx"]["signed_by"] == ["Anna Nowak (Stowarzyszenie Przyjaciół Torunia)"]


def test_a_form_signed_by_two_people_in_turn_is_unwrapped_to_the_form():
    twice = _cades(_cades(FORM))
    opened = signed_content("formularz.docx.p7m.p7m", twice)
    assert opened.data == FORM and opened.filename == "formularz.docx"


def test_wrappings_beyond_the_limit_stay_wrapped():
    data = FORM
    for _ in range(MAX_WRAPPINGS + 2):
        data = _cades(data)
    opened = signed_content("f.docx" + ".p7m" * (MAX_WRAPPINGS + 2), data)
    assert opened is not None and opened.data != FORM  # the limit's worth opened, no further


@pytest.mark.parametrize("hostile", [
    b"\x30\x82\xff\xff\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02",  # SignedData cut short
    b"\x30\x80" * 50_000 + b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02",  # indefinite lengths nested deep
    b"-----BEGIN PKCS7-----\n!!!not base64!!!\n-----END PKCS7-----\n",
    b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object Encoding="http://www.w3.org/2000/'
    b'09/xmldsig#base64">&b;</ds:Object></ds:Signature>',
    b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object Encoding="http://www.w3.org/2000/'
    b'09/xmldsig#base64">@@@@</ds:Object>',
])
def test_a_broken_or_hostile_envelope_opens_to_nothing_and_the_mail_is_still_read(ctx, consultation, hostile):
    assert signed_content("f.docx.p7m", hostile) is None
    result = import_mail(ctx, mail_with(("f.docx.p7m", "application/pkcs7-mime", hostile)), received_at=now(),
                         source="t", consultation_id=consultation)
    assert result.status == NEEDS_REVIEW  # kept for staff, with the mail's text; never a crash


def test_podpis_zaufany_of_a_large_file_is_known_though_its_signature_comes_megabytes_later():
    large = b"%PDF-1.7\n" + bytes(range(256)) * 8192  # 2 MB: the signature starts far beyond the first 64 KB
    opened = signed_content("skan.pdf.xml", _podpis_zaufany(large))
    assert opened.data == large and opened.signers == ("ANNA NOWAK",)


def test_a_pdf_claiming_endless_signatures_is_read_only_as_far_as_the_limit(monkeypatch):
    from services.intake.mail import signed

    looked_at = []
    monkeypatch.setattr(signed, "_open_cms", lambda der: looked_at.append(len(der)))  # counts, opens nothing
    claim = b"/ByteRange [0 9 2097000 5] /Contents <30> /Name (X)\n"
    hostile = b"%PDF-1.7\n" + b"0" * 2_097_152 + claim * 100_000
    assert pdf_signers(hostile) == ()
    assert len(looked_at) == signed.MAX_PDF_SIGNATURES  # 20 gaps of 2 MB looked at, not 100,000
