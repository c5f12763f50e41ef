"""Grouping in review's read model (SQLite): placing comments as they arrive, reading, splitting, merging."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from services.common.bus import InboxDispatcher
from services.common.events import parse_envelope
from services.common.web import Invalid, NotFound
from services.review import groups
from services.review.app import build
from services.review.handlers import EVENT_HANDLERS, on_submission_received
from services.review.models import (AuditEntry, CommentGroup, DecisionRecord, GroupBucket, GroupFingerprint, Inbox,
                                    Outbox, ReviewComment)
from tests.unit.review_groups.support import (LETTER, OTHER, REVIEWER, deliver, publish_consultation, receive,
                                             submission)


def group_of(ctx, comment_id: str) -> str | None:
    with ctx.db.transaction() as session:
        return session.scalar(select(ReviewComment.group_id).where(ReviewComment.id == comment_id))


def all_groups(ctx, consultation_id: str) -> dict[str, set[str]]:
    items, _ = groups.list_groups(ctx, consultation_id=consultation_id, limit=200, offset=0)
    return {item.id: set(item.member_ids) for item in items}


def campaign(ctx, consultation_id: str, copies: int = 3) -> list[str]:
    """The letter, then copies with small edits, each in its own submission."""
    edits = ["Szanowni Państwo, " + LETTER, LETTER.replace("zapotrzebowanie", "zapotrzebowanei"),
             LETTER.replace("małe granty", "granty małe"), LETTER + " Z poważaniem, Jan Kowalski"]
    ids = receive(ctx, consultation_id, LETTER)
    for proposal in edits[:copies]:
        ids += receive(ctx, consultation_id, proposal)
    return ids


def test_identical_comments_from_different_submissions_form_one_group(ctx):
    consultation = str(uuid.uuid4())
    (first,) = receive(ctx, consultation, LETTER)
    (second,) = receive(ctx, consultation, LETTER.upper().replace(",", ""))
    (unrelated,) = receive(ctx, consultation, OTHER)
    assert group_of(ctx, first) is not None and group_of(ctx, first) == group_of(ctx, second)
    assert group_of(ctx, unrelated) is None
    assert list(all_groups(ctx, consultation).values()) == [{first, second}]


def test_near_identical_copies_join_the_campaign_and_identical_rows_of_one_submission_too(ctx):
    consultation = str(uuid.uuid4())
    ids = campaign(ctx, consultation, copies=4)
    twins = receive(ctx, consultation, OTHER, OTHER + "!")
    found = all_groups(ctx, consultation)
    assert sorted(map(sorted, found.values())) == sorted([sorted(ids), sorted(twins)])


def test_a_redelivered_or_replayed_submission_changes_nothing(ctx):
    consultation = str(uuid.uuid4())
    campaign(ctx, consultation)
    envelope, ids = submission(consultation, LETTER + " Pozdrawiam")
    assert deliver(ctx, envelope) == []
    before = all_groups(ctx, consultation)
    assert deliver(ctx, envelope) == []  # the inbox remembers the event
    replay = dict(envelope, id=str(uuid.uuid4()))  # the same comments under a new event id
    assert deliver(ctx, replay) == []
    assert all_groups(ctx, consultation) == before
    with ctx.db.transaction() as session:
        assert session.scalar(select(GroupFingerprint).where(GroupFingerprint.comment_id == ids[0])) is not None
        assert len(list(session.scalars(select(GroupFingerprint.comment_id)
                                        .where(GroupFingerprint.comment_id == ids[0])))) == 1


def test_consultations_are_grouped_separately(ctx):
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    (a,) = receive(ctx, one, LETTER)
    (b,) = receive(ctx, two, LETTER)
    assert group_of(ctx, a) is None and group_of(ctx, b) is None


def test_the_index_lives_in_the_database_and_survives_a_restart(ctx, tmp_path):
    consultation = str(uuid.uuid4())
    ids = campaign(ctx, consultation, copies=1)
    with ctx.db.transaction() as session:
        assert session.scalar(select(GroupBucket.comment_id).where(GroupBucket.consultation_id == consultation))
    restarted = build(ctx.settings)  # a new process: nothing in memory
    try:
        (late,) = receive(restarted, consultation, LETTER + " Z poważaniem, Ewa Zielińska")
        assert group_of(restarted, late) == group_of(restarted, ids[0]) is not None
    finally:
        restarted.close()


def test_splitting_moves_the_selected_members_into_a_curated_group_of_their_own(ctx):
    consultation = str(uuid.uuid4())
    ids = campaign(ctx, consultation, copies=4)
    group_id = group_of(ctx, ids[0])
    outcome = groups.split_group(ctx, group_id, ids[3:], REVIEWER)
    assert outcome.group_id == group_id and outcome.new_group_id
    assert all_groups(ctx, consultation) == {group_id: set(ids[:3]), outcome.new_group_id: set(ids[3:])}
    with ctx.db.transaction() as session:
        assert session.get(CommentGroup, group_id).curated and session.get(CommentGroup, outcome.new_group_id).curated
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "group.split"))
        assert entry.actor == REVIEWER.email and entry.subject == group_id
        assert sorted(entry.details["moved"]) == sorted(ids[3:])
        assert entry.before == {"size": 5} and entry.after == {"size": 3}  # sizes, not every member of a campaign


def test_splitting_off_one_comment_ungroups_it_and_a_last_member_is_not_a_group(ctx):
    consultation = str(uuid.uuid4())
    ids = campaign(ctx, consultation, copies=1)
    group_id = group_of(ctx, ids[0])
    outcome = groups.split_group(ctx, group_id, [ids[1]], REVIEWER)
    assert outcome == groups.SplitOutcome(None, None)
    assert group_of(ctx, ids[0]) is None and group_of(ctx, ids[1]) is None
    assert all_groups(ctx, consultation) == {}


@pytest.mark.parametrize("selection, error", [([], Invalid), (["not-a-member"], Invalid), ("all", Invalid)])
def test_a_split_needs_some_but_not_all_members(ctx, selection, error):
    consultation = str(uuid.uuid4())
    ids = campaign(ctx, consultation, copies=2)
    with pytest.raises(error):
        groups.split_group(ctx, group_of(ctx, ids[0]), ids if selection == "all" else selection, REVIEWER)
    with pytest.raises(NotFound):
        groups.split_group(ctx, "no-such-group", ids[:1], REVIEWER)


def test_merging_moves_every_member_and_removes_the_other_group(ctx):
    consultation = str(uuid.uuid4())
    letters = campaign(ctx, consultation, copies=2)
    others = receive(ctx, consultation, OTHER, OTHER)
    target, other = group_of(ctx, letters[0]), group_of(ctx, others[0])
    assert groups.merge_groups(ctx, target, [other], REVIEWER) == target
    assert all_groups(ctx, consultation) == {target: set(letters + others)}
    with ctx.db.transaction() as session:
        assert session.get(CommentGroup, other) is None and session.get(CommentGroup, target).curated
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "group.merged"))
        assert entry.consultation_id == consultation
        assert entry.details == {"merged": [other], "moved": 2, "automatic": False}


def test_merging_refuses_itself_unknown_groups_and_other_consultations(ctx):
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    here = group_of(ctx, campaign(ctx, one, copies=1)[0])
    there = group_of(ctx, receive(ctx, two, OTHER, OTHER)[0])
    with pytest.raises(Invalid):
        groups.merge_groups(ctx, here, [here], REVIEWER)
    with pytest.raises(NotFound):
        groups.merge_groups(ctx, here, ["nope"], REVIEWER)
    with pytest.raises(Invalid):
        groups.merge_groups(ctx, here, [there], REVIEWER)


def test_merging_a_selection_keeps_the_largest_group_and_of_equals_the_oldest(ctx):
    """The console's "merge selected": the members move into the largest selected group, so the fewest
    comments change group; between groups of one size the one formed first stays."""
    consultation = str(uuid.uuid4())
    small = group_of(ctx, receive(ctx, consultation, OTHER, OTHER)[0])
    large = group_of(ctx, campaign(ctx, consultation, copies=3)[0])
    third = "Wnosimy o wydłużenie terminu składania ofert w otwartym konkursie do co najmniej trzydziestu dni."
    later_small = group_of(ctx, receive(ctx, consultation, third, third)[0])
    assert len({small, large, later_small}) == 3

    assert groups.merge_selection(ctx, [small, later_small, large], REVIEWER) == large
    assert list(all_groups(ctx, consultation)) == [large] and len(all_groups(ctx, consultation)[large]) == 8

    other = str(uuid.uuid4())
    older = group_of(ctx, receive(ctx, other, OTHER, OTHER)[0])
    newer = group_of(ctx, receive(ctx, other, third, third)[0])
    assert groups.merge_selection(ctx, [newer, older], REVIEWER) == older


def test_merging_a_selection_needs_two_known_groups(ctx):
    consultation = str(uuid.uuid4())
    group = group_of(ctx, receive(ctx, consultation, OTHER, OTHER)[0])
    for selection in ([], [" "], [group], [group, f" {group} "]):  # blanks and repeats do not count
        with pytest.raises(Invalid):
            groups.merge_selection(ctx, selection, REVIEWER)
    with pytest.raises(NotFound):
        groups.merge_selection(ctx, [group, "no-such-group"], REVIEWER)
    with pytest.raises(Invalid) as too_many:
        groups.merge_selection(ctx, [f"g-{n}" for n in range(groups.MAX_SELECTION + 1)], REVIEWER)
    assert too_many.value.details == {"json": {"group_ids": ["too many"]}}
    assert {group_id: len(members) for group_id, members in all_groups(ctx, consultation).items()} == {group: 2}


def test_a_split_is_not_undone_by_a_new_copy_that_resembles_both_parts(ctx):
    consultation = str(uuid.uuid4())
    ids = campaign(ctx, consultation, copies=4)
    group_id = group_of(ctx, ids[0])
    outcome = groups.split_group(ctx, group_id, ids[2:], REVIEWER)
    (newcomer,) = receive(ctx, consultation, LETTER)
    assert group_of(ctx, newcomer) in {group_id, outcome.new_group_id}
    assert len(all_groups(ctx, consultation)) == 2


def test_groups_are_listed_largest_first_with_paging(ctx):
    consultation = str(uuid.uuid4())
    letters = campaign(ctx, consultation, copies=3)
    others = receive(ctx, consultation, OTHER, OTHER)
    items, total = groups.list_groups(ctx, consultation_id=consultation, limit=1, offset=0)
    assert total == 2 and [set(i.member_ids) for i in items] == [set(letters)]
    assert items[0].size == 4 and items[0].sample == LETTER and items[0].decided == 0
    items, _ = groups.list_groups(ctx, consultation_id=consultation, limit=1, offset=1)
    assert [set(i.member_ids) for i in items] == [set(others)]
    detail = groups.get_group(ctx, items[0].id)
    assert [m.id for m in detail.members] == items[0].member_ids
    with pytest.raises(NotFound):
        groups.get_group(ctx, "nope")


def decided_events(ctx) -> list[dict]:
    with ctx.db.transaction() as session:
        rows = session.scalars(select(Outbox).where(Outbox.event_type == "comment.decided"))
        return [row.envelope["data"] for row in rows]


def test_one_decision_on_a_group_gives_every_member_its_own_record_and_event(ctx):
    consultation = publish_consultation(ctx, needs_approval=False)
    ids = campaign(ctx, consultation, copies=3)
    (loner,) = receive(ctx, consultation, OTHER)
    outcome = groups.decide_group(ctx, group_of(ctx, ids[0]), "rejected", "Uwaga wykracza poza zakres Programu.",
                                  None, REVIEWER)
    assert sorted(outcome.decided) == sorted(ids)
    with ctx.db.transaction() as session:
        comments = {c.id: c for c in session.scalars(select(ReviewComment))}
        records = list(session.scalars(select(DecisionRecord)))
    assert all(comments[i].decision == "rejected" for i in ids) and comments[loner].decision is None
    assert sorted(r.comment_id for r in records) == sorted(ids)
    events = decided_events(ctx)
    assert sorted(e["comment_id"] for e in events) == sorted(ids)
    assert {e["reference"] for e in events} == {comments[i].reference for i in ids}  # one e-mail per submitter
    items, _ = groups.list_groups(ctx, consultation_id=consultation, limit=10, offset=0)
    assert items[0].decided == len(ids)


def test_a_group_decision_is_validated_and_needs_a_group(ctx):
    consultation = str(uuid.uuid4())
    ids = campaign(ctx, consultation, copies=1)
    with pytest.raises(Invalid):
        groups.decide_group(ctx, group_of(ctx, ids[0]), "rejected", "", None, REVIEWER)
    with pytest.raises(NotFound):
        groups.decide_group(ctx, "nope", "accepted", "", None, REVIEWER)
    assert decided_events(ctx) == []


def test_a_group_decision_is_a_proposal_per_member_when_the_consultation_needs_approval(ctx):
    consultation = publish_consultation(ctx, needs_approval=True)
    ids = campaign(ctx, consultation, copies=2)
    groups.decide_group(ctx, group_of(ctx, ids[0]), "accepted", "", None, REVIEWER)
    with ctx.db.transaction() as session:
        states = {c.approval_state for c in session.scalars(select(ReviewComment).where(ReviewComment.id.in_(ids)))}
    assert states == {"proposed"} and decided_events(ctx) == []


def test_the_sweep_places_comments_that_arrived_before_grouping_existed(ctx):
    consultation = str(uuid.uuid4())
    envelopes = [submission(consultation, proposal)[0] for proposal in (LETTER, LETTER + "!", OTHER, LETTER.upper())]
    without_grouping = InboxDispatcher(ctx.db, Inbox, {"submission.received": [on_submission_received]})
    for envelope in envelopes:
        assert without_grouping.dispatch(parse_envelope(envelope)) == []
    assert all_groups(ctx, consultation) == {}
    assert groups.place_unplaced(ctx, limit=2) == 2  # bounded, oldest first
    assert groups.place_unplaced(ctx) == 2
    assert groups.place_unplaced(ctx) == 0
    (members,) = all_groups(ctx, consultation).values()
    first_ids = [e["data"]["comments"][0]["comment_id"] for e in envelopes]
    assert members == {first_ids[0], first_ids[1], first_ids[3]}
    for envelope in envelopes:  # the grouping handler then finds every comment placed already
        assert deliver(ctx, envelope) == []
    assert list(all_groups(ctx, consultation).values()) == [members]


def test_the_review_worker_runs_the_grouping_sweep():
    from services.review.worker import worker_spec

    assert groups.place_unplaced in worker_spec().sweeps


def test_a_batch_of_submissions_groups_exactly_as_placing_them_one_at_a_time(ctx):
    """The consumer applies a burst of submissions in one transaction (`InboxDispatcher.apply_batch`, grouping
    through `BatchGroupStore`). The groups must be those of the same comments placed one by one, in the same
    order, by the algorithm on its in-memory store: campaign copies, identical rows of one submission, a comment
    that bridges two groups (a merge inside the batch), unrelated ones, an event twice in the batch and one that
    a second batch carries again."""
    from services.review.grouping import MemoryGroupStore

    consultation = str(uuid.uuid4())
    # Two campaigns on the letter, each with a sentence of its own (too far apart to be one group), and the bare
    # letter, near enough to both to merge them.
    first = LETTER + " Dodatkowo prosimy o uproszczenie wniosków i sprawozdań rocznych."
    second = LETTER + " Ponadto wnioskujemy o dłuższy termin rozliczenia dotacji celowych."
    texts = [[first], [first + " Pozdrawiam."], [OTHER, OTHER + "!"], [second], ["Zupełnie inna uwaga o terminach."],
             [second + " Pozdrawiam."], [LETTER], [LETTER.replace("małe granty", "granty małe")], [OTHER.upper()],
             [first]]
    envelopes, comment_ids = [], []
    for proposals in texts:
        envelope, ids = submission(consultation, *proposals)
        envelopes.append(envelope)
        comment_ids += ids
    dispatcher = InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS)
    events = [parse_envelope(e) for e in envelopes]
    dispatcher.apply_batch(events[:7] + [events[2]])  # the same event twice in one batch
    dispatcher.apply_batch([events[6]] + events[7:])  # one the first batch applied already

    memory = MemoryGroupStore()
    merges = [memory.add(item["comment_id"], item["proposal"], item["justification"]).merged
              for envelope in envelopes for item in envelope["data"]["comments"]]
    assert any(merges)  # the bare letter merged the two campaigns formed in the same batch
    expected = {}
    for comment_id in comment_ids:
        if comment_id in memory.group_of:
            expected.setdefault(memory.group_of[comment_id], set()).add(comment_id)
    found = all_groups(ctx, consultation)
    assert sorted(map(sorted, found.values())) == sorted(map(sorted, expected.values()))
    assert len(found) >= 2  # the case has groups to compare
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(GroupFingerprint)) == len(comment_ids)
        assert session.scalar(select(func.count()).select_from(ReviewComment)) == len(comment_ids)
        handlers = len(EVENT_HANDLERS["submission.received"])
        assert session.scalar(select(func.count()).select_from(Inbox)) == handlers * len(envelopes)
