"""The audit log is append-only in the ORM and in the database, and can be searched."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError

from services.review import audit
from services.review.audit import AuditFilter, AuditLogIsAppendOnly
from services.review.models import AuditEntry
from tests.unit.review_decisions.support import COORDINATOR, REVIEWER


def _write(ctx, *entries: tuple) -> None:
    with ctx.transaction() as session:
        for actor, action, subject in entries:
            audit.record(session, actor, action, subject, before={"assignee": None}, after={"assignee": "x@y.pl"},
                         consultation_id="c-1", when=datetime(2026, 1, 2, tzinfo=timezone.utc))


def test_an_entry_keeps_who_what_before_and_after_as_json(ctx):
    _write(ctx, (COORDINATOR, "comment.assigned", "comment-1"))
    with ctx.db.transaction() as session:
        (entry,) = audit.history(session, "comment-1")
    assert (entry.actor, entry.action, entry.consultation_id) == (COORDINATOR.email, "comment.assigned", "c-1")
    assert (entry.before, entry.after) == ({"assignee": None}, {"assignee": "x@y.pl"})
    assert entry.details == {"when": "2026-01-02T00:00:00+00:00"}
    assert entry.at.tzinfo is not None


def test_the_orm_refuses_to_change_or_delete_an_entry(ctx):
    _write(ctx, ("cli", "user.created", "u-1"))
    with pytest.raises(AuditLogIsAppendOnly):
        with ctx.db.transaction() as session:
            session.get(AuditEntry, 1).actor = "someone-else"
    with pytest.raises(AuditLogIsAppendOnly):
        with ctx.db.transaction() as session:
            session.delete(session.get(AuditEntry, 1))
    for statement in (update(AuditEntry).values(actor="x"), delete(AuditEntry),
                      delete(AuditEntry.__table__), update(AuditEntry.__table__).values(actor="x")):
        with pytest.raises(AuditLogIsAppendOnly):
            with ctx.db.transaction() as session:
                session.execute(statement)
    with ctx.db.transaction() as session:
        assert session.get(AuditEntry, 1).actor == "cli"


def test_the_database_refuses_raw_updates_and_deletes(ctx):
    _write(ctx, ("cli", "user.created", "u-1"))
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"):
            with ctx.db.engine.begin() as connection:
                connection.execute(text(sql))
    with ctx.db.engine.connect() as connection:
        assert connection.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["cli"]


def test_search_filters_by_actor_action_prefix_subject_and_time(ctx):
    _write(ctx, (COORDINATOR, "comment.assigned", "c-a"), (REVIEWER, "comment.decided", "c-a"),
           (REVIEWER, "comment.decided", "c-b"), ("cli", "user.created", "u-1"))
    now = datetime.now(timezone.utc)

    def found(**filters) -> list[tuple[str, str]]:
        with ctx.db.transaction() as session:
            rows, total = audit.search(session, AuditFilter(**filters), limit=10, offset=0)
        assert total == len(rows)
        return [(r.action, r.subject) for r in rows]

    assert found(actor=REVIEWER.email) == [("comment.decided", "c-b"), ("comment.decided", "c-a")]
    assert len(found(action="comment.")) == 3
    assert found(action="comment.assigned") == [("comment.assigned", "c-a")]
    assert found(action="comment") == []
    assert len(found(subject="c-a")) == 2
    assert len(found(since=now - timedelta(minutes=5), until=now + timedelta(minutes=5))) == 4
    assert found(since=now + timedelta(minutes=5)) == []
    with ctx.db.transaction() as session:
        rows, total = audit.search(session, AuditFilter(), limit=2, offset=2)
        assert (total, [r.subject for r in rows]) == (4, ["c-a", "c-a"])
        assert audit.known_actions(session) == ["comment.assigned", "comment.decided", "user.created"]


def test_changes_keeps_only_the_fields_that_differ():
    assert audit.changes({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == ({"b": 2}, {"b": 3})


def test_a_submission_reference_finds_the_entries_of_its_comments(ctx):
    from services.review import decisions
    from services.review.domain import Decide
    from services.review.models import ReviewComment
    from tests.unit.review_decisions.support import publish_consultation, submit

    consultation = publish_consultation(ctx)
    first, second = submit(ctx, consultation, ["§ 1", "§ 2"])
    decisions.decide(ctx, Decide(first, "accepted"), COORDINATOR)
    decisions.decide(ctx, Decide(second, "accepted"), COORDINATOR)
    with ctx.db.transaction() as session:
        reference = session.get(ReviewComment, first).reference

    def subjects(text: str) -> list[str]:
        with ctx.db.transaction() as session:
            rows, _total = audit.search(session, AuditFilter(subject=text), limit=10, offset=0)
        return sorted(r.subject for r in rows)

    assert subjects(reference) == sorted([first, second])
    assert subjects(f"{reference.lower()} #2") == [second]
    assert subjects(f"{reference} nr 1") == [first]
    assert subjects(first) == [first]
