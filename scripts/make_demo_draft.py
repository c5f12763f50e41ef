"""Write the demo consultation's draft programme (fictional, in Polish) as DOCX.

    .venv/bin/python scripts/make_demo_draft.py [OUT.docx] [--typed] [--scale N]

The draft has chapters, § paragraphs, sections (ust.), points (pkt) and letters
(lit.) numbered with real Word list numbering (numbering.xml, multi-level, one
restarted list instance per §), plus bold/italic text, a footnote and a table.
`--typed` writes the same text with numbers typed by hand. No real person's
data appears in it. The output is deterministic.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.documents.engine.demo_draft import make_demo_draft  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="examples/projekt-programu-wspolpracy.docx")
    parser.add_argument("--typed", action="store_true", help="numbers typed by hand instead of Word lists")
    parser.add_argument("--scale", type=int, default=1, help="repeat the priority-task chapter N times")
    options = parser.parse_args()
    data = make_demo_draft("typed" if options.typed else "auto", scale=options.scale)
    Path(options.out).parent.mkdir(parents=True, exist_ok=True)
    Path(options.out).write_bytes(data)
    print(f"wrote {options.out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
