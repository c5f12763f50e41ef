"""gunicorn's access log without secrets: status tokens and signed links are redacted from the request line.

Used by deploy/gunicorn.conf.py (`logger_class`). The query string (`%(q)s`), the raw request line
(`%(r)s`) and the referrer (`%(f)s`) are the atoms that can carry a token.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from services.common.observability import redact_query, redact_request_line, redact_target


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = redact_request_line(atoms["r"])
        atoms["q"] = redact_query(atoms.get("q") or "")
        if atoms.get("f") and atoms["f"] != "-":
            atoms["f"] = redact_target(atoms["f"])
        for key in ("{referer}i",):
            if atoms.get(key):
                atoms[key] = redact_target(atoms[key])
        return atoms
