"""`uwagi intake import-eml FILE… [--consultation ID]`: import mails saved as files, one JSON line per file.

The submissions' events wait in intake's outbox; the running system's relay publishes them (and so sends
the receipts). A file counts as received when it was last modified, as in the drop folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="uwagi intake", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    import_eml = commands.add_parser("import-eml", help="import .eml files as e-mail submissions")
    import_eml.add_argument("files", nargs="+", type=Path, metavar="FILE")
    import_eml.add_argument("--consultation", metavar="ID", help="the consultation (default: by the mail's address)")
    args = parser.parse_args(argv[1:])

    from services.common.runtime import configure_logging
    from services.common.settings import load_settings_for_cli
    from services.intake.app import build
    from services.intake.mail.importer import MailTransientError, import_mail

    settings = load_settings_for_cli()
    if settings is None:
        return 2
    configure_logging(settings)
    ctx = build(settings)
    failures = 0
    try:
        for path in args.files:
            try:
                raw = path.read_bytes()
                received_at = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
            except OSError as error:
                print(json.dumps({"file": str(path), "message_id": None, "status": "rejected", "reference": None,
                                  "comments": 0, "reason": f"cannot read the file: {error.strerror}"},
                                 ensure_ascii=False), flush=True)
                failures += 1
                continue
            try:
                result = import_mail(ctx, raw, received_at=received_at, source=f"cli:{path.name}",
                                     consultation_id=args.consultation)
            except MailTransientError as error:
                print(f"{path}: {error}", file=sys.stderr)
                failures += 1
                continue
            print(json.dumps(result.as_json(str(path)), ensure_ascii=False), flush=True)
    finally:
        ctx.db.dispose()
    return 1 if failures else 0
