"""A file inserted into a Rich Text mail as an object: the Packager's native stream, and the lies it may tell.

The whole path (a real Outlook stream, its OLE storage, the PDF inside) is in test_tnef.py; here the native
stream's own layout, written as oletools' OleNativeStream reads it, with the names a Polish Windows gives.
"""

from __future__ import annotations

import struct

import pytest

from services.intake.mail.ole_package import file_in_storage, package_file

FORM = b"PK\x03\x04 the form's bytes"


def _native(label: bytes, source: bytes, temp: bytes, data: bytes, *, unicode_label: str | None = None,
            declared: int | None = None) -> bytes:
    body = (struct.pack("<H", 2) + label + b"\0" + source + b"\0" + struct.pack("<II", 0x00030000, len(temp) + 1)
            + temp + b"\0" + struct.pack("<I", len(data)) + data)
    if unicode_label is not None:
        body += (struct.pack("<I", len(temp)) + temp.decode("ascii").encode("utf-16-le")
                 + struct.pack("<I", len(unicode_label)) + unicode_label.encode("utf-16-le"))
    return struct.pack("<I", len(body) if declared is None else declared) + body


def test_the_label_in_the_windows_code_page_names_the_file():
    native = _native("Formularz uwag – Toruń.docx".encode("cp1250"), b"C:\\Users\\Anna\\Pulpit\\formularz.docx",
                     b"C:\\Users\\Anna\\AppData\\Local\\Temp\\FORMUL~1.DOC", FORM)
    assert package_file(native, "cp1250") == ("Formularz uwag – Toruń.docx", FORM)


def test_the_newer_packagers_utf16_label_wins_over_the_code_page_guess():
    native = _native(b"Formularz uwag - Torun.docx", b"C:\\x.docx", b"C:\\Temp\\X.DOC", FORM,
                     unicode_label="Formularz uwag – Toruń.docx")
    assert package_file(native) == ("Formularz uwag – Toruń.docx", FORM)


def test_a_path_as_the_label_gives_its_last_part():
    native = _native(b"C:\\Users\\Anna\\uwagi.pdf", b"", b"", b"%PDF-1.7 ...")
    assert package_file(native) == ("uwagi.pdf", b"%PDF-1.7 ...")


@pytest.mark.parametrize("native", [
    b"",
    struct.pack("<IH", 10, 3) + b"not a package",  # another kind of native data
    _native(b"empty.docx", b"", b"", b""),  # a linked file: no bytes
    _native(b"", b"", b"", FORM),  # no name at all
    _native(b"x.docx", b"", b"", FORM)[:-5],  # cut off inside the data
    _native(b"x.docx", b"", b"", FORM, declared=20),  # the size says less than the data needs
    struct.pack("<IH", 99, 2) + b"x" * 5000,  # a label with no end
])
def test_a_stream_that_lies_or_holds_no_file_gives_none(native):
    assert package_file(native) is None


def test_a_storage_that_is_not_a_compound_file_gives_none():
    assert file_in_storage(b"not a compound file") is None
    assert file_in_storage(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600) is None  # damaged: olefile refuses it
