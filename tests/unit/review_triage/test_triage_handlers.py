"""Triage use cases and event handlers on SQLite (FTS5): queue, search, anchoring, assignment, notes, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.common.web import Invalid, NotFound
from services.review import decisions
from services.review import triage_handlers as th
from services.review.models import AuditEntry, ConsultationDraft, DraftUnit, ReviewComment
from services.review.triage import QueueFilters
from services.review.triage_schemas import QueueFilterArgs
from tests.unit.review_triage.support import NOW, UNITS, publish_consultation, publish_draft, staff, submit


def ids_of(page) -> list[str]:
    return [c.id for c in page.items]


@pytest.fixture
def consultation(ctx):
    consultation_id = publish_consultation(ctx)
    publish_draft(ctx, consultation_id)
    return consultation_id


@pytest.fixture
def coordinator(ctx):
    return staff(ctx, "koordynator@um.example", "coordinator")


@pytest.fixture
def reviewer(ctx):
    return staff(ctx, "recenzent@um.example", "reviewer")


def test_search_ignores_case_and_polish_accents_and_matches_word_prefixes(ctx, consultation, reviewer):
    funding, other = submit(ctx, consultation, [
        {"section": "§ 10", "proposal": "Wskazać Źródła Finansowania zadań i ich wysokość."},
        {"section": "§ 1", "proposal": "Dodać definicję wolontariusza."}])

    def search(q: str) -> list[str]:
        return ids_of(th.queue_page(ctx, reviewer, QueueFilters(consultation=consultation, q=q)))

    assert search("zrodla finansowania") == [funding]
    assert search("ŹRÓDŁA") == [funding]
    assert search("finans") == [funding]
    assert search("wolontariusz") == [other]
    assert search("zrodla wolontariusza") == []
    assert search('"NEAR( OR *') == []  # FTS5 syntax in the query is just words


def test_a_broad_search_stops_counting_at_the_cap(ctx, consultation, reviewer, monkeypatch):
    from services.review import triage

    monkeypatch.setattr(triage, "SEARCH_COUNT_CAP", 3)
    ids = [submit(ctx, consultation, [{"section": "§ 1", "proposal": f"Dotacje celowe nr{i}"}],
                  received_at=NOW + timedelta(minutes=i))[0] for i in range(5)]
    page = th.queue_page(ctx, reviewer, QueueFilters(consultation=consultation, q="dotacje"), per_page=25)
    assert (page.total, page.capped, page.pages, ids_of(page)) == (3, True, 1, ids)
    exact = th.queue_page(ctx, reviewer, QueueFilters(consultation=consultation, q="celowe nr4"))
    assert (exact.total, exact.capped) == (1, False)
    unfiltered = th.queue_page(ctx, reviewer, QueueFilters(consultation=consultation))
    assert (unfiltered.total, unfiltered.capped) == (5, False)


def test_search_finds_the_submitters_organisation_and_the_reference(ctx, consultation, reviewer):
    [comment] = submit(ctx, consultation, [{"section": "§ 1", "proposal": "Zmiana."}], organization="Fundacja Łąka")
    with ctx.db.transaction() as session:
        reference = session.get(ReviewComment, comment).reference
    for q in ("laka", "fundacja", reference):
        assert ids_of(th.queue_page(ctx, reviewer, QueueFilters(q=q))) == [comment]


def test_each_filter_narrows_the_queue(ctx, consultation, reviewer, coordinator):
    web, = submit(ctx, consultation, [{"section": "§ 1", "proposal": "A", "topic": "zdrowie"}])
    letter, = submit(ctx, consultation, [{"section": "§ 5 ust. 2 pkt 2", "proposal": "B", "topic": "finansowanie"}],
                     channel="letter", late=True, received_at=NOW + timedelta(hours=1))
    decisions.assign_many(ctx, [letter], reviewer.email, coordinator)

    def only(**filters) -> list[str]:
        filters.setdefault("consultation", consultation)
        return sorted(ids_of(th.queue_page(ctx, coordinator, QueueFilters(**filters))))

    assert only() == sorted([web, letter])
    assert only(topic="zdrowie") == [web]
    assert only(channel="letter") == [letter]
    assert only(late=True) == [letter]
    assert only(late=False) == [web]
    assert only(unit="u3") == [letter]  # a chapter: everything beneath it
    assert only(unit="u5") == [letter]  # a section: its points too
    assert only(unit="u6") == [letter]
    assert only(unit="u2") == [web]
    assert only(assignee=reviewer.email) == [letter]
    assert only(assignee="none") == [web]
    assert only(status="new") == sorted([web, letter])
    assert only(status="decided") == []
    assert ids_of(th.queue_page(ctx, reviewer, QueueFilters(consultation=consultation, mine=True))) == [letter]
    assert only(consultation="someone-else") == []


def test_the_group_filter_and_the_comment_page_follow_duplicate_groups(ctx, consultation, coordinator):
    letter = "Domagamy się zwiększenia puli dotacji na wkład własny organizacji o połowę w przyszłym roku."
    first, = submit(ctx, consultation, [{"section": "§ 5", "proposal": letter}])
    second, = submit(ctx, consultation, [{"section": "§ 5", "proposal": letter.upper()}])
    alone, = submit(ctx, consultation, [{"section": "§ 1", "proposal": "Coś zupełnie innego."}])
    group_id = th.comment_view(ctx, first).comment.group_id
    assert group_id and th.comment_view(ctx, second).comment.group_id == group_id
    grouped = th.queue_page(ctx, coordinator, QueueFilters(consultation=consultation, group=group_id))
    assert sorted(ids_of(grouped)) == sorted([first, second])
    assert [c.id for c in th.comment_view(ctx, first).group_members] == [second]
    assert th.comment_view(ctx, alone).group_members == []
    assert th.queue_page(ctx, coordinator, QueueFilters(consultation=consultation, group="g-unknown")).total == 0


def test_sorting_and_paging_are_stable_and_the_viewers_comments_come_first(ctx, consultation, reviewer, coordinator):
    ids = [submit(ctx, consultation, [{"section": "§ 1", "proposal": f"Uwaga {i}"}],
                  received_at=NOW + timedelta(minutes=i))[0] for i in range(7)]
    decisions.assign_many(ctx, [ids[5], ids[2]], reviewer.email, coordinator)
    by_date = QueueFilters(consultation=consultation)

    coordinator_view = [c for p in (1, 2) for c in ids_of(th.queue_page(ctx, coordinator, by_date, page=p, per_page=25))]
    assert coordinator_view == ids
    newest = th.queue_page(ctx, coordinator, QueueFilters(consultation=consultation, sort="-received"))
    assert ids_of(newest) == ids[::-1]

    first = th.queue_page(ctx, reviewer, by_date, per_page=25)
    assert (first.total, first.mine_total) == (7, 2)
    assert ids_of(first) == [ids[2], ids[5], ids[0], ids[1], ids[3], ids[4], ids[6]]
    # the position used by next/previous follows the same order, across the mine/others boundary
    assert [th.queue_neighbour(ctx, reviewer, by_date, i).id for i in range(7)] == ids_of(first)
    assert th.queue_neighbour(ctx, reviewer, by_date, 7) is None
    assert th.queue_neighbour(ctx, reviewer, by_date, -1) is None


def test_mine_first_pages_cut_across_the_boundary_between_mine_and_the_rest(ctx, consultation, reviewer, coordinator):
    ids = [submit(ctx, consultation, [{"section": "§ 1", "proposal": f"Uwaga {i}"}],
                  received_at=NOW + timedelta(minutes=i))[0] for i in range(60)]
    mine = ids[10:40]
    decisions.assign_many(ctx, mine, reviewer.email, coordinator)
    filters = QueueFilters(consultation=consultation)
    page1, page2 = (th.queue_page(ctx, reviewer, filters, page=p, per_page=25) for p in (1, 2))
    page3 = th.queue_page(ctx, reviewer, filters, page=3, per_page=25)
    assert ids_of(page1) + ids_of(page2) + ids_of(page3) == mine + ids[:10] + ids[40:]
    assert (len(page3.items), page3.pages) == (10, 3)
    assert th.queue_page(ctx, reviewer, filters, page=40, per_page=25).items == []


def test_filters_are_remembered_per_staff_member_until_reset(ctx, consultation, reviewer, coordinator):
    loader = QueueFilterArgs().load
    chosen = QueueFilters(consultation=consultation, topic="zdrowie", late=True)
    assert th.queue_filters(ctx, reviewer, chosen, loader=loader) == chosen
    assert th.queue_filters(ctx, reviewer, None, loader=loader) == chosen
    assert th.queue_filters(ctx, coordinator, None, loader=loader) == QueueFilters()
    assert th.queue_filters(ctx, reviewer, None, loader=loader, reset=True) == QueueFilters()
    assert th.queue_filters(ctx, reviewer, None, loader=loader) == QueueFilters()


def test_a_remembered_filter_that_no_longer_validates_is_forgotten(ctx, reviewer):
    from services.review.models import QueueFilterPreference

    with ctx.db.transaction() as session:
        session.add(QueueFilterPreference(user_id=reviewer.user_id, filters={"sort": "gone", "topic": "x"}))
    assert th.queue_filters(ctx, reviewer, None, loader=QueueFilterArgs().load) == QueueFilters()


def test_comments_are_anchored_when_they_arrive_and_when_the_draft_comes_later(ctx, reviewer):
    consultation = publish_consultation(ctx)
    early, = submit(ctx, consultation, [{"section": "§ 5 ust. 2 pkt 2", "proposal": "Przed projektem."}])
    publish_draft(ctx, consultation)
    late, = submit(ctx, consultation, [{"section": "§ 10", "proposal": "Po projekcie."}])
    unknown, = submit(ctx, consultation, [{"section": "Uwaga ogólna", "proposal": "Bez jednostki."}])
    view = th.comment_view(ctx, early)
    assert (view.unit.unit_id, view.unit.text, view.chapter.label) == (
        "u6", "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji;", "Rozdział II")
    assert th.comment_view(ctx, late).unit.label == "§ 10"
    assert th.comment_view(ctx, unknown).unit is None
    assert [u.unit_id for u in th.comment_view(ctx, unknown).units] == [u["id"] for u in UNITS]


def test_a_version_built_from_decisions_does_not_replace_the_consultations_draft(ctx):
    consultation = publish_consultation(ctx)
    envelope = publish_draft(ctx, consultation, document_id="d-1")
    publish_draft(ctx, consultation, [{"id": "n1", "label": "§ 1", "kind": "paragraph", "text": "Nowe"}],
                  document_id="d-1", version=2, parent_version=1)
    publish_draft(ctx, consultation, [{"id": "x1", "label": "§ 1", "kind": "paragraph", "text": "Stare"}],
                  document_id="d-0", occurred_at=NOW - timedelta(days=30))  # an older upload, delivered late
    with ctx.db.transaction() as session:
        draft = session.get(ConsultationDraft, consultation)
        assert (draft.document_id, draft.version) == ("d-1", 1)
        assert session.scalar(select(func.count()).select_from(DraftUnit)) == len(UNITS) + 2
    # redelivery of the same event changes nothing (inbox), and a replay of its effect is idempotent too
    from tests.unit.review_triage.support import deliver

    deliver(ctx, "document.version_created", {}, envelope=envelope)
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DraftUnit).where(DraftUnit.document_id == "d-1")) == len(UNITS) + 1


def test_reanchoring_moves_a_comment_records_who_and_what_before_and_keeps_it_from_auto_anchoring(ctx, consultation, reviewer):
    comment, = submit(ctx, consultation, [{"section": "§ 1", "proposal": "Raczej o finansach."}])
    moved = th.reanchor(ctx, comment, "u6", reviewer)
    assert (moved.unit_id, moved.chapter_id, moved.anchored_by) == ("u6", "u3", reviewer.email)
    publish_draft(ctx, consultation)  # a new upload re-anchors only what no one anchored by hand
    view = th.comment_view(ctx, comment)
    assert view.unit.unit_id == "u6"
    [entry] = [e for e in view.history if e.action == "comment.reanchored"]
    assert (entry.actor, entry.before["unit"], entry.after["unit"], entry.consultation_id) == (
        reviewer.email, "u2", "u6", consultation)
    with pytest.raises(Invalid):
        th.reanchor(ctx, comment, "u-none", reviewer)
    with pytest.raises(NotFound):
        th.reanchor(ctx, "no-such-comment", "u6", reviewer)


def test_a_chapter_assignment_covers_its_current_and_future_comments(ctx, consultation, reviewer, coordinator):
    inside, outside = submit(ctx, consultation, [{"section": "§ 5 ust. 2", "proposal": "A"},
                                                 {"section": "§ 1", "proposal": "B"}])
    assert th.assign_chapter(ctx, consultation, "u3", reviewer.email, coordinator) == 1
    future, = submit(ctx, consultation, [{"section": "§ 10", "proposal": "C"}])
    moved_in, = submit(ctx, consultation, [{"section": "Ogólnie", "proposal": "D"}])
    th.reanchor(ctx, moved_in, "u4", reviewer)
    mine = th.queue_page(ctx, reviewer, QueueFilters(consultation=consultation, mine=True))
    assert sorted(ids_of(mine)) == sorted([inside, future, moved_in])
    assert th.comment_view(ctx, outside).comment.assignee is None
    assert th.comment_view(ctx, future).chapter_assignee == reviewer.email
    with pytest.raises(Invalid):
        th.assign_chapter(ctx, consultation, "u4", reviewer.email, coordinator)  # § 5 is not a chapter
    assert th.assign_chapter(ctx, consultation, "u3", None, coordinator) == 0
    later, = submit(ctx, consultation, [{"section": "§ 10", "proposal": "E"}])
    assert th.comment_view(ctx, later).comment.assignee is None
    with ctx.db.transaction() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("chapter.%"))))
    assert actions == ["chapter.assigned", "chapter.unassigned"]


def test_internal_notes_are_kept_in_order_and_audited(ctx, consultation, reviewer):
    comment, = submit(ctx, consultation, [{"section": "§ 1", "proposal": "A"}])
    th.add_note(ctx, comment, "  Sprawdzić z Wydziałem Finansów.  ", reviewer)
    th.add_note(ctx, comment, "Sprawdzone.", reviewer)
    view = th.comment_view(ctx, comment)
    assert [(n.author, n.body) for n in view.notes] == [(reviewer.email, "Sprawdzić z Wydziałem Finansów."),
                                                         (reviewer.email, "Sprawdzone.")]
    assert [e.action for e in view.history] == ["comment.note_added"] * 2
    for body in ("", "   ", "x" * 10_001):
        with pytest.raises(Invalid):
            th.add_note(ctx, comment, body, reviewer)
    with pytest.raises(NotFound):
        th.add_note(ctx, "missing", "x", reviewer)


def test_the_comment_page_gathers_the_submissions_other_comments(ctx, consultation):
    first, second, third = submit(ctx, consultation, [{"section": "§ 1", "proposal": p} for p in "ABC"])
    view = th.comment_view(ctx, second)
    assert [c.id for c in view.submission_comments] == [first, third]
    assert view.group_members == []
    with pytest.raises(NotFound):
        th.comment_view(ctx, "missing")
