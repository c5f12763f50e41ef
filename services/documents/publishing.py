"""Publishing a consultation's results: the report and the new version of the document become public.

A build only makes files; publishing is the coordinator's separate, deliberate
step. It records which artifacts are public (anyone may then download them,
without a token, from documents itself) and announces `report.published`, which
intake turns into the public results page and notify into the outcome e-mails.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, NotFound
from services.documents import builds, drafts
from services.documents.models import (Artifact, ConsultationView, Document, DocumentVersion, Publication,
                                       PublishedFile, ReportBuild, SubmissionConsent)

# Public file names, Polish as the city publishes them.
PUBLIC_NAMES = {
    "report_docx": "raport-z-konsultacji.docx",
    "report_xlsx": "raport-z-konsultacji.xlsx",
    "report_csv": "raport-z-konsultacji.csv",
    "version_clean": "dokument-po-konsultacjach.docx",
    "version_tracked": "dokument-po-konsultacjach-ze-zmianami.docx",
}


class PublishRefused(Conflict):
    code = "publish_refused"


def publish_blockers(*, review_completed: bool, build_state: str, internal: bool, working_draft: bool) -> list[str]:
    """Pure: a report is published only when it is a finished, public edition built after the review was completed."""
    reasons = []
    if not review_completed:
        reasons.append("review_not_completed")
    if build_state != "done":
        reasons.append("build_not_done")
    if internal:
        reasons.append("internal_edition")
    if working_draft:
        reasons.append("working_draft")
    return reasons


REFUSALS = {
    "review_not_completed": "Rozpatrywanie uwag nie zostało zakończone. (The review is not completed.)",
    "build_not_done": "Raport nie jest jeszcze zbudowany. (The report is not built yet.)",
    "internal_edition": "Wersji wewnętrznej raportu nie publikuje się. (The internal edition is never published.)",
    "working_draft": "To wersja robocza, zbudowana przed zakończeniem rozpatrywania uwag; zbuduj raport ponownie. "
                     "(A working draft built before the review was completed; build the report again.)",
}


def public_url(ctx: ServiceContext, artifact_id: str, kind: str) -> str:
    return f"{ctx.settings.public_url}/documents/files/{artifact_id}/{PUBLIC_NAMES[kind]}"


def _version_files(session: Session, document_id: str, number: int) -> list[tuple[str, Artifact]]:
    version = session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == document_id,
                                                           DocumentVersion.number == number))
    if version is None:
        return []
    return [(f"version_{a.kind}", a) for a in version.artifacts if a.kind in ("clean", "tracked")]


def publish(ctx: ServiceContext, consultation_id: str, report_build_id: str, *, actor: str) -> Publication:
    """Make the report build (and the document's newest version, if one was built) public; emit `report.published`."""
    now = utcnow()
    with ctx.transaction() as session:
        consultation = session.get(ConsultationView, consultation_id)
        if consultation is None:
            raise NotFound("nie ma takich konsultacji (no such consultation)")
        build = session.get(ReportBuild, report_build_id)
        if build is None or build.consultation_id != consultation_id:
            raise NotFound("nie ma takiego raportu (no such report build)")
        reasons = publish_blockers(review_completed=consultation.review_completed_at is not None,
                                   build_state=build.state, internal=build.internal,
                                   working_draft=build.working_draft)
        if reasons:
            raise PublishRefused(" ".join(REFUSALS[r] for r in reasons), details={"reasons": reasons})
        files = [(a.kind, a) for a in build.artifacts]
        document = drafts.consultation_document(session, consultation_id)
        version_number = None
        if document is not None and document.current_version > drafts.CONSULTED_VERSION:
            version_number = document.current_version
            files += _version_files(session, document.id, version_number)
        publication = Publication(id=str(uuid.uuid4()), consultation_id=consultation_id, report_build_id=build.id,
                                  document_id=document.id if document is not None else None,
                                  document_version=version_number, published_by=actor, published_at=now,
                                  files=[PublishedFile(artifact_id=a.id, kind=kind) for kind, a in files])
        session.add(publication)
        described = [{"artifact_id": a.id, "kind": kind, "media_type": a.media_type, "sha256": a.sha256,
                      "size": a.size, "public_url": public_url(ctx, a.id, kind)} for kind, a in files]
        docx = next(f for f in described if f["kind"] == "report_docx")
        ctx.emit(session, "report.published", {
            "consultation_id": consultation_id, "build_id": build.id, "sha256": build.sha256,
            "download_url": docx["public_url"],
            "exports": [{"format": f["kind"].removeprefix("report_"), "sha256": f["sha256"], "size": f["size"],
                         "media_type": f["media_type"], "download_url": f["public_url"]}
                        for f in described if f["kind"].startswith("report_")],
            "publication_id": publication.id, "published_at": now, "published_by": actor,
            "consultation_title": consultation.title, "document_id": publication.document_id,
            "document_version": version_number, "files": described,
        }, correlation_id=consultation_id)
    return publication


def list_publications(ctx: ServiceContext, consultation_id: str) -> list[Publication]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Publication).where(Publication.consultation_id == consultation_id)
                                    .order_by(Publication.published_at.desc(), Publication.id.desc())))


def _public_name(session: Session, artifact_id: str) -> str | None:
    """The public file name of an artifact anyone may download, or None.

    Two kinds of file are public: those a publication of results made public, and the clean DOCX of the
    draft put out for consultation once the draft is announced. The announcement is itself the decision
    to show the draft to residents, so it needs no second publishing step; the source file (which may
    carry the author's metadata and comments) and later versions stay private until results are published.
    """
    published = session.scalar(select(PublishedFile).where(PublishedFile.artifact_id == artifact_id).limit(1))
    if published is not None:
        return PUBLIC_NAMES[published.kind]
    consulted_draft = session.scalar(
        select(Artifact.id).join(DocumentVersion, Artifact.document_version_id == DocumentVersion.id)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Artifact.id == artifact_id, Artifact.kind == "clean", Document.published_at.is_not(None),
               DocumentVersion.number == drafts.CONSULTED_VERSION))
    return drafts.DRAFT_PUBLIC_NAME if consulted_draft is not None else None


class Superseded(Exception):
    """The file belongs to an earlier publication of results, replaced by a newer one: `location` is the newer
    publication's file of the same kind."""

    def __init__(self, artifact_id: str, kind: str):
        super().__init__(artifact_id)
        self.location = f"/documents/files/{artifact_id}/{PUBLIC_NAMES[kind]}"


def _superseding(session: Session, artifact_id: str) -> tuple[str, str] | None:
    """(artifact id, kind) of the newest publication's file that replaces a file of an earlier publication of the
    same consultation; None for a file of the newest publication (or one no publication made public).

    A new publication replaces the one before it: the city publishes results again to correct them, or to stop
    publishing the name of a submitter who withdrew their consent. The earlier files stop being public; their
    links (in the outcome e-mails, in bookmarks) lead to the files that replaced them."""
    made_public = session.execute(select(PublishedFile.publication_id, PublishedFile.kind, Publication.consultation_id)
                                  .join(Publication, Publication.id == PublishedFile.publication_id)
                                  .where(PublishedFile.artifact_id == artifact_id)).all()
    if not made_public:
        return None
    newest = _newest_publication(session, made_public[0].consultation_id)
    if newest in {row.publication_id for row in made_public}:
        return None
    kind = made_public[0].kind
    replacement = session.scalar(select(PublishedFile.artifact_id).where(PublishedFile.publication_id == newest,
                                                                        PublishedFile.kind == kind))
    if replacement is None:
        raise NotFound("nie ma takiego opublikowanego pliku (no such published file)")
    return replacement, kind


def _newest_publication(session: Session, consultation_id: str) -> str | None:
    return session.scalar(select(Publication.id).where(Publication.consultation_id == consultation_id)
                          .order_by(Publication.published_at.desc(), Publication.id.desc()).limit(1))


def withdrawn_since_publication(ctx: ServiceContext, consultation_id: str) -> list[str]:
    """References of submitters whose withdrawn consent to publish their name reached documents after the report
    of the newest publication read its comments (its files may name them): the coordinator publishes again."""
    with ctx.db.transaction() as session:
        newest = _newest_publication(session, consultation_id)
        if newest is None:
            return []
        build = session.get(ReportBuild, session.get(Publication, newest).report_build_id)
        read_at = build.started_at or build.created_at
        return list(session.scalars(select(SubmissionConsent.reference).where(
            SubmissionConsent.consultation_id == consultation_id, SubmissionConsent.publish_consent.is_(False),
            SubmissionConsent.applied_at > read_at).order_by(SubmissionConsent.reference)))


def public_file(ctx: ServiceContext, artifact_id: str) -> tuple[Artifact, str, bytes]:
    """A public artifact's bytes; anything not public is answered as missing, never as forbidden. A file of an
    earlier publication raises `Superseded`, naming the file that replaced it."""
    with ctx.db.transaction() as session:
        replacement = _superseding(session, artifact_id)
        if replacement is not None:
            raise Superseded(*replacement)
        name = _public_name(session, artifact_id)
        artifact = session.get(Artifact, artifact_id) if name is not None else None
    if artifact is None or name is None:
        raise NotFound("nie ma takiego opublikowanego pliku (no such published file)")
    return artifact, name, builds.artifact_content(ctx, artifact)
