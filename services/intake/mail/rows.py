"""What the readers of mailed files give: comment rows and the submitter's details."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FormRow:
    section: str
    current_text: str
    proposal: str
    justification: str = ""


@dataclass(frozen=True)
class FormSubmitter:
    name: str = ""
    organization: str = ""
    email: str = ""
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class FilledForm:
    rows: tuple[FormRow, ...]
    submitter: FormSubmitter = field(default_factory=FormSubmitter)
    annotated: bool = False  # the rows are Word comments and tracked changes on a returned draft, not a form
