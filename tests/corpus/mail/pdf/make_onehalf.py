"""Builds onehalf-lo/: the drafting corpus's typed DOCX set as many offices set official texts (lines 1.5 apart, no
space after a paragraph, long paragraphs justified) and printed to PDF by LibreOffice. Run from the project root:

    .venv/bin/python tests/corpus/mail/pdf/make_onehalf.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

HERE = Path(__file__).resolve().parent
DRAFTING = HERE.parents[1] / "drafting"


def main() -> None:
    target = HERE / "onehalf-lo"
    target.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for source in sorted(DRAFTING.glob("*.typed-lo.docx")):
            document = docx.Document(str(source))
            normal = document.styles["Normal"].paragraph_format
            normal.space_before, normal.space_after, normal.line_spacing = Pt(0), Pt(0), 1.5
            for paragraph in document.paragraphs:
                if len(paragraph.text) > 90:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            document.save(str(Path(folder) / source.name.replace(".typed-lo.docx", ".docx")))
        subprocess.run(["soffice", f"-env:UserInstallation=file://{folder}/profile", "--headless", "--convert-to",
                        "pdf", "--outdir", str(target), *sorted(str(path) for path in Path(folder).glob("*.docx"))],
                       check=True, capture_output=True)


if __name__ == "__main__":
    main()
