"""The Polish catalog covers every message of the pages, and the committed .mo matches its .po."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from services.intake import web_ui

INTAKE = Path(web_ui.__file__).resolve().parent
PL_PO = web_ui.TRANSLATIONS_DIR / "pl" / "LC_MESSAGES" / "messages.po"


def _extracted() -> set[str]:
    method_map = [("**/views.py", "python"), ("**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(INTAKE), method_map, keywords=keywords):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_of_the_pages_has_a_polish_translation():
    catalog = read_po(io.BytesIO(PL_PO.read_bytes()), locale="pl")
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog
                  if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])}
    missing = sorted(_extracted() - translated)
    assert not missing, f"add these to {PL_PO} and recompile: {missing}"


def test_the_committed_mo_file_is_compiled_from_the_po_file():
    catalog = read_po(io.BytesIO(PL_PO.read_bytes()), locale="pl")
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert PL_PO.with_suffix(".mo").read_bytes() == compiled.getvalue(), \
        "run: python -c 'from services.intake.web_ui import ensure_compiled_catalogs as c; c(force=True)'"
