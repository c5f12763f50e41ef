"""Duplicate and campaign groups: placing new comments, reading groups, splitting and merging them by hand.

The algorithm is `services.review.grouping`; this module is its database side (`SqlGroupStore`) and the use
cases around it. Grouping of one consultation is serialised: on PostgreSQL by a transaction-scoped advisory
lock, so several workers placing comments of the same campaign at once still agree on one group; SQLite
serialises writers by itself.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from services.common.auth import StaffIdentity
from services.common.bus import TransientError, handles_many
from services.common.db import among
from services.common.events import Event
from services.common.runtime import ServiceContext
from services.common.web import Invalid, NotFound
from services.review import approval, audit, decisions, grouping
from services.review.grouping import GroupRef
from services.review.models import (CommentGroup, ConsultationRef, GroupBucket, GroupFingerprint, ReviewComment,
                                    StandardJustification)

MAX_SELECTION = 1000


def lock_consultation_groups(session: Session, consultation_id: str) -> None:
    """Serialise grouping work on one consultation until the transaction ends (PostgreSQL; SQLite needs none)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.blake2b(f"groups:{consultation_id}".encode(), digest_size=8).digest(), "big",
                         signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


class SqlGroupStore:
    """`grouping.GroupStore` on review's tables, within one consultation and the caller's transaction."""

    def __init__(self, session: Session, consultation_id: str, *, actor: str = "grouping"):
        self.session = session
        self.consultation_id = consultation_id
        self.actor = actor

    def find_identical(self, key: str) -> str | None:
        return self.session.scalar(select(GroupFingerprint.comment_id).where(
            GroupFingerprint.consultation_id == self.consultation_id, GroupFingerprint.exact_key == key).limit(1))

    def bucket_members(self, buckets: Sequence[int]) -> Mapping[int, Sequence[str]]:
        members: dict[int, list[str]] = {}
        rows = self.session.execute(select(GroupBucket.bucket, GroupBucket.comment_id).where(
            GroupBucket.consultation_id == self.consultation_id, among(self.session, GroupBucket.bucket, buckets)))
        for bucket, comment_id in rows:
            members.setdefault(bucket, []).append(comment_id)
        return members

    def shingles_of(self, comment_ids: Sequence[str]) -> Mapping[str, frozenset[str]]:
        rows = self.session.execute(select(ReviewComment.id, ReviewComment.proposal, ReviewComment.justification)
                                    .where(among(self.session, ReviewComment.id, comment_ids)))
        return {comment_id: grouping.shingles(grouping.normalise(grouping.comment_text(proposal, justification)))
                for comment_id, proposal, justification in rows}

    def groups_of(self, comment_ids: Sequence[str]) -> Mapping[str, GroupRef | None]:
        rows = self.session.execute(
            select(ReviewComment.id, CommentGroup.id, CommentGroup.curated)
            .outerjoin(CommentGroup, CommentGroup.id == ReviewComment.group_id)
            .where(among(self.session, ReviewComment.id, comment_ids)))
        return {comment_id: GroupRef(group_id, bool(curated)) if group_id else None
                for comment_id, group_id, curated in rows}

    def remember(self, comment_id: str, key: str, buckets: Sequence[int]) -> None:
        self.session.add(GroupFingerprint(comment_id=comment_id, consultation_id=self.consultation_id, exact_key=key))
        if buckets:
            self.session.execute(insert(GroupBucket), [
                {"consultation_id": self.consultation_id, "bucket": bucket, "comment_id": comment_id}
                for bucket in dict.fromkeys(buckets)])

    def create_group(self, member_ids: Sequence[str]) -> str:
        group = CommentGroup(id=str(uuid.uuid4()), consultation_id=self.consultation_id, curated=False)
        self.session.add(group)
        self.session.flush()
        self._set_group(member_ids, group.id)
        return group.id

    def join(self, comment_id: str, group_id: str) -> None:
        self._set_group([comment_id], group_id)

    def join_many(self, comment_ids: Sequence[str], group_id: str) -> None:
        self._set_group(comment_ids, group_id)

    def merge(self, into: str, others: Sequence[str]) -> None:
        moved = self.session.execute(update(ReviewComment).where(ReviewComment.group_id.in_(list(others)))
                                     .values(group_id=into).execution_options(synchronize_session=False)).rowcount
        self.session.execute(delete(CommentGroup).where(CommentGroup.id.in_(list(others))))
        audit.record(self.session, self.actor, "group.merged", into, consultation_id=self.consultation_id,
                     merged=list(others), moved=moved, automatic=True)

    def _set_group(self, comment_ids: Sequence[str], group_id: str | None) -> None:
        self.session.execute(update(ReviewComment).where(among(self.session, ReviewComment.id, comment_ids))
                             .values(group_id=group_id).execution_options(synchronize_session=False))


# --- placing new comments (event handler) ------------------------------------------------------------------


def place_new_comments(events: Sequence[Event], session: Session) -> None:
    """`group_new_comments` for many events: each consultation locked once, and its comments placed in arrival
    order through a `BatchGroupStore`, which reads the fingerprints and buckets they need in a few queries and
    writes what they change at the end."""
    by_consultation: dict[str, list[tuple[str, grouping.Fingerprint]]] = {}
    for event in events:
        data = event.data
        placements = by_consultation.setdefault(data["consultation_id"], [])
        placements.extend((item["comment_id"], grouping.fingerprint(item["proposal"], item.get("justification") or ""))
                          for item in data["comments"])
    for consultation_id in sorted(by_consultation):  # one order for every worker: no deadlock between locks
        lock_consultation_groups(session, consultation_id)
    ids = [comment_id for placements in by_consultation.values() for comment_id, _ in placements]
    session.flush()
    stored = set(session.scalars(select(ReviewComment.id).where(among(session, ReviewComment.id, ids))))
    missing = [comment_id for comment_id in ids if comment_id not in stored]
    if missing:
        raise TransientError(f"comment {missing[0]} is not in review's read model yet")
    placed = set(session.scalars(select(GroupFingerprint.comment_id).where(
        among(session, GroupFingerprint.comment_id, ids))))
    for consultation_id, placements in by_consultation.items():
        todo: dict[str, grouping.Fingerprint] = {}
        for comment_id, fp in placements:
            if comment_id not in placed:  # a redelivery, a replay, or the sweep came first
                todo.setdefault(comment_id, fp)
        if not todo:
            continue
        store = BatchGroupStore(SqlGroupStore(session, consultation_id), todo)
        for comment_id, fp in todo.items():
            grouping.assign(store, comment_id, fp)
        store.flush()


@handles_many(place_new_comments)
def group_new_comments(event: Event, session: Session) -> None:
    """`submission.received`: place each new comment in its group. Runs after the comments are in the read model.

    The fingerprints (the CPU work) are computed before the consultation's lock is taken, so several consumers
    compute them in parallel and only the placement itself is serialised.
    """
    place_new_comments([event], session)


class BatchGroupStore:
    """`SqlGroupStore` for placing many comments of one consultation in one transaction.

    It reads at the start, in one query each, the fingerprints with the comments' exact keys and the members of
    their buckets, and keeps whatever else it reads. Reads see the batch's own changes. Fingerprints, buckets and
    group memberships are written by `flush`, in one statement each (one per group for memberships); groups are
    created and merged at once, as `SqlGroupStore` does, after the memberships waiting so far are written.
    """

    def __init__(self, store: SqlGroupStore, prints: Mapping[str, grouping.Fingerprint]):
        self.store = store
        session, consultation_id = store.session, store.consultation_id
        keys = sorted({fp.exact_key for fp in prints.values()})
        self.identical: dict[str, str] = {}
        for key, comment_id in session.execute(
                select(GroupFingerprint.exact_key, GroupFingerprint.comment_id)
                .where(GroupFingerprint.consultation_id == consultation_id,
                       among(session, GroupFingerprint.exact_key, keys))):
            self.identical.setdefault(key, comment_id)
        buckets = sorted({bucket for fp in prints.values() for bucket in fp.buckets})
        self.members: dict[int, list[str]] = {bucket: [] for bucket in buckets}
        for bucket, members in (store.bucket_members(buckets) if buckets else {}).items():
            self.members[bucket] = list(members)
        # The new comments' shingles are their fingerprints' (the same text, the same function).
        self.shingles: dict[str, frozenset] = {comment_id: fp.shingles for comment_id, fp in prints.items()}
        self.groups: dict[str, GroupRef | None] = {}
        self.curated: dict[str, bool] = {}
        self._fingerprints: list[dict] = []
        self._buckets: list[dict] = []
        self._joins: dict[str, str] = {}

    def find_identical(self, key: str) -> str | None:
        return self.identical.get(key)

    def bucket_members(self, buckets: Sequence[int]) -> Mapping[int, Sequence[str]]:
        unknown = [bucket for bucket in buckets if bucket not in self.members]
        if unknown:
            fetched = self.store.bucket_members(unknown)
            for bucket in unknown:
                self.members[bucket] = list(fetched.get(bucket, ()))
        return {bucket: self.members[bucket] for bucket in buckets if self.members[bucket]}

    def shingles_of(self, comment_ids: Sequence[str]) -> Mapping[str, frozenset]:
        unknown = [comment_id for comment_id in comment_ids if comment_id not in self.shingles]
        if unknown:
            self.shingles.update(self.store.shingles_of(unknown))
        return {comment_id: self.shingles[comment_id] for comment_id in comment_ids if comment_id in self.shingles}

    def groups_of(self, comment_ids: Sequence[str]) -> Mapping[str, GroupRef | None]:
        unknown = [comment_id for comment_id in comment_ids if comment_id not in self.groups]
        if unknown:
            for comment_id, group in self.store.groups_of(unknown).items():
                self.groups[comment_id] = group
                if group is not None:
                    self.curated[group.id] = group.curated
        return {comment_id: self.groups.get(comment_id) for comment_id in comment_ids}

    def remember(self, comment_id: str, key: str, buckets: Sequence[int]) -> None:
        self.identical.setdefault(key, comment_id)
        self._fingerprints.append({"comment_id": comment_id, "consultation_id": self.store.consultation_id,
                                   "exact_key": key})
        for bucket in dict.fromkeys(buckets):
            self.members.setdefault(bucket, []).append(comment_id)
            self._buckets.append({"consultation_id": self.store.consultation_id, "bucket": bucket,
                                  "comment_id": comment_id})

    def create_group(self, member_ids: Sequence[str]) -> str:
        self._write_joins()
        group_id = self.store.create_group(member_ids)
        self.curated[group_id] = False
        for comment_id in member_ids:
            self.groups[comment_id] = GroupRef(group_id, False)
        return group_id

    def join(self, comment_id: str, group_id: str) -> None:
        self._joins[comment_id] = group_id
        self.groups[comment_id] = GroupRef(group_id, self.curated.get(group_id, False))

    def merge(self, into: str, others: Sequence[str]) -> None:
        self._write_joins()
        self.store.merge(into, others)
        merged = GroupRef(into, self.curated.get(into, False))
        for comment_id, group in self.groups.items():
            if group is not None and group.id in others:
                self.groups[comment_id] = merged

    def flush(self) -> None:
        session = self.store.session
        if self._fingerprints:
            session.execute(insert(GroupFingerprint.__table__), self._fingerprints)
        if self._buckets:
            session.execute(insert(GroupBucket.__table__), self._buckets)
        self._fingerprints, self._buckets = [], []
        self._write_joins()

    def _write_joins(self) -> None:
        by_group: dict[str, list[str]] = {}
        for comment_id, group_id in self._joins.items():
            by_group.setdefault(group_id, []).append(comment_id)
        self._joins = {}
        for group_id, comment_ids in by_group.items():
            self.store.join_many(comment_ids, group_id)


def ungroup_comment(session: Session, comment: ReviewComment) -> None:
    """Take a comment whose text changed (a transcription) out of its group, so `group_new_comments` places it
    again by its new text."""
    session.execute(delete(GroupBucket).where(GroupBucket.consultation_id == comment.consultation_id,
                                              GroupBucket.comment_id == comment.id))
    session.execute(delete(GroupFingerprint).where(GroupFingerprint.comment_id == comment.id))
    comment.group_id = None
    session.flush()


def _place(session: Session, store: SqlGroupStore, comment_id: str, fp: grouping.Fingerprint) -> bool:
    """Place one comment unless it is placed already (a redelivery, a replay, or the sweep came first)."""
    if session.get(GroupFingerprint, comment_id) is not None:
        return False
    grouping.assign(store, comment_id, fp)
    session.flush()
    return True


def place_unplaced(ctx: ServiceContext, *, limit: int = 500) -> int:
    """Sweep: place comments that have no fingerprint yet, oldest first; return how many were placed.

    Comments that arrived before grouping existed are placed this way, and nothing depends on the
    event handler alone. Each consultation is placed in one transaction under its grouping lock.
    """
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(ReviewComment.id, ReviewComment.consultation_id)
            .outerjoin(GroupFingerprint, GroupFingerprint.comment_id == ReviewComment.id)
            .where(GroupFingerprint.comment_id.is_(None)).order_by(*_member_order()).limit(limit)).all()
    pending: dict[str, list[str]] = {}
    for comment_id, consultation_id in rows:
        pending.setdefault(consultation_id, []).append(comment_id)
    placed = 0
    for consultation_id, comment_ids in pending.items():
        with ctx.transaction() as session:
            lock_consultation_groups(session, consultation_id)
            store = SqlGroupStore(session, consultation_id)
            texts = session.execute(select(ReviewComment.id, ReviewComment.proposal, ReviewComment.justification)
                                    .where(ReviewComment.id.in_(comment_ids)).order_by(*_member_order())).all()
            placed += sum(_place(session, store, comment_id, grouping.fingerprint(proposal, justification or ""))
                          for comment_id, proposal, justification in texts)
    return placed


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSummary:
    id: str
    consultation_id: str
    created_at: datetime
    curated: bool
    size: int
    member_ids: list[str]
    sample: str  # the first member's proposal, so a list of groups can be read
    decided: int  # members with a decision


def _member_order() -> tuple:
    return (ReviewComment.received_at, ReviewComment.reference, ReviewComment.number)


def _summaries(session: Session, groups: Sequence[CommentGroup]) -> list[GroupSummary]:
    """Sizes, member ids and a sample per group, reading only the columns that need."""
    members: dict[str, list[str]] = {g.id: [] for g in groups}
    decided: dict[str, int] = {g.id: 0 for g in groups}
    rows = session.execute(select(ReviewComment.id, ReviewComment.group_id, ReviewComment.decision)
                           .where(ReviewComment.group_id.in_(list(members))).order_by(*_member_order()))
    for comment_id, group_id, decision in rows:
        members[group_id].append(comment_id)
        decided[group_id] += decision is not None
    firsts = [ids[0] for ids in members.values() if ids]
    samples = {comment_id: proposal for comment_id, proposal in session.execute(
        select(ReviewComment.id, ReviewComment.proposal).where(ReviewComment.id.in_(firsts)))}
    return [GroupSummary(id=g.id, consultation_id=g.consultation_id, created_at=g.created_at, curated=g.curated,
                         size=len(members[g.id]), member_ids=members[g.id],
                         sample=samples.get(members[g.id][0], "") if members[g.id] else "", decided=decided[g.id])
            for g in groups]


def list_groups(ctx: ServiceContext, *, consultation_id: str | None, limit: int, offset: int
                ) -> tuple[list[GroupSummary], int]:
    """Groups, largest first, with their member ids."""
    with ctx.db.transaction() as session:
        sizes = (select(ReviewComment.group_id, func.count().label("size"))
                 .where(ReviewComment.group_id.is_not(None)).group_by(ReviewComment.group_id).subquery())
        query = select(CommentGroup).join(sizes, sizes.c.group_id == CommentGroup.id)
        if consultation_id:
            query = query.where(CommentGroup.consultation_id == consultation_id)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        groups = list(session.scalars(query.order_by(sizes.c.size.desc(), CommentGroup.created_at, CommentGroup.id)
                                      .limit(limit).offset(offset)))
        return _summaries(session, groups), total


@dataclass(frozen=True)
class GroupDetail:
    summary: GroupSummary
    members: list[ReviewComment]  # one page of them, oldest first


def get_group(ctx: ServiceContext, group_id: str, *, limit: int = 100, offset: int = 0) -> GroupDetail:
    with ctx.db.transaction() as session:
        group = session.get(CommentGroup, group_id)
        if group is None:
            raise NotFound("no such group")
        (summary,) = _summaries(session, [group])
        members = list(session.scalars(select(ReviewComment).where(ReviewComment.group_id == group_id)
                                       .order_by(*_member_order()).limit(limit).offset(offset)))
        session.expunge_all()
        return GroupDetail(summary, members)


# --- by hand ---------------------------------------------------------------------------------------------------


def _selection(comment_ids: Sequence[str], what: str) -> list[str]:
    ids = list(dict.fromkeys(str(c).strip() for c in comment_ids if str(c).strip()))
    if not ids:
        raise Invalid(f"select at least one {what}", details={"json": {f"{what}_ids": ["empty selection"]}})
    if len(ids) > MAX_SELECTION:
        raise Invalid(f"at most {MAX_SELECTION} at once", details={"json": {f"{what}_ids": ["too many"]}})
    return ids


@dataclass(frozen=True)
class SplitOutcome:
    group_id: str | None  # what is left of the group (None: dissolved, one comment is not a group)
    new_group_id: str | None  # the group of the selected comments (None: a single comment left on its own)


def split_group(ctx: ServiceContext, group_id: str, comment_ids: Sequence[str], staff: StaffIdentity) -> SplitOutcome:
    """Move the selected members out into a group of their own. Both parts become curated."""
    selected = _selection(comment_ids, "comment")
    with ctx.transaction() as session:
        group = session.get(CommentGroup, group_id)
        if group is None:
            raise NotFound("no such group")
        lock_consultation_groups(session, group.consultation_id)
        members = list(session.scalars(select(ReviewComment.id).where(ReviewComment.group_id == group_id)))
        strangers = sorted(set(selected) - set(members))
        if strangers:
            raise Invalid("some selected comments are not members of this group",
                          details={"json": {"comment_ids": strangers[:50]}})
        rest = [m for m in members if m not in set(selected)]
        if not rest:
            raise Invalid("select some members, not all of them: the rest stays in the group",
                          details={"json": {"comment_ids": ["all members selected"]}})
        store = SqlGroupStore(session, group.consultation_id, actor=staff.email)
        new_group_id = None
        if len(selected) > 1:
            new_group_id = store.create_group(selected)
            session.get(CommentGroup, new_group_id).curated = True
        else:
            store._set_group(selected, None)
        kept_id: str | None = group_id
        if len(rest) == 1:
            store._set_group(rest, None)
            session.delete(group)
            kept_id = None
        else:
            group.curated = True
        audit.record(session, staff, "group.split", group_id, consultation_id=group.consultation_id,
                     before={"size": len(members)}, after={"size": len(rest) if kept_id else 0},
                     moved=selected, new_group_id=new_group_id, dissolved=kept_id is None)
    return SplitOutcome(kept_id, new_group_id)


def merge_groups(ctx: ServiceContext, group_id: str, other_ids: Sequence[str], staff: StaffIdentity) -> str:
    """Move every member of the other groups into this one; the others disappear. The result is curated."""
    others = [g for g in _selection(other_ids, "group") if g != group_id]
    if not others:
        raise Invalid("choose another group to merge with", details={"json": {"group_ids": ["same group"]}})
    with ctx.transaction() as session:
        group = session.get(CommentGroup, group_id)
        if group is None:
            raise NotFound("no such group")
        lock_consultation_groups(session, group.consultation_id)
        found = {g.id: g for g in session.scalars(select(CommentGroup).where(CommentGroup.id.in_(others)))}
        missing = sorted(set(others) - set(found))
        if missing:
            raise NotFound(f"no such group: {', '.join(missing[:10])}")
        foreign = sorted(g.id for g in found.values() if g.consultation_id != group.consultation_id)
        if foreign:
            raise Invalid("groups of different consultations cannot be merged",
                          details={"json": {"group_ids": foreign}})
        moved = session.execute(update(ReviewComment).where(ReviewComment.group_id.in_(others))
                                .values(group_id=group_id).execution_options(synchronize_session=False)).rowcount
        session.execute(delete(CommentGroup).where(CommentGroup.id.in_(others)))
        group.curated = True
        audit.record(session, staff, "group.merged", group_id, consultation_id=group.consultation_id,
                     merged=others, moved=moved, automatic=False)
    return group_id


# --- one decision for the whole group -----------------------------------------------------------------------


@dataclass(frozen=True)
class GroupDecisionOutcome:
    group_id: str
    decided: list[str]


def decide_group(ctx: ServiceContext, group_id: str, decision: str, justification: str, final_text: str | None,
                 staff: StaffIdentity, *, approve: bool | None = None,
                 standard_justification_id: int | None = None) -> GroupDecisionOutcome:
    """One decision applied to every member; each member keeps its own revision, event and e-mail.

    Up to `decisions.MAX_BULK` members this is one transaction. A larger campaign is decided in chunks of that
    size, each all or nothing; repeating the call after a failure decides the same way again (a new revision).
    """
    with ctx.db.transaction() as session:
        if session.get(CommentGroup, group_id) is None:
            raise NotFound("no such group")
        member_ids = list(session.scalars(select(ReviewComment.id).where(ReviewComment.group_id == group_id)
                                          .order_by(ReviewComment.received_at, ReviewComment.id)))
    decided: list[str] = []
    for start in range(0, len(member_ids), decisions.MAX_BULK):
        comments = decisions.decide_many(ctx, member_ids[start:start + decisions.MAX_BULK], decision, justification,
                                         final_text, staff, approve=approve,
                                         standard_justification_id=standard_justification_id, group_id=group_id)
        decided.extend(c.id for c in comments)
    return GroupDecisionOutcome(group_id, decided)


# --- what the console pages need -------------------------------------------------------------------------------


def merge_selection(ctx: ServiceContext, group_ids: Sequence[str], staff: StaffIdentity) -> str:
    """Merge the selected groups into the largest of them (the oldest of equals); return its id."""
    selected = _selection(group_ids, "group")
    if len(selected) < 2:
        raise Invalid("select at least two groups to merge", details={"json": {"group_ids": ["one group"]}})
    with ctx.db.transaction() as session:
        sizes = {group_id: size for group_id, size in session.execute(
            select(ReviewComment.group_id, func.count()).where(ReviewComment.group_id.in_(selected))
            .group_by(ReviewComment.group_id))}
        found = list(session.scalars(select(CommentGroup).where(CommentGroup.id.in_(selected))))
    if len(found) < len(selected):
        raise NotFound("no such group")
    target = min(found, key=lambda g: (-sizes.get(g.id, 0), g.created_at, g.id))
    return merge_groups(ctx, target.id, [g for g in selected if g != target.id], staff)


@dataclass(frozen=True)
class GroupPage:
    detail: GroupDetail
    consultation_title: str
    needs_approval: bool
    standards: list
    neighbours: list[GroupSummary]  # other groups of the consultation, largest first, to merge with
    proposed: int  # members whose decision awaits a coordinator's approval


def group_page(ctx: ServiceContext, group_id: str, *, limit: int = 100, offset: int = 0,
               neighbours: int = 50) -> GroupPage:
    detail = get_group(ctx, group_id, limit=limit, offset=offset)
    consultation_id = detail.summary.consultation_id
    with ctx.db.transaction() as session:
        consultation = session.get(ConsultationRef, consultation_id)
        standards = list(session.scalars(select(StandardJustification).where(
            StandardJustification.consultation_id == consultation_id, StandardJustification.active.is_(True))
            .order_by(StandardJustification.title, StandardJustification.id)))
        proposed = session.scalar(select(func.count()).where(ReviewComment.group_id == group_id,
                                                             ReviewComment.approval_state == approval.PROPOSED))
        session.expunge_all()
    others, _ = list_groups(ctx, consultation_id=consultation_id, limit=neighbours + 1, offset=0)
    return GroupPage(detail, consultation.title if consultation else consultation_id,
                     consultation.decisions_need_approval if consultation else True, standards,
                     [g for g in others if g.id != group_id][:neighbours], proposed or 0)
