"""The drop folder of `make run`: `.eml` files put into `$UWAGI_DATA_DIR/inbox/` are imported and filed away."""

from __future__ import annotations

import logging
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError

from services.common.runtime import ServiceContext
from services.intake.mail.importer import REJECTED, ImportResult, MailTransientError, import_mail

log = logging.getLogger("uwagi.intake.mail")


def import_drop_folder(ctx: ServiceContext, folder: Path) -> list[tuple[Path, ImportResult]]:
    """Import each `*.eml` in `folder`, then move it to `done/` (or `rejected/`). Received at the file's mtime.

    Write a file under another name and rename it to `.eml` when complete: a half-written file is not
    told apart from a broken one. Hidden files are left alone: a tool's temporary file, or the "._name.eml"
    that macOS writes beside each file copied to a shared folder (its metadata, not a mail).
    """
    results = []
    for path in sorted(folder.glob("*.eml")):
        if path.name.startswith("."):
            continue
        try:
            raw = path.read_bytes()
            received_at = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
        except OSError:
            continue  # removed meanwhile
        try:
            result = import_mail(ctx, raw, received_at=received_at, source=f"file:{path.name}")
        except MailTransientError as error:
            log.warning("%s: not imported now, kept for the next sweep: %s", path.name, error)
            continue
        except (OperationalError, InterfaceError) as error:  # the database is down: leave the folder as it is
            log.warning("%s: database unavailable, kept for the next sweep: %s", path.name, error)
            break
        except Exception:  # one strange file must not stop the folder
            log.exception("%s: import failed; moved to rejected/", path.name)
            result = ImportResult("", REJECTED, reason="import failed; see the log")
        target = folder / ("rejected" if result.status == REJECTED else "done")
        target.mkdir(exist_ok=True)
        destination = target / path.name
        if destination.exists():
            destination = target / f"{path.stem}-{int(time.time() * 1000)}{path.suffix}"
        shutil.move(str(path), destination)
        results.append((destination, result))
    return results
