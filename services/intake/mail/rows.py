"""What the readers of mailed files give: comment rows and the submitter's details, and a document's text."""

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


TABLE_HERE = "\0table\0"  # where a table stands among a document's paragraphs (never text: NUL is dropped from text)


@dataclass(frozen=True)
class DocumentText:
    """A document read as a form reader needs it (Word 97, RTF): its paragraphs outside tables, in order (one the
    word processor numbers itself starts with the number it shows, "• " for a bullet), with TABLE_HERE where each
    table stands, and the tables as rows of cell texts, a merged cell followed by empty ones for the columns it
    spans."""

    paragraphs: list[str]
    tables: list[list[list[str]]]

    @property
    def text(self) -> str:
        """The document as a reader sees it: paragraphs, and each table row as its cells joined by " | "."""
        return "\n\n".join(self._blocks())

    def _blocks(self):
        tables = iter(self.tables)
        for paragraph in self.paragraphs:
            if paragraph == TABLE_HERE:
                for row in next(tables, []):
                    cells = [" ".join(cell.split()) for cell in row if cell.strip()]
                    if cells:
                        yield " | ".join(cells)
            elif paragraph.strip():
                yield paragraph

    @property
    def outside_tables(self) -> list[str]:
        return [paragraph for paragraph in self.paragraphs if paragraph != TABLE_HERE]


def lined_up(rows: list[list[str]], boundaries: list[tuple[int, ...]]) -> list[list[str]]:
    """Rows with a merged cell followed by empty ones for the grid columns it spans: the grid's columns are all
    the cell edges the rows have, as Word draws them."""
    edges = sorted({edge for row in boundaries for edge in row})
    grid = []
    for cells, row_edges in zip(rows, boundaries):
        if len(row_edges) != len(cells) + 1 or len(edges) > 64:
            grid.append(cells)  # no usable edges: the cells as they come
            continue
        line: list[str] = []
        for index, cell in enumerate(cells):
            left, right = row_edges[index], row_edges[index + 1]
            span = max(1, sum(1 for edge in edges if left <= edge < right))
            line.extend([cell] + [""] * (span - 1))
        grid.append(line)
    return grid
