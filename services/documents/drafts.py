"""Documents and their versions: upload a draft, anchor comments, build versions from approved decisions.

Only the source DOCX and each version's changes are stored; a version is rebuilt
by replaying `apply_changes` from the parsed source (the engine is
deterministic), and the results are cached in-process. Every version's clean and
tracked-changes DOCX is stored as an artifact when the version is made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from services.common.db import utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, DomainError, Invalid, NotFound
from services.documents import builds
from services.documents.builds import DOCX
from services.documents.engine import (Change, ChangeError, DocumentRejected, EngineError, Unit, Version,
                                       apply_changes, changes_from_json, check_docx, diff_versions, parse_docx,
                                       render_clean, render_tracked, resolve_anchor)
from services.documents.models import (Artifact, CommentAnchor, CommentView, Document, DocumentVersion,
                                       VersionBuild)

log = logging.getLogger(__name__)

BUILD_TASK = "build_version"
VERSION_CACHE = "document_versions"
# Comments are made on the draft put out for consultation; they are anchored there once,
# and unit ids carry over to later versions.
CONSULTED_VERSION = 1
DEFAULT_APPROVER = "Prezydent Miasta"
APPLICABLE_DECISIONS = ("accepted", "partially_accepted")
FILE_KINDS = ("source", "clean", "tracked")
# The clean DOCX of the consulted draft is public once announced (see publishing.public_file), under this name.
DRAFT_PUBLIC_NAME = "projekt-do-konsultacji.docx"


class EngineRefused(DomainError):
    """The engine refused a file or a change set: its code and both messages, Polish first."""

    def __init__(self, exc: EngineError):
        self.status = 409 if exc.code == "conflict" else 422
        super().__init__(exc.message_pl, details=exc.to_dict())
        self.code = exc.code


class VersionCache:
    """Parsed versions by (document id, number); versions are immutable, so entries never go stale."""

    def __init__(self, size: int = 32):
        self._items: OrderedDict[tuple[str, int], Version] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> Version | None:
        with self._lock:
            version = self._items.get(key)
            if version is not None:
                self._items.move_to_end(key)
            return version

    def put(self, key: tuple[str, int], version: Version) -> None:
        with self._lock:
            self._items[key] = version
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def _cache(ctx: ServiceContext) -> VersionCache:
    return ctx.extras.setdefault(VERSION_CACHE, VersionCache())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def comment_ref(comment: CommentView) -> str:
    return f"{comment.reference}#{comment.number}"


# --- upload -------------------------------------------------------------------------------


def upload_document(ctx: ServiceContext, data: bytes, *, title: str, filename: str | None,
                    consultation_id: str | None, actor: str, publish: bool = True) -> Document:
    """Check and parse a draft, store it, and create version 1; announce it at once unless `publish` is false.

    A draft kept back (the console's way) is announced by `publish_document` once a
    coordinator has seen its parsed units and warnings.
    """
    try:
        check_docx(data, max_bytes=ctx.settings.max_upload_bytes, filename=filename)
        version = parse_docx(data)
    except EngineError as exc:
        raise EngineRefused(exc) from None
    except Exception:  # the file passed the safety checks but the parser choked: still the file's fault
        log.exception("parsing an uploaded draft failed")
        raise EngineRefused(DocumentRejected(
            "unreadable", "The document could not be read.", "Nie udało się odczytać dokumentu.")) from None
    document_id = str(uuid.uuid4())
    digest = sha256(data)
    source = builds.store_artifact(
        ctx, f"documents/{document_id}/source-{digest[:16]}.docx", data, DOCX, kind="source",
        inputs={"filename": filename or "", "uploaded_by": actor}, document_id=document_id)
    clean = render_clean(version)
    clean_artifact = builds.store_artifact(
        ctx, f"documents/{document_id}/v1/{sha256(clean)[:16]}-clean.docx", clean, DOCX, kind="clean",
        inputs={"source_sha256": digest, "version": 1}, document_id=document_id)
    warnings = [str(w) for w in getattr(version, "warnings", ())]
    warnings_pl = [getattr(w, "pl", str(w)) for w in getattr(version, "warnings", ())]
    with ctx.transaction() as session:
        if publish:
            _refuse_second_document(session, consultation_id)
        document = Document(id=document_id, consultation_id=consultation_id, title=title,
                            filename=(filename or "")[:255], current_version=1, created_by=actor, created_at=utcnow(),
                            parse_warnings=warnings, parse_warnings_pl=warnings_pl)
        session.add(document)
        session.flush()
        row = DocumentVersion(id=str(uuid.uuid4()), document_id=document_id, number=1, parent_number=None,
                              changes=[], comment_refs=[], unit_count=len(version.units), created_at=utcnow())
        session.add(row)
        session.flush()
        for artifact in (source, clean_artifact):
            artifact.document_version_id = row.id
            session.add(artifact)
        if publish:
            document.published_at, document.published_by = utcnow(), actor
            _announce(ctx, session, document, row, version, clean_artifact)
    _cache(ctx).put((document_id, 1), version)
    return document


def publish_document(ctx: ServiceContext, document_id: str, *, actor: str) -> Document:
    """Announce a draft's version 1 (`document.version_created`); publishing twice changes nothing."""
    with ctx.transaction() as session:
        document = session.get(Document, document_id, with_for_update=True)
        if document is None:
            raise NotFound("nie ma takiego dokumentu (no such document)")
        if document.published_at is not None:
            return document
        _refuse_second_document(session, document.consultation_id)
        row = session.scalar(select(DocumentVersion).options(selectinload(DocumentVersion.artifacts))
                             .where(DocumentVersion.document_id == document_id, DocumentVersion.number == 1))
        clean = next((a for a in row.artifacts if a.kind == "clean"), None)
        document.published_at, document.published_by = utcnow(), actor
        _announce(ctx, session, document, row, load_version(ctx, document_id, 1), clean)
    return document


def discard_draft(ctx: ServiceContext, document_id: str, *, actor: str) -> None:
    """Remove a draft that was never published (a wrong file, say). Its stored objects stay, unreferenced:
    objects are content-addressed and never deleted by the service."""
    with ctx.transaction() as session:
        document = session.get(Document, document_id, with_for_update=True)
        if document is None:
            raise NotFound("nie ma takiego dokumentu (no such document)")
        if document.published_at is not None:
            raise Conflict("Opublikowanego dokumentu nie można usunąć. (A published document cannot be discarded.)")
        version_ids = list(session.scalars(select(DocumentVersion.id).where(DocumentVersion.document_id == document_id)))
        for artifact in session.scalars(select(Artifact).where(Artifact.document_id == document_id)):
            session.delete(artifact)
        session.flush()
        for version in session.scalars(select(DocumentVersion).where(DocumentVersion.id.in_(version_ids))):
            session.delete(version)
        session.flush()
        session.delete(document)
    log.info("draft %s (%s) discarded by %s", document_id, document.title, actor)


def _refuse_second_document(session: Session, consultation_id: str | None) -> None:
    """A consultation has one published document; its later versions come from decisions, not uploads."""
    if consultation_id and consultation_document(session, consultation_id) is not None:
        raise Conflict("Ta konsultacja ma już opublikowany dokument; kolejne wersje powstają z rozstrzygnięć. "
                       "(This consultation already has a published document; its next versions come from decisions.)")


def require_published(document: Document) -> None:
    if document.published_at is None:
        raise Conflict("Projekt nie został jeszcze opublikowany. (Publish the draft first.)")


def draft_public_url(ctx: ServiceContext, artifact: Artifact) -> str:
    return f"{ctx.settings.public_url}/documents/files/{artifact.id}/{DRAFT_PUBLIC_NAME}"


def _announce(ctx: ServiceContext, session: Session, document: Document, row: DocumentVersion, version: Version,
              clean: Artifact | None) -> None:
    ctx.emit(session, "document.version_created", {
        "document_id": document.id, "version": row.number, "consultation_id": document.consultation_id,
        "title": document.title, "sha256": clean.sha256 if clean else "", "parent_version": row.parent_number,
        # Added (additively) for the consultation page: residents download the draft here without a token.
        # Only the consulted draft is public before the results are published.
        **({"clean_url": draft_public_url(ctx, clean)} if clean and row.number == CONSULTED_VERSION else {}),
        "comment_refs": list(row.comment_refs),
        # `parent` and `text` were added to the units (additively) for review's comment pages.
        "units": [unit.to_json() for unit in version.units],
    })


# --- reading ------------------------------------------------------------------------------


def list_documents(ctx: ServiceContext, consultation_id: str | None = None) -> list[Document]:
    with ctx.db.transaction() as session:
        query = select(Document).order_by(Document.created_at.desc())
        if consultation_id:
            query = query.where(Document.consultation_id == consultation_id)
        return list(session.scalars(query))


def get_document(ctx: ServiceContext, document_id: str) -> Document:
    return builds.fetch(ctx, Document, document_id, "nie ma takiego dokumentu (no such document)")


def consultation_document(session: Session, consultation_id: str) -> Document | None:
    """The consultation's document: the published one (drafts kept back do not count)."""
    return session.scalar(select(Document).where(Document.consultation_id == consultation_id,
                                                 Document.published_at.is_not(None))
                          .order_by(Document.published_at.desc()).limit(1))


def list_versions(ctx: ServiceContext, document_id: str) -> list[DocumentVersion]:
    get_document(ctx, document_id)
    with ctx.db.transaction() as session:
        return list(session.scalars(select(DocumentVersion).options(selectinload(DocumentVersion.artifacts))
                                    .where(DocumentVersion.document_id == document_id)
                                    .order_by(DocumentVersion.number)))


def _version_number(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound("nie ma takiej wersji (no such version)") from None
    if number < 1:
        raise NotFound("nie ma takiej wersji (no such version)")
    return number


def version_units(ctx: ServiceContext, document_id: str, number: Any) -> list[dict]:
    return [unit.to_json() for unit in load_version(ctx, document_id, _version_number(number)).units]


def version_diff(ctx: ServiceContext, document_id: str, old: Any, new: Any) -> list[dict]:
    old_number, new_number = _version_number(old), _version_number(new)
    if old_number > new_number:
        raise Invalid("podaj najpierw starszą wersję (the older version comes first)")
    return diff_versions(load_version(ctx, document_id, old_number), load_version(ctx, document_id, new_number))


def version_file(ctx: ServiceContext, document_id: str, number: Any, kind: str) -> tuple[Artifact, bytes]:
    number = _version_number(number)
    if kind not in FILE_KINDS:
        raise NotFound(f"nie ma takiego pliku (no such file; use one of {', '.join(FILE_KINDS)})")
    with ctx.db.transaction() as session:
        artifact = session.scalar(select(Artifact).join(DocumentVersion, Artifact.document_version_id == DocumentVersion.id)
                                  .where(DocumentVersion.document_id == document_id, DocumentVersion.number == number,
                                         Artifact.kind == kind))
    if artifact is None:
        raise NotFound("ta wersja nie ma takiego pliku (this version has no such file)")
    return artifact, builds.artifact_content(ctx, artifact)


def load_version(ctx: ServiceContext, document_id: str, number: int) -> Version:
    """A version as an engine object: from the cache, else replayed from the nearest cached ancestor."""
    cache = _cache(ctx)
    hit = cache.get((document_id, number))
    if hit is not None:
        return hit
    with ctx.db.transaction() as session:
        rows = list(session.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id == document_id, DocumentVersion.number <= number)
            .order_by(DocumentVersion.number)))
        source = session.scalar(select(Artifact).where(Artifact.document_id == document_id, Artifact.kind == "source"))
    if not rows or rows[-1].number != number or source is None:
        raise NotFound("nie ma takiej wersji (no such version)")
    version, start = None, 0
    for position in range(len(rows) - 1, -1, -1):
        version = cache.get((document_id, rows[position].number))
        if version is not None:
            start = position + 1
            break
    if version is None:
        version, start = parse_docx(builds.artifact_content(ctx, source)), 1
        cache.put((document_id, 1), version)
    for row in rows[start:]:
        version = apply_changes(version, changes_from_json(row.changes), approved_by=row.approved_by or "",
                                approved_at=row.approved_at or row.created_at)
        cache.put((document_id, row.number), version)
    return version


# --- anchoring ----------------------------------------------------------------------------


def chapter_of(unit: Unit | None, index: dict[str, Unit]) -> str | None:
    while unit is not None:
        if unit.kind == "chapter":
            return unit.label
        unit = index.get(unit.parent) if unit.parent else None
    return None


def anchors_for(ctx: ServiceContext, document_id: str, comments: Sequence[CommentView]) -> dict[str, CommentAnchor]:
    """Each comment's anchor in the consulted version, computed once and kept."""
    with ctx.db.transaction() as session:
        known = {anchor.comment_id: anchor for anchor in session.scalars(
            select(CommentAnchor).where(CommentAnchor.document_id == document_id))}
    missing = [comment for comment in comments if comment.id not in known]
    if not missing:
        return known
    consulted = load_version(ctx, document_id, CONSULTED_VERSION)
    index = consulted.index()
    fresh = []
    for comment in missing:
        result = resolve_anchor(consulted, comment.section or "", (comment.current_text or "").strip() or None)
        fresh.append(CommentAnchor(
            comment_id=comment.id, document_id=document_id, version=CONSULTED_VERSION,
            unit_id=result.unit.id if result.unit else None, label=result.unit.label if result.unit else None,
            chapter=chapter_of(result.unit, index), confidence=round(result.confidence, 3),
            candidates=[candidate.to_json() for candidate in result.candidates]))
    try:
        with ctx.db.transaction() as session:
            session.add_all(fresh)
    except IntegrityError:  # another worker anchored them first; the same inputs give the same anchors
        log.debug("anchors of %s were stored concurrently", document_id)
    known.update({anchor.comment_id: anchor for anchor in fresh})
    return known


def changes_from_decisions(ctx: ServiceContext, document_id: str, parent: Version,
                           comments: Sequence[CommentView]) -> tuple[list[Change], list[dict]]:
    """A `replace` per anchored approved comment, and the comments that could not be placed."""
    anchors = anchors_for(ctx, document_id, comments)
    present = parent.index()
    changes, unanchored = [], []
    for comment in comments:
        anchor = anchors[comment.id]
        if anchor.unit_id is not None and anchor.unit_id in present:
            changes.append(Change(unit=anchor.unit_id, op="replace", text=(comment.final_text or "").strip(),
                                  comment_refs=(comment_ref(comment),)))
            continue
        unanchored.append({
            "comment_id": comment.id, "ref": comment_ref(comment), "section": comment.section,
            "reason": "unit_removed" if anchor.unit_id else "not_anchored", "candidates": list(anchor.candidates),
            "final_text": comment.final_text,
        })
    return changes, unanchored


# --- building the next version ----------------------------------------------------------------


def _approved_comments(session: Session, document: Document) -> list[CommentView]:
    if not document.consultation_id:
        return []
    applied = {ref for refs in session.scalars(select(DocumentVersion.comment_refs).where(
        DocumentVersion.document_id == document.id)) for ref in refs or ()}
    comments = session.scalars(select(CommentView).where(
        CommentView.consultation_id == document.consultation_id,
        CommentView.decision.in_(APPLICABLE_DECISIONS), CommentView.final_text.is_not(None))
        .order_by(CommentView.received_at, CommentView.reference, CommentView.number))
    return [comment for comment in comments
            if (comment.final_text or "").strip() and comment_ref(comment) not in applied]


def request_version(ctx: ServiceContext, document_id: str, *, explicit: list | None, actor: str,
                    approved_by: str | None = None, approved_at: datetime | None = None) -> VersionBuild:
    """Check the next version's changes now (409 on a conflict) and leave rendering to a Celery task."""
    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NotFound("nie ma takiego dokumentu (no such document)")
        require_published(document)
        if session.scalar(select(VersionBuild.id).where(VersionBuild.document_id == document_id,
                                                        VersionBuild.state.in_(("pending", "running")))):
            raise Conflict("Poprzednia wersja jest jeszcze budowana; poczekaj na jej zakończenie. "
                           "(The previous version is still being built.)")
        comments = _approved_comments(session, document)
    parent = load_version(ctx, document_id, document.current_version)
    try:
        explicit_changes = changes_from_json(explicit) if explicit is not None else []
    except ChangeError as exc:
        raise EngineRefused(exc) from None
    derived, unanchored = changes_from_decisions(ctx, document_id, parent, comments)
    # A coordinator's explicit change for a comment replaces the change derived from its decision.
    named = {ref for change in explicit_changes for ref in change.comment_refs}
    changes = [change for change in derived if not named & set(change.comment_refs)] + explicit_changes
    if not changes:
        raise NoChanges(unanchored)
    approved_by = approved_by or DEFAULT_APPROVER
    approved_at = (approved_at or utcnow()).replace(microsecond=0)
    try:
        apply_changes(parent, changes, approved_by=approved_by, approved_at=approved_at)
    except ChangeError as exc:
        raise EngineRefused(exc) from None
    build = VersionBuild(id=str(uuid.uuid4()), document_id=document_id, state="pending", progress=0,
                         parent_number=parent.number, number=parent.number + 1,
                         changes=[change.to_json() for change in changes], unanchored=unanchored,
                         approved_by=approved_by, approved_at=approved_at, requested_by=actor, created_at=utcnow())
    with ctx.transaction() as session:
        session.add(build)
    ctx.enqueue(BUILD_TASK, build.id)
    return build


class NoChanges(Invalid):
    code = "no_changes"

    def __init__(self, unanchored: list[dict]):
        super().__init__("Brak zatwierdzonych zmian do wprowadzenia w nowej wersji. "
                         "(No approved changes to apply.)", details={"unanchored": unanchored})


def list_version_builds(ctx: ServiceContext, document_id: str) -> list[VersionBuild]:
    get_document(ctx, document_id)
    with ctx.db.transaction() as session:
        return list(session.scalars(select(VersionBuild).where(VersionBuild.document_id == document_id)
                                    .order_by(VersionBuild.created_at.desc())))


def get_version_build(ctx: ServiceContext, document_id: str, build_id: str) -> VersionBuild:
    build = builds.fetch(ctx, VersionBuild, build_id, "nie ma takiego budowania wersji (no such version build)")
    if build.document_id != document_id:
        raise NotFound("nie ma takiego budowania wersji (no such version build)")
    return build


def run_version_build(ctx: ServiceContext, build_id: str) -> None:
    """The body of the `documents.build_version` task; safe to run twice for one build, also at once."""
    with builds.claimed(ctx, VersionBuild, build_id) as build:
        if build is not None:
            _build_version(ctx, build)


def _build_version(ctx: ServiceContext, build: VersionBuild) -> None:
    build_id = build.id
    parent = load_version(ctx, build.document_id, build.parent_number)
    try:
        version = apply_changes(parent, changes_from_json(build.changes), approved_by=build.approved_by,
                                approved_at=build.approved_at)
    except ChangeError as exc:  # permanent for these inputs
        builds.mark_failed(ctx, VersionBuild, build_id, f"{exc.code}: {exc.message_pl}")
        return
    builds.set_progress(ctx, VersionBuild, build_id, 30)
    clean = render_clean(version)
    builds.set_progress(ctx, VersionBuild, build_id, 55)
    tracked = render_tracked(parent, version)
    builds.set_progress(ctx, VersionBuild, build_id, 80)
    inputs = {"parent_version": build.parent_number, "approved_by": build.approved_by,
              "approved_at": build.approved_at.isoformat(),
              "changes_sha256": sha256(json.dumps(build.changes, sort_keys=True, ensure_ascii=False).encode())}
    prefix = f"documents/{build.document_id}/v{version.number}"
    stored = [builds.store_artifact(ctx, f"{prefix}/{sha256(content)[:16]}-{kind}.docx", content, DOCX, kind=kind,
                                    inputs=inputs, document_id=build.document_id)
              for kind, content in (("clean", clean), ("tracked", tracked))]
    try:
        _record_version(ctx, build, version, stored)
    except IntegrityError:
        _settle_taken_number(ctx, build)
        return
    _cache(ctx).put((build.document_id, version.number), version)


def _record_version(ctx: ServiceContext, build: VersionBuild, version: Version, stored: Iterable[Artifact]) -> None:
    refs = sorted({ref for change in build.changes for ref in change.get("comment_refs", ())})
    with ctx.transaction() as session:
        document = session.get(Document, build.document_id)
        row = DocumentVersion(id=str(uuid.uuid4()), document_id=document.id, number=version.number,
                              parent_number=build.parent_number, changes=build.changes, comment_refs=refs,
                              approved_by=build.approved_by, approved_at=build.approved_at, build_id=build.id,
                              unit_count=len(version.units), created_at=utcnow())
        session.add(row)
        session.flush()
        clean = None
        for artifact in stored:
            artifact.document_version_id = row.id
            session.add(artifact)
            clean = artifact if artifact.kind == "clean" else clean
        document.current_version = max(document.current_version, version.number)
        builds.mark_done(session.get(VersionBuild, build.id))
        _announce(ctx, session, document, row, version, clean)


def _settle_taken_number(ctx: ServiceContext, build: VersionBuild) -> None:
    """The version number exists already: made by this build on an earlier run, or by another one."""
    with ctx.db.transaction() as session:
        existing = session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == build.document_id,
                                                                DocumentVersion.number == build.number))
        if existing is not None and existing.build_id == build.id:
            builds.mark_done(session.get(VersionBuild, build.id))
            return
    builds.mark_failed(ctx, VersionBuild, build.id,
                       f"Wersja {build.number} już istnieje (version {build.number} exists already).")


requeue_stalled_version_builds = builds.requeue_stalled(BUILD_TASK, VersionBuild)
