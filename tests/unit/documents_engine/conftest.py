"""Fixtures that build real DOCX files for the engine tests (nothing is read from disk)."""

from __future__ import annotations

import pytest

from services.documents.engine.demo_draft import make_demo_draft


@pytest.fixture(scope="session")
def auto_draft() -> bytes:
    """The demo draft numbered by Word lists (numbering.xml, restarts, three levels)."""
    return make_demo_draft("auto")


@pytest.fixture(scope="session")
def typed_draft() -> bytes:
    """The same draft with every number typed by hand."""
    return make_demo_draft("typed")


@pytest.fixture(scope="session")
def parsed_draft(auto_draft):
    from services.documents.engine.parse import parse_docx

    return parse_docx(auto_draft)


@pytest.fixture()
def write_file(tmp_path):
    def write(name: str, data: bytes | str) -> str:
        path = tmp_path / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return str(path)

    return write
