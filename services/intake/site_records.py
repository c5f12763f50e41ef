"""Records of the public site an admin keeps, one row each (the accessibility statement, the privacy notice):
a frozen dataclass stored in the row with id 1, with who saved it and when."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any, TypeVar

from services.common.events import utcnow
from services.common.runtime import ServiceContext

Record = TypeVar("Record")


def text_problems(text: Mapping[str, str], limits: Mapping[str, int], optional: Collection[str] = ()
                  ) -> dict[str, str]:
    """Pure: "required" for an empty field not in `optional`, "too_long" for one past its limit, by field."""
    problems: dict[str, str] = {}
    for name, limit in limits.items():
        if not text[name] and name not in optional:
            problems[name] = "required"
        elif len(text[name]) > limit:
            problems[name] = "too_long"
    return problems


def load(ctx: ServiceContext, model: Any, record_type: type[Record]) -> tuple[Record, str, datetime] | None:
    """The saved record, who saved it and when; None before an admin has."""
    with ctx.db.transaction() as session:
        row = session.get(model, 1)
        if row is None:
            return None
        return record_type(**{f.name: getattr(row, f.name) for f in fields(record_type)}), row.saved_by, row.saved_at


def store(ctx: ServiceContext, model: Any, record: Any, *, actor: str, now: datetime | None = None) -> None:
    with ctx.db.transaction() as session:
        row = session.get(model, 1, with_for_update=True)
        if row is None:
            row = model(id=1)
            session.add(row)
        for name, value in asdict(record).items():
            setattr(row, name, value)
        row.saved_by, row.saved_at = actor, now or utcnow()
