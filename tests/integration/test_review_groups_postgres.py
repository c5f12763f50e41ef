"""Grouping on PostgreSQL: several consumers placing copies of one campaign at once agree on one group."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from services.common.db import upgrade
from services.common.settings import load_settings
from services.review import groups
from services.review.app import build
from services.review.models import GroupBucket, ReviewComment
from tests.unit.review_groups.support import LETTER, OTHER, deliver, submission

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def review_ctx(tmp_path, postgres):
    url = postgres.create_database("uwagi_groups")
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "REVIEW_DATABASE_URL": url})
    upgrade("review", url)
    ctx = build(settings)
    yield ctx
    ctx.close()


def test_concurrent_consumers_put_a_campaign_in_one_group(review_ctx):
    consultation = str(uuid.uuid4())
    variants = [LETTER, LETTER + "!", "Szanowni Państwo, " + LETTER, LETTER + " Z poważaniem, Jan Nowak",
                LETTER.replace("małe granty", "granty małe"), LETTER.upper()]
    envelopes = [submission(consultation, variants[n % len(variants)])[0] for n in range(24)]
    envelopes += [submission(consultation, OTHER)[0] for _ in range(4)]
    start = threading.Barrier(4)

    def consume(batch):
        start.wait()
        return [deliver(review_ctx, envelope) for envelope in batch]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(consume, [envelopes[i::4] for i in range(4)]))
    assert all(failures == [] for batch in results for failures in batch)

    items, total = groups.list_groups(review_ctx, consultation_id=consultation, limit=10, offset=0)
    assert total == 2 and sorted(item.size for item in items) == [4, 24]
    with review_ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).where(ReviewComment.group_id.is_(None))) == 0
        assert session.scalar(select(func.count()).select_from(GroupBucket)) > 0


def test_an_advisory_lock_is_taken_per_consultation(review_ctx):
    with review_ctx.db.transaction() as session:
        groups.lock_consultation_groups(session, "c-1")
        mine = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        assert session.scalar(text(mine)) == 1
    with review_ctx.db.transaction() as session:  # released with the transaction
        assert session.scalar(text(mine)) == 0


def test_among_is_one_array_parameter_on_postgresql_and_an_in_list_on_sqlite(review_ctx, tmp_path):
    """`db.among` must select the same rows as IN on both databases, with a statement text that does not depend
    on how many values it is given on PostgreSQL (so psycopg and PostgreSQL prepare and plan it once)."""
    from services.common.db import Database, among

    consultation = str(uuid.uuid4())
    with review_ctx.db.transaction() as session:
        session.add_all([GroupBucket(consultation_id=consultation, bucket=n, comment_id=f"c{n}") for n in range(120)])
    texts = set()
    with review_ctx.db.transaction() as session:
        for wanted in ([], [3], list(range(0, 120, 2)), [7, 7, 10_000]):
            query = select(GroupBucket.bucket).where(GroupBucket.consultation_id == consultation,
                                                     among(session, GroupBucket.bucket, wanted))
            assert sorted(session.scalars(query)) == sorted(set(wanted) & set(range(120)))
            texts.add(str(query.compile(session.get_bind())))
    assert len(texts) == 1 and "ANY" in texts.pop()

    lite = Database(f"sqlite:///{tmp_path / 'among.db'}")
    with lite.transaction() as session:
        query = select(GroupBucket.bucket).where(among(session, GroupBucket.bucket, [1, 2]))
        assert " IN " in str(query.compile(session.get_bind()))
    lite.dispose()
