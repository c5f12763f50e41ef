"""What every build shares: the pending → running → done/failed life of its row, and stored artifacts.

Report builds and version builds are rows with the same state columns; a
Celery task claims a row, reports progress on it and finishes it. Running a
task twice for one row is harmless: a finished row is not claimed again, and
a row being built is left to its builder.

Who is building: the task holds the build's key (`services.common.liveness`: on
PostgreSQL a session-level advisory lock) from before its claim until it has
finished, so a second copy of the task (a sweep re-sends builds that waited
long in the queue) finds the key held and leaves the build alone (looking
again a little later), while a build whose worker was killed has its key free
again as soon as PostgreSQL has ended the dead session: the task's message,
acknowledged only after the build (`acks_late`), comes back from the broker
and is run by another worker; the sweep re-sends a `running` build whose key
nobody holds as a last resort.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import select

from services.common import liveness
from services.common.db import utcnow
from services.common.metrics import BUILD_DURATION
from services.common.runtime import ServiceContext
from services.common.storage import ObjectNotFound
from services.common.web import NotFound
from services.documents.models import Artifact

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


PENDING_GRACE = timedelta(seconds=30)
# A `running` build whose key nobody holds has lost its worker, or waits for a retry after a storage outage
# (Celery's countdown, at most 120 s, holds no key): re-sent only when it has waited longer than such a retry.
ORPHAN_GRACE = timedelta(minutes=3)

Row = TypeVar("Row")


def _namespace(model: type) -> int:
    """The advisory lock space of a kind of build: one per table."""
    return liveness.key_of(f"documents.{model.__tablename__}")  # type: ignore[attr-defined]


class BuildBusy(Exception):
    """Someone holds the build's key: a live worker building it, or a killed one whose session PostgreSQL has
    not ended yet (the broker may hand the task back before then). This copy of the task looks again later."""


@contextmanager
def claimed(ctx: ServiceContext, model: type[Row], build_id: str) -> Iterator[Row | None]:
    """Hold the build's key for the block and claim the build (None when it is gone or finished);
    BuildBusy when someone else holds the key."""
    with liveness.held(ctx.db, _namespace(model), liveness.key_of(build_id)) as builder:
        if builder is None:
            raise BuildBusy(build_id)
        yield claim(ctx, model, build_id)


def claim(ctx: ServiceContext, model: type[Row], build_id: str) -> Row | None:
    """Mark a build running and return it, or None when it is gone or already done."""
    with ctx.db.transaction() as session:
        query = select(model).where(model.id == build_id)  # type: ignore[attr-defined]
        if ctx.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        build = session.scalar(query)
        if build is None or build.state in ("done", "failed"):
            return None  # deleted, or a redelivered task for finished work
        build.state, build.progress, build.started_at = "running", 5, utcnow()
        build.attempts += 1
        return build


def set_progress(ctx: ServiceContext, model: type, build_id: str, progress: int) -> None:
    with ctx.db.transaction() as session:
        row = session.get(model, build_id)
        if row is not None:
            row.progress = progress


def mark_failed(ctx: ServiceContext, model: type, build_id: str, error: str, **fields: Any) -> None:
    with ctx.db.transaction() as session:
        row = session.get(model, build_id)
        if row is None:
            return
        row.state, row.error, row.finished_at = "failed", error[:2000], utcnow()
        for name, value in fields.items():
            setattr(row, name, value)
        _observe_duration(row, "failed")


def mark_done(row: Any) -> None:
    row.state, row.progress, row.finished_at, row.error = "done", 100, utcnow(), None
    _observe_duration(row, "done")


def _observe_duration(row: Any, outcome: str) -> None:
    started, finished = getattr(row, "started_at", None), row.finished_at
    if started is None or finished is None:
        return
    if started.tzinfo is None:
        started = started.replace(tzinfo=finished.tzinfo)
    BUILD_DURATION.labels(type(row).__tablename__, outcome).observe(max(0.0, (finished - started).total_seconds()))


def stalled(ctx: ServiceContext, model: Any) -> list[str]:
    """Ids of builds whose task may be lost: pending too long, or running with nobody building them."""
    now = utcnow()
    building = liveness.holders(ctx.db, _namespace(model))
    with ctx.db.transaction() as session:
        pending = session.scalars(select(model.id).where(model.state == "pending", model.created_at < now - PENDING_GRACE))
        running = session.scalars(select(model.id).where(model.state == "running", model.started_at < now - ORPHAN_GRACE))
        pending, running = list(pending), list(running)
        alive = building(session.connection()) if running else set()
    return pending + [build_id for build_id in running if liveness.key_of(build_id) not in alive]


def requeue_stalled(task: str, model: type) -> Callable[[ServiceContext], None]:
    def sweep(ctx: ServiceContext) -> None:
        for build_id in stalled(ctx, model):
            ctx.enqueue(task, build_id)

    sweep.__name__ = f"requeue_stalled_{task}"
    return sweep


def fetch(ctx: ServiceContext, model: type[Row], row_id: str, missing: str) -> Row:
    """One row by primary key, or NotFound with `missing` as the message."""
    with ctx.db.transaction() as session:
        row = session.get(model, row_id)
    if row is None:
        raise NotFound(missing)
    return row


def store_artifact(ctx: ServiceContext, key: str, content: bytes, media_type: str, *, kind: str,
                   inputs: dict, **owner: Any) -> Artifact:
    """Put `content` in the object store and return its (unsaved) artifact row.

    The caller adds the row in the transaction that makes the artifact visible,
    so a crash between the two leaves an unreferenced object, never a dangling row.
    """
    stored = ctx.store.put(key, content, media_type)
    return Artifact(id=str(uuid.uuid4()), kind=kind, key=stored.key, version_id=stored.version_id,
                    sha256=stored.sha256, size=stored.size, media_type=media_type, inputs=inputs,
                    created_at=utcnow(), **owner)


def artifact_content(ctx: ServiceContext, artifact: Artifact) -> bytes:
    try:
        return ctx.store.get(artifact.key, artifact.version_id)
    except ObjectNotFound:
        raise NotFound("the stored file is missing") from None
