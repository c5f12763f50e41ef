"""Every message on every page has a Polish translation, and the merged catalogs compile as written."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.common import ui

SERVICES_DIR = ui.COMMON_DIR.parent
PACKAGES = ["common", "intake", "review", "documents", "notify"]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "lazy_gettext": None}
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _translations_dir(package: str) -> Path:
    return SERVICES_DIR / package / "translations"


def _extracted(package: str) -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(SERVICES_DIR / package), METHOD_MAP, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _translated(*directories: Path) -> set[str]:
    merged = set()
    for po_path in ui.catalog_sources(*directories).get("pl", []):
        for message in read_po(io.BytesIO(po_path.read_bytes()), locale="pl"):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and all(strings):
                merged.update(ids[:1])
    return merged


@pytest.mark.parametrize("package", PACKAGES)
def test_every_message_of_the_package_has_a_polish_translation(package):
    """Messages of a service may be translated in its own catalogs or in the shared ones."""
    directories = [ui.COMMON_TRANSLATIONS] + ([_translations_dir(package)] if package != "common" else [])
    missing = sorted(_extracted(package) - _translated(*directories))
    assert not missing, f"add Polish translations for these to a .po under {directories[-1]}: {missing}"


def test_merged_catalogs_compile_to_what_the_po_files_say(tmp_path):
    root = ui.compiled_catalogs(ui.COMMON_TRANSLATIONS, _translations_dir("intake"), cache_root=tmp_path)
    translations = gettext.GNUTranslations((root / "pl" / "LC_MESSAGES" / "messages.mo").open("rb"))
    assert translations.gettext("Log out") == "Wyloguj się"  # from the shared catalog
    assert translations.gettext("Skip to main content") == "Przejdź do treści"  # the service's own catalog wins


def test_a_changed_po_file_compiles_into_a_new_folder(tmp_path):
    source = tmp_path / "src" / "pl" / "LC_MESSAGES"
    source.mkdir(parents=True)
    po = source / "a.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: pl\\n"\n\nmsgid "Yes"\nmsgstr "Tak"\n', encoding="utf-8")
    first = ui.compiled_catalogs(tmp_path / "src", cache_root=tmp_path / "cache")
    po.write_text('msgid ""\nmsgstr ""\n"Language: pl\\n"\n\nmsgid "Yes"\nmsgstr "Owszem"\n', encoding="utf-8")
    second = ui.compiled_catalogs(tmp_path / "src", cache_root=tmp_path / "cache")
    assert first != second
    assert gettext.GNUTranslations((second / "pl/LC_MESSAGES/messages.mo").open("rb")).gettext("Yes") == "Owszem"
