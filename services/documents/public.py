"""Public downloads of published files: `/documents/files/<artifact id>/<name>`, no token needed; and the published
table of comments as a web page, `/documents/c/<consultation id>/comments` (`public_table`).

Documents owns the bytes, so it serves them; intake's results page only links
here. Only artifacts that a publication made public are served; any other id is
a 404, whether or not it exists.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request
from flask_babel import gettext

from services.common.auth import public
from services.common.ui import error_page
from services.common.web import NotFound, file_response
from services.documents import public_table, publishing

blp = Blueprint("documents_public", __name__, url_prefix="/documents/files")


@blp.get("/<artifact_id>/<name>")
@public
def download(artifact_id: str, name: str) -> Any:
    try:
        artifact, public_name, content = publishing.public_file(current_app.extensions["uwagi"], artifact_id)
    except publishing.Superseded as replaced:
        response = redirect(replaced.location, code=302)  # a later publication may replace that one too
        response.headers["Cache-Control"] = "no-cache"
        return response
    # A published file never changes under its id, but stops being public when a new publication replaces it
    # (a withdrawn consent): cached for an hour, not for good.
    return file_response(content, artifact.media_type, public_name, artifact.sha256,
                         cache_control="public, max-age=3600")


pages = Blueprint("documents_public_pages", __name__, url_prefix="/documents/c")


@pages.get("/<consultation_id>/comments")
@public
def comments(consultation_id: str) -> Any:
    """The published table of comments with the City's positions, searchable, fifty a page."""
    try:
        table = public_table.published_table(current_app.extensions["uwagi"], consultation_id)
    except NotFound:
        return error_page(404, gettext("The results of this consultation are not published yet."))
    query = request.args.get("q", "").strip()[:200]
    decisions = list(dict.fromkeys(row[public_table.DECISION] for row in table.rows))
    decision = request.args.get("decision", "")
    decision = decision if decision in decisions else ""
    found = public_table.select_rows(table.rows, query=query, decision=decision)
    pages_count = max(1, -(-len(found) // public_table.PER_PAGE))
    page = request.args.get("page", "1")
    page = min(max(int(page), 1), pages_count) if page.isdecimal() and len(page) < 7 else 1
    shown = found[(page - 1) * public_table.PER_PAGE:page * public_table.PER_PAGE]

    def page_url(number: int) -> str:
        wanted = {"q": query, "decision": decision, "page": number if number > 1 else ""}
        return f"/documents/c/{consultation_id}/comments?" + urlencode({k: v for k, v in wanted.items() if v})

    return render_template("documents/public/comments.html", table=table, rows=shown, total=len(found),
                           all_count=len(table.rows), query=query, decision=decision, decisions=decisions, page=page,
                           per_page=public_table.PER_PAGE, page_url=page_url, columns=public_table)
