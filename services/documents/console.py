"""The staff console's document pages under /documents/: drafts (upload, parsed units, publish) and versions
(list, diff between any two, downloads).

Thin views: parse, call one function of `drafts`, render. Reviewers read;
coordinators upload and publish. Forms carry CSRF tokens (the shared gate checks
them for cookie-authenticated requests); nothing needs JavaScript.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.common.auth import current_staff, requires_role
from services.common.ui import N_, current_language
from services.common.web import Conflict, NotFound
from services.documents import drafts, handlers
from services.documents.diff_view import diff_counts, inline_diff, unit_depths

blp = Blueprint("documents_console", __name__, url_prefix="/documents")

KIND_WORDS = {
    "chapter": N_("chapter"), "paragraph": N_("paragraph (§)"), "section": N_("section (ust.)"),
    "point": N_("point (pkt)"), "letter": N_("letter (lit.)"), "table": N_("table"), "block": N_("text block"),
}
DIFF_WORDS = {
    "inserted": N_("added"), "deleted": N_("removed"), "changed": N_("changed"), "renumbered": N_("renumbered"),
}
FILE_WORDS = {
    "clean": N_("clean text (DOCX)"), "tracked": N_("with tracked changes (DOCX)"), "source": N_("as uploaded (DOCX)"),
}


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.app_context_processor
def _document_words() -> dict:
    def words(table: dict, key: Any) -> str:
        value = table.get(key)
        return _(value) if value else str(key)

    return {"document_words": words, "KIND_WORDS": KIND_WORDS, "DIFF_WORDS": DIFF_WORDS, "FILE_WORDS": FILE_WORDS}


def _file_url(document_id: str, number: int, kind: str) -> str:
    return f"/documents/api/v1/documents/{document_id}/versions/{number}/{kind}.docx"


# --- documents and drafts ------------------------------------------------------------------


@blp.get("/")
@blp.get("/drafts")
def index() -> Any:
    consultation = request.args.get("consultation", "").strip()[:36] or None
    documents = drafts.list_documents(_ctx(), consultation)
    return render_template("documents/staff/documents.html", documents=documents, consultation=consultation,
                           titles=handlers.consultation_titles(_ctx()))


@blp.get("/drafts/new")
@requires_role("coordinator")
def new_draft() -> Any:
    return _upload_page(consultation_id=request.args.get("consultation", "").strip()[:36], title="")


@blp.post("/drafts")
@requires_role("coordinator")
def upload_draft() -> Any:
    consultation_id = request.form.get("consultation_id", "").strip()[:36]
    title = request.form.get("title", "").strip()
    upload = request.files.get("file")
    errors = {}
    if upload is None or not upload.filename:
        errors["file"] = _("Choose the draft document, a DOCX file.")
    if len(title) > 300:
        errors["title"] = _("This text is too long.")
    if errors:
        return _upload_page(consultation_id=consultation_id, title=title, errors=errors, status=422)
    try:
        document = drafts.upload_document(
            _ctx(), upload.read(), filename=upload.filename, title=title or PurePath(upload.filename).stem,
            consultation_id=consultation_id or None, actor=current_staff().email, publish=False)
    except drafts.EngineRefused as exc:
        details = exc.details or {}
        message = details.get("message_pl") if current_language() == "pl" else details.get("message")
        errors["file"] = _("The document was not accepted: %(reason)s", reason=message or exc.message)
        return _upload_page(consultation_id=consultation_id, title=title, errors=errors, status=exc.status)
    flash(_("The draft has been uploaded and read. Check its parts and any warnings, then publish it."), "success")
    return redirect(url_for(".draft", document_id=document.id), code=303)


@blp.get("/drafts/<document_id>")
def draft(document_id: str) -> Any:
    ctx = _ctx()
    document = drafts.get_document(ctx, document_id)
    units = drafts.version_units(ctx, document_id, 1)
    return render_template("documents/staff/draft.html", document=document, units=units, depths=unit_depths(units),
                           consultation_title=handlers.consultation_titles(ctx).get(document.consultation_id or ""),
                           can_publish=current_staff().has_role("coordinator"))


@blp.post("/drafts/<document_id>/publish")
@requires_role("coordinator")
def publish_draft(document_id: str) -> Any:
    try:
        drafts.publish_document(_ctx(), document_id, actor=current_staff().email)
    except Conflict:
        flash(_("This consultation already has a published document. Its next versions come from the decisions "
                "on the comments."), "error")
        return redirect(url_for(".draft", document_id=document_id), code=303)
    flash(_("The draft has been published as version 1 of the consultation's document."), "success")
    return redirect(url_for(".versions", document_id=document_id), code=303)


@blp.post("/drafts/<document_id>/discard")
@requires_role("coordinator")
def discard_draft(document_id: str) -> Any:
    document = drafts.get_document(_ctx(), document_id)
    try:
        drafts.discard_draft(_ctx(), document_id, actor=current_staff().email)
    except Conflict:
        flash(_("A published document cannot be discarded."), "error")
        return redirect(url_for(".draft", document_id=document_id), code=303)
    flash(_("The draft has been discarded."), "success")
    return redirect(url_for(".index", consultation=document.consultation_id) if document.consultation_id
                    else url_for(".index"), code=303)


# --- versions ------------------------------------------------------------------------------


@blp.get("/versions")
def published_documents() -> Any:
    documents = [d for d in drafts.list_documents(_ctx()) if d.published_at is not None]
    return render_template("documents/staff/documents.html", documents=documents, consultation=None,
                           titles=handlers.consultation_titles(_ctx()), published_only=True)


@blp.get("/versions/<document_id>")
def versions(document_id: str) -> Any:
    ctx = _ctx()
    document = drafts.get_document(ctx, document_id)
    rows = drafts.list_versions(ctx, document_id)
    return render_template("documents/staff/versions.html", document=document, versions=rows, file_url=_file_url,
                           consultation_title=handlers.consultation_titles(ctx).get(document.consultation_id or ""))


@blp.get("/versions/<document_id>/<int:number>")
def version_units(document_id: str, number: int) -> Any:
    ctx = _ctx()
    document = drafts.get_document(ctx, document_id)
    units = drafts.version_units(ctx, document_id, number)
    return render_template("documents/staff/units.html", document=document, number=number, units=units,
                           depths=unit_depths(units))


@blp.get("/versions/<document_id>/diff")
def diff(document_id: str) -> Any:
    ctx = _ctx()
    document = drafts.get_document(ctx, document_id)
    numbers = [row.number for row in drafts.list_versions(ctx, document_id)]
    old, new = _version_arg("old", numbers[0]), _version_arg("new", numbers[-1])
    if old not in numbers or new not in numbers:
        raise NotFound("nie ma takiej wersji (no such version)")
    old, new = min(old, new), max(old, new)
    entries = drafts.version_diff(ctx, document_id, old, new)
    for entry in entries:
        if entry["status"] == "changed":
            entry["pieces"] = inline_diff(entry["old"]["text"], entry["new"]["text"])
    return render_template("documents/staff/diff.html", document=document, numbers=numbers, old=old, new=new,
                           entries=entries, counts=diff_counts(entries), layout=_layout())


def _version_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdecimal() else default


def _layout() -> str:
    return "inline" if request.args.get("layout") == "inline" else "side"


def _upload_page(*, consultation_id: str, title: str, errors: dict | None = None, status: int = 200) -> Any:
    titles = handlers.consultation_titles(_ctx())
    options = list(titles.items())
    if consultation_id and consultation_id not in titles:
        # A consultation still in draft is not announced to documents yet; it may still get its document.
        options.insert(0, (consultation_id, _("Consultation %(id)s (not announced yet)", id=consultation_id[:8])))
    return render_template("documents/staff/upload.html", options=options, consultation_id=consultation_id,
                           title=title, errors=errors or {},
                           max_mb=_ctx().settings.max_upload_bytes // (1024 * 1024)), status
