"""The draft's units in review's read model, and where each comment is anchored.

Documents announces every version with `document.version_created` (its units,
with their texts since the contract's additive `text`/`parent` keys). Review
keeps every announced version's units and remembers, per consultation, the
draft the comments are about: the latest *uploaded* version (no parent version);
versions built from decisions come after the comments and do not replace it.

A comment names the part it concerns in free text ("§ 5 ust. 2 pkt 2"). It is
anchored to the unit whose label that text starts with (the longest such
label), so "§ 1" never captures "§ 10"; an annex's labels count with and without
their "Załącznik" prefix, since people cite the programme, not the resolution.
Reviewers re-anchor what this misses.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.common.events import Event
from services.review.models import ConsultationDraft, DraftUnit, ReviewComment
from services.review.search import fold

_SPACES = re.compile(r"[\s\u00a0]+")


def _label_key(text: str) -> str:
    return _SPACES.sub("", text).casefold().rstrip(".:;,")


def chapters_of(units: Sequence[Mapping]) -> dict[str, str]:
    """Unit id -> id of its chapter: the nearest enclosing (or own) unit of kind "chapter", else the topmost
    ancestor (itself for a top-level unit). An annex's chapters are chapters, not the whole annex."""
    parent = {u["id"]: u.get("parent") for u in units}
    kind = {u["id"]: u.get("kind") for u in units}
    chapter: dict[str, str] = {}
    for unit_id in parent:
        current, seen = unit_id, set()
        while kind.get(current) != "chapter" and parent.get(current) and current not in seen:
            seen.add(current)
            current = parent[current]
        chapter[unit_id] = current
    return chapter


_ANNEX_PREFIX = re.compile(r"^za[łl][aą]cznik(?:nr[0-9a-z]+)?", re.IGNORECASE)


def _label_keys(label: str) -> set[str]:
    """How a label may be written: "Załącznik § 5 ust. 2" also as "§ 5 ust. 2" (people cite the programme)."""
    key = _label_key(label)
    keys = {key} if key else set()
    bare = _ANNEX_PREFIX.sub("", key)
    if bare and bare != key:
        keys.add(bare)
    return keys


def _starts_with(hint: str, key: str) -> bool:
    if not hint.startswith(key):
        return False
    rest = hint[len(key):]
    # "§ 1" is not "§ 10", "lit. a" is not "lit. ab"
    return not (rest[:1].isdecimal() and key[-1:].isdecimal() or rest[:1].isalpha() and key[-1:].isalpha())


def anchor_unit(section: str, units: Iterable[DraftUnit], quote: str = "") -> DraftUnit | None:
    """The unit whose label the comment's section starts with; the longest label wins.

    When the act and its annex share the label ("§ 1"), the comment's quoted current text decides;
    without a quote that settles it the comment stays unanchored rather than anchored wrongly.
    """
    hint = _label_key(section or "")
    if not hint:
        return None
    best_length, candidates = 0, []
    for unit in units:
        length = max((len(key) for key in _label_keys(unit.label) if _starts_with(hint, key)), default=0)
        if length > best_length:
            best_length, candidates = length, [unit]
        elif length and length == best_length:
            candidates.append(unit)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    needle = fold(" ".join((quote or "").split()))
    quoted = [unit for unit in candidates if needle and needle in fold(" ".join(unit.text.split()))]
    return quoted[0] if len(quoted) == 1 else None


def draft_of(session: Session, consultation_id: str) -> ConsultationDraft | None:
    return session.get(ConsultationDraft, consultation_id)


def draft_units(session: Session, consultation_id: str) -> list[DraftUnit]:
    draft = draft_of(session, consultation_id)
    if draft is None:
        return []
    return list(session.scalars(select(DraftUnit).where(DraftUnit.document_id == draft.document_id,
                                                        DraftUnit.version == draft.version)
                                .order_by(DraftUnit.position)))


def unit_of(session: Session, consultation_id: str, unit_id: str | None) -> DraftUnit | None:
    draft = draft_of(session, consultation_id)
    if draft is None or not unit_id:
        return None
    return session.get(DraftUnit, (draft.document_id, draft.version, unit_id))


def anchor_comments(session: Session, comments: Iterable[ReviewComment], units: Sequence[DraftUnit]) -> None:
    """Anchor comments that no one anchored by hand yet."""
    for comment in comments:
        if comment.anchored_by and comment.anchored_by != "auto":
            continue
        unit = anchor_unit(comment.section, units, comment.current_text)
        comment.unit_id = unit.unit_id if unit else None
        comment.chapter_id = unit.chapter_id if unit else None
        comment.anchored_by = "auto" if unit else None


def store_version(event: Event, session: Session) -> tuple[str, list[DraftUnit]] | None:
    """Keep the version's units. When it becomes its consultation's draft, return (consultation id, units)."""
    data = event.data
    document_id, version = data["document_id"], data["version"]
    units = list(data.get("units") or [])
    chapter = chapters_of(units)
    session.execute(delete(DraftUnit).where(DraftUnit.document_id == document_id, DraftUnit.version == version))
    rows = [DraftUnit(document_id=document_id, version=version, unit_id=str(u["id"])[:64], position=position,
                      kind=str(u.get("kind") or "")[:30], label=str(u.get("label") or "")[:300],
                      parent_id=u.get("parent"), chapter_id=chapter.get(u["id"]), text=str(u.get("text") or ""))
            for position, u in enumerate(units) if u.get("id")]
    session.add_all(rows)
    consultation_id = data.get("consultation_id")
    if not consultation_id or data.get("parent_version") is not None:
        return None
    current = session.get(ConsultationDraft, consultation_id)
    if current is not None and current.created_at > event.occurred_at:
        return None  # an older upload delivered late never replaces a newer draft
    if current is None:
        current = ConsultationDraft(consultation_id=consultation_id)
        session.add(current)
    current.document_id, current.version = document_id, version
    current.title, current.created_at = data.get("title") or "", event.occurred_at
    session.flush()
    return consultation_id, rows
