"""The triage queue: its filters as an object of their own, remembered per staff member, and its paged query.

Like Indico's `lists.py`, a view never scatters query-string parsing over its
body: it asks for the `QueueFilters` of the request (new ones are validated by
`schemas.QueueFilterArgs` and remembered; none given means the remembered ones),
then for a `QueuePage`. "Mine first" pages over two index-backed queries (the
viewer's comments, then the others) instead of sorting every row by a CASE
expression, so the first page stays cheap at 100,000 comments
(bench/triage_queue.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping, Sequence

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.review.models import QueueFilterPreference, ReviewComment
from services.review.search import query_words, search_for_session

UNASSIGNED = "none"
PER_PAGE_CHOICES = (25, 50, 100, 200)
DEFAULT_PER_PAGE = 50
MAX_PAGE = 10_000
SEARCH_COUNT_CAP = 5_000

_C = ReviewComment
# Each sort ends in unique columns, so paging is stable; each has its index (models.ReviewComment).
SORTS: dict[str, tuple[Any, ...]] = {
    "received": (_C.received_at, _C.reference, _C.number),
    "-received": (_C.received_at.desc(), _C.reference.desc(), _C.number.desc()),
    "reference": (_C.reference, _C.number),
    "-reference": (_C.reference.desc(), _C.number.desc()),
    "status": (_C.status, _C.received_at, _C.reference, _C.number),
    "assignee": (_C.assignee, _C.received_at, _C.reference, _C.number),
    "chapter": (_C.chapter_id, _C.received_at, _C.reference, _C.number),
}
DEFAULT_SORT = "received"


@dataclass(frozen=True)
class QueueFilters:
    """What a staff member asked the queue for. Every field unset (None/False) means "any"."""

    consultation: str | None = None
    status: str | None = None
    topic: str | None = None
    channel: str | None = None
    unit: str | None = None  # a unit or a chapter: the unit and everything beneath it
    assignee: str | None = None  # an e-mail, or UNASSIGNED
    late: bool | None = None
    group: str | None = None
    q: str | None = None
    mine: bool = False
    sort: str = DEFAULT_SORT

    def to_dict(self) -> dict[str, Any]:
        """Only what differs from the defaults: what is stored and what goes into links."""
        defaults = QueueFilters()
        return {k: v for k, v in asdict(self).items() if v != getattr(defaults, k)}

    @property
    def active_count(self) -> int:
        return len([k for k in self.to_dict() if k not in ("sort", "consultation")])

    def without(self, *names: str) -> "QueueFilters":
        return replace(self, **{name: getattr(QueueFilters(), name) for name in names})

    def query_args(self) -> dict[str, str]:
        """As query-string arguments (booleans as 1/0), for links that keep the filters."""
        args: dict[str, str] = {}
        for key, value in self.to_dict().items():
            args[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return args

    @classmethod
    def from_loaded(cls, data: Mapping[str, Any]) -> "QueueFilters":
        """From a mapping that has passed `schemas.QueueFilterArgs` (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names and v is not None and v != ""})


FILTER_NAMES = tuple(f.name for f in fields(QueueFilters))


@dataclass(frozen=True)
class QueuePage:
    items: Sequence[ReviewComment]
    total: int
    page: int
    per_page: int
    mine_total: int = 0
    filters: QueueFilters = field(default_factory=QueueFilters)
    capped: bool = False  # more than `total` match (a broad text search stops counting)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


# --- remembering filters per user ----------------------------------------------


def remembered_filters(session: Session, user_id: str, loader: Any) -> QueueFilters:
    """The user's stored filters, re-validated by `loader` (a schema's load); invalid ones are forgotten."""
    row = session.get(QueueFilterPreference, user_id)
    if row is None or not row.filters:
        return QueueFilters()
    try:
        return QueueFilters.from_loaded(loader(row.filters))
    except Exception:  # a stored filter that no longer validates (e.g. a removed sort) is dropped, not fatal
        return QueueFilters()


def remember_filters(session: Session, user_id: str, filters: QueueFilters) -> None:
    row = session.get(QueueFilterPreference, user_id)
    if row is None:
        row = QueueFilterPreference(user_id=user_id)
        session.add(row)
    row.filters = filters.to_dict()
    row.updated_at = utcnow()


def forget_filters(session: Session, user_id: str) -> None:
    row = session.get(QueueFilterPreference, user_id)
    if row is not None:
        session.delete(row)


# --- the query -------------------------------------------------------------------


def unit_condition(session: Session, consultation_id: str | None, unit_id: str) -> ColumnElement:
    """Comments anchored to `unit_id` or anywhere beneath it in the consultation's draft.

    A chapter is one indexed column (every comment knows its chapter); another unit is the set of its
    descendants, read from the draft's units.
    """
    from services.review.drafts import draft_units

    units = draft_units(session, consultation_id) if consultation_id else []
    if any(unit.unit_id == unit_id and unit.chapter_id == unit_id for unit in units):
        return ReviewComment.chapter_id == unit_id
    children: dict[str | None, list[str]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit.unit_id)
    found, todo = [], [unit_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return ReviewComment.unit_id.in_(found)


def group_condition(group_id: str) -> ColumnElement:
    """Comments in duplicate group `group_id` (services/review/grouping.py places them)."""
    return ReviewComment.group_id == group_id


def conditions(session: Session, filters: QueueFilters, me: str | None) -> list[ColumnElement]:
    """The WHERE clauses of `filters`."""
    where: list[ColumnElement] = []
    if filters.consultation:
        where.append(ReviewComment.consultation_id == filters.consultation)
    if filters.status:
        where.append(ReviewComment.status == filters.status)
    if filters.topic:
        where.append(ReviewComment.topic == filters.topic)
    if filters.channel:
        where.append(ReviewComment.channel == filters.channel)
    if filters.unit:
        where.append(unit_condition(session, filters.consultation, filters.unit))
    if filters.assignee == UNASSIGNED:
        where.append(ReviewComment.assignee.is_(None))
    elif filters.assignee:
        where.append(ReviewComment.assignee == filters.assignee)
    if filters.late is not None:
        where.append(ReviewComment.late.is_(filters.late))
    if filters.group:
        where.append(group_condition(filters.group))
    if filters.mine:
        where.append(ReviewComment.assignee == (me or ""))
    words = query_words(filters.q)
    if words:
        where.append(search_for_session(session).matches(ReviewComment.id, words))
    return where


def filtered(session: Session, filters: QueueFilters, me: str | None) -> Select:
    """The comments matching `filters`, unordered."""
    return select(ReviewComment).where(*conditions(session, filters, me))


def _count(session: Session, where: list[ColumnElement], cap: int | None = None) -> int:
    """How many comments match; with `cap`, counting stops at cap + 1 (a broad text search need not read them all)."""
    if cap is None:
        return session.scalar(select(func.count()).select_from(ReviewComment).where(*where)) or 0
    matches = select(ReviewComment.id).where(*where).limit(cap + 1).subquery()
    return session.scalar(select(func.count()).select_from(matches)) or 0


def _rows(session: Session, where: list[ColumnElement], sort: str, limit: int, offset: int) -> list[ReviewComment]:
    """One slice in `sort` order. The ids come first, from the sort's index alone (no table rows are read
    for the skipped ones), then only the slice's rows: deep pages stay cheap."""
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])
    ids = select(ReviewComment.id).where(*where).order_by(*order).limit(limit).offset(offset)
    return list(session.scalars(select(ReviewComment).where(ReviewComment.id.in_(ids)).order_by(*order)))


def _split_by_owner(where: list[ColumnElement], me: str) -> tuple[list[ColumnElement], list[ColumnElement]]:
    mine = [*where, ReviewComment.assignee == me]
    others = [*where, or_(ReviewComment.assignee.is_(None), ReviewComment.assignee != me)]
    return mine, others


def load_page(session: Session, filters: QueueFilters, *, me: str | None, page: int = 1,
              per_page: int = DEFAULT_PER_PAGE, mine_first: bool = True) -> QueuePage:
    """One page of the queue. With `mine_first`, the viewer's own comments come before all others."""
    page = min(max(page, 1), MAX_PAGE)
    per_page = per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE
    offset = (page - 1) * per_page
    where = conditions(session, filters, me)
    # Every other filter is answered from an index; a text search matching most of the queue is not,
    # so its count stops at SEARCH_COUNT_CAP ("more than 5,000") and so do its pages.
    cap = SEARCH_COUNT_CAP if query_words(filters.q) else None
    total = _count(session, where, cap)
    capped = cap is not None and total > cap
    total = min(total, cap) if capped and cap is not None else total
    if not (mine_first and me) or filters.mine:
        items = _rows(session, where, filters.sort, per_page, offset) if offset < total else []
        return QueuePage(items, total, page, per_page, total if filters.mine else 0, filters, capped)
    mine, others = _split_by_owner(where, me)
    mine_total = min(_count(session, mine, cap), total)
    items = []
    if offset < mine_total:
        items = _rows(session, mine, filters.sort, per_page, offset)
    remaining = per_page - len(items)
    if remaining > 0 and offset + len(items) < total:
        items += _rows(session, others, filters.sort, remaining, max(0, offset - mine_total))
    return QueuePage(items, total, page, per_page, mine_total, filters, capped)


def comment_at(session: Session, filters: QueueFilters, *, me: str | None, position: int,
               mine_first: bool = True) -> ReviewComment | None:
    """The comment at 0-based `position` of the queue (for next/previous), or None beyond either end."""
    if position < 0 or position >= MAX_PAGE * max(PER_PAGE_CHOICES):
        return None
    where = conditions(session, filters, me)
    if not (mine_first and me) or filters.mine:
        found = _rows(session, where, filters.sort, 1, position)
        return found[0] if found else None
    mine, others = _split_by_owner(where, me)
    mine_total = _count(session, mine)
    found = (_rows(session, mine, filters.sort, 1, position) if position < mine_total
             else _rows(session, others, filters.sort, 1, position - mine_total))
    return found[0] if found else None
