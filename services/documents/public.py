"""Public downloads of published files: `/documents/files/<artifact id>/<name>`, no token needed.

Documents owns the bytes, so it serves them; intake's results page only links
here. Only artifacts that a publication made public are served; any other id is
a 404, whether or not it exists.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from services.common.auth import public
from services.common.web import file_response
from services.documents import publishing

blp = Blueprint("documents_public", __name__, url_prefix="/documents/files")


@blp.get("/<artifact_id>/<name>")
@public
def download(artifact_id: str, name: str) -> Any:
    artifact, public_name, content = publishing.public_file(current_app.extensions["uwagi"], artifact_id)
    # Published files never change under their id.
    return file_response(content, artifact.media_type, public_name, artifact.sha256,
                         cache_control="public, max-age=86400, immutable")
