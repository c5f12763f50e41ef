"""The published table of comments as a web page: every comment with the City's position, without opening Word.

The report is published as DOCX, XLSX and CSV. A resident on a phone, someone using a screen reader, or an NGO
looking for its own comment among hundreds wants it on the page, searchable. The page reads the published CSV,
the very file anyone can download, so it shows exactly what was published (the same privacy, the same wording),
never what the read model says since; a later publication replaces it.

`parse_table` and `select_rows` are pure; `published_table` reads the latest publication's CSV (parsed once per
process and file: published files never change under their id).
"""

from __future__ import annotations

import csv
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from services.common.runtime import ServiceContext
from services.common.spreadsheets import spreadsheet_unsafe
from services.common.web import NotFound
from services.documents import builds, publishing
from services.documents.models import Artifact, ConsultationView, Publication, PublishedFile

# The published CSV's columns (engine.report's export_columns), by position.
NUMBER, REFERENCE, SUBMITTER, PART, CHAPTER, CURRENT, PROPOSAL, JUSTIFICATION, CHANNEL, TOPIC, DECISION, POSITION, \
    ADOPTED = range(13)
COLUMNS = 13
PER_PAGE = 50


@dataclass(frozen=True)
class PublishedTable:
    consultation_id: str
    title: str
    published_at: datetime
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    csv_url: str

    @property
    def language(self) -> str:
        """The report's language, which its header is written in."""
        return "pl" if self.header[:1] == ("Lp.",) else "en"


def parse_table(data: bytes) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Pure: the header and rows of a published CSV (UTF-8 with BOM); a short row is padded, a long one cut."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = tuple(next(reader, ()))
    rows = tuple(tuple(spreadsheet_unsafe(cell) for cell in (row + [""] * COLUMNS)[:COLUMNS]) for row in reader if row)
    return header, rows


def select_rows(rows: tuple[tuple[str, ...], ...], *, query: str = "", decision: str = "") -> list[tuple[str, ...]]:
    """Pure: the rows whose text holds every word of `query` (any case) and, if given, with that decision."""
    words = query.casefold().split()
    found = []
    for row in rows:
        if decision and row[DECISION] != decision:
            continue
        text = " ".join(row).casefold()
        if all(word in text for word in words):
            found.append(row)
    return found


_CACHE_SIZE = 8
_cache: OrderedDict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = OrderedDict()
_cache_lock = threading.Lock()


def _parsed(ctx: ServiceContext, artifact: Artifact) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    with _cache_lock:
        if artifact.id in _cache:
            _cache.move_to_end(artifact.id)
            return _cache[artifact.id]
    parsed = parse_table(builds.artifact_content(ctx, artifact))
    with _cache_lock:
        _cache[artifact.id] = parsed
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return parsed


def published_table(ctx: ServiceContext, consultation_id: str) -> PublishedTable:
    """The latest publication's table of comments; NotFound before results are published."""
    with ctx.db.transaction() as session:
        found = session.execute(
            select(Publication, Artifact, ConsultationView)
            .join(PublishedFile, PublishedFile.publication_id == Publication.id)
            .join(Artifact, Artifact.id == PublishedFile.artifact_id)
            .join(ConsultationView, ConsultationView.id == Publication.consultation_id)
            .where(Publication.consultation_id == consultation_id, PublishedFile.kind == "report_csv")
            .order_by(Publication.published_at.desc()).limit(1)).first()
    if found is None:
        raise NotFound("wyniki tych konsultacji nie zostały jeszcze opublikowane "
                       "(the results of this consultation are not published yet)")
    publication, artifact, consultation = found
    header, rows = _parsed(ctx, artifact)
    return PublishedTable(consultation_id, consultation.title, publication.published_at, header, rows,
                          publishing.public_url(ctx, artifact.id, "report_csv"))
