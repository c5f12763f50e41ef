"""The triage queue on the real PostgreSQL: the migration's unaccent + GIN search, filters and mine-first paging."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from services.common.db import upgrade
from services.common.settings import load_settings
from services.review import triage_handlers as th
from services.review.app import build
from services.review.triage import QueueFilters, filtered
from tests.unit.review_triage.support import NOW, publish_consultation, publish_draft, staff, submit

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def ctx(tmp_path, postgres):
    url = postgres.create_database("uwagi_review_triage")
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "REVIEW_DATABASE_URL": url,
                              "UWAGI_RELAY_INTERVAL": "5"})
    upgrade("review", url)
    context = build(settings)
    yield context
    context.close()


def test_the_migration_creates_unaccent_and_the_gin_search_index(ctx):
    with ctx.db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'")) == 1
        index = conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_comments_search'"))
        assert "USING gin (search_vector)" in index
        generated = conn.scalar(text("SELECT generation_expression FROM information_schema.columns "
                                     "WHERE table_name = 'comments' AND column_name = 'search_vector'"))
        assert "review_unaccent" in generated
        assert conn.scalar(text("SELECT review_unaccent('Źródła Łódź')")) == "Zrodla Lodz"


def test_search_is_accent_and_case_insensitive_and_uses_the_index(ctx):
    consultation = publish_consultation(ctx)
    reviewer = staff(ctx, "recenzent@um.example")
    funding, city, other = submit(ctx, consultation, [
        {"section": "§ 10", "proposal": "Wskazać Źródła Finansowania programu."},
        {"section": "§ 1", "proposal": "Dodać współpracę z Łodzią i Żywcem."},
        {"section": "§ 1", "proposal": "Dodać definicję wolontariusza."}])

    def search(q: str) -> list[str]:
        return [c.id for c in th.queue_page(ctx, reviewer, QueueFilters(consultation=consultation, q=q)).items]

    assert search("zrodla finansowania") == [funding]
    assert search("ŹRÓDŁA FINANS") == [funding]
    assert search("lodzia zywcem") == [city]
    assert search("wolontariusz") == [other]
    assert search("zrodla wolontariusza") == []
    assert search("&|!:* <-> ' \\") == search("") and len(search("")) == 3  # tsquery syntax is not passed through

    with ctx.db.transaction() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        query = filtered(session, QueueFilters(q="zrodla finansowania"), None)
        sql = str(query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
        plan = "\n".join(row[0] for row in session.execute(text("EXPLAIN " + sql)))
    assert "ix_comments_search" in plan



def test_a_comment_is_found_by_its_reference_and_by_words_joined_by_punctuation(ctx):
    """PostgreSQL's parser reads "UW/2026/000123" as one path and "anna@example.org" as one address; the search
    splits them into words, as SQLite does."""
    consultation = publish_consultation(ctx)
    reviewer = staff(ctx, "recenzent@um.example")
    [by_mail] = submit(ctx, consultation, [{"section": "§ 2", "proposal": "Kontakt: biuro@fundacja-torun.pl/uwagi."}])
    [other] = submit(ctx, consultation, [{"section": "§ 3", "proposal": "Inna uwaga."}])
    with ctx.db.transaction() as session:
        reference = session.scalar(text("SELECT reference FROM comments WHERE id = :id"), {"id": other})

    def search(q: str) -> list[str]:
        return [c.id for c in th.queue_page(ctx, reviewer, QueueFilters(consultation=consultation, q=q)).items]

    assert search(reference) == [other]
    assert search(reference.lower().replace("/", " ")) == [other]
    assert search("fundacja torun") == [by_mail] and search("biuro@fundacja") == [by_mail]

def test_filters_anchoring_and_mine_first_paging_on_postgres(ctx):
    consultation = publish_consultation(ctx)
    publish_draft(ctx, consultation)
    reviewer = staff(ctx, "recenzent@um.example")
    coordinator = staff(ctx, "koordynator@um.example", "coordinator")
    ids = [submit(ctx, consultation, [{"section": "§ 5 ust. 2" if i % 2 else "§ 1", "proposal": f"Uwaga {i}"}],
                  received_at=NOW + timedelta(minutes=i), late=i == 3)[0] for i in range(30)]
    assert th.assign_chapter(ctx, consultation, "u3", reviewer.email, coordinator) == 15
    filters = QueueFilters(consultation=consultation)
    pages = [th.queue_page(ctx, reviewer, filters, page=p, per_page=25) for p in (1, 2)]
    odd, even = ids[1::2], ids[0::2]
    assert [c.id for p in pages for c in p.items] == odd + even
    assert pages[0].mine_total == 15
    assert [th.queue_neighbour(ctx, reviewer, filters, i).id for i in (14, 15)] == [odd[-1], even[0]]
    assert [c.id for c in th.queue_page(ctx, coordinator, QueueFilters(consultation=consultation, late=True)).items] == [ids[3]]
    assert th.queue_page(ctx, coordinator, QueueFilters(consultation=consultation, unit="u5")).total == 15
    assert th.queue_page(ctx, coordinator, QueueFilters(consultation=consultation, assignee="none")).total == 15
