"""`uwagi doc …`: the engine's command line, for automated builds.

Scripts rely on the output shapes, so they are fixed (see docs/document-engine.md).
Exit codes: 0 success, 1 the input was refused (unsafe file, conflict, unknown
unit, bad report data), 2 usage error, 70 unexpected internal error. Errors go
to stderr as one line; there is never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from .errors import EngineError

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70


class _UsageError(Exception):
    pass


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would sys.exit(2) itself
        raise _UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="uwagi doc", description="Check, parse, anchor, change and report on DOCX documents.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)

    check = commands.add_parser("check", help="exit 0 when the DOCX is safe to process")
    check.add_argument("file")

    parse = commands.add_parser("parse", help="print the units of a DOCX as JSON")
    parse.add_argument("file")

    anchor = commands.add_parser("anchor", help="resolve a free-text reference to a unit")
    anchor.add_argument("file")
    anchor.add_argument("hint")
    anchor.add_argument("--quote", default=None)

    apply = commands.add_parser("apply", help="apply approved changes: clean and tracked DOCX")
    apply.add_argument("file")
    apply.add_argument("changes")
    apply.add_argument("--out", required=True)
    apply.add_argument("--tracked", required=True)
    apply.add_argument("--author", default="Prezydent Miasta",
                       help="the deciding body, author of the revisions")
    apply.add_argument("--date", default=None,
                       help="approval time (ISO 8601); default SOURCE_DATE_EPOCH or now")

    report = commands.add_parser("report", help="build the consultation report")
    report.add_argument("report_json")
    report.add_argument("--out", required=True)
    report.add_argument("--xlsx")
    report.add_argument("--csv")
    report.add_argument("--lang", choices=("pl", "en"), default="pl")
    report.add_argument("--internal", action="store_true",
                        help="internal edition: names and contact data are not redacted")
    return parser


def main(args: list[str]) -> int:
    argv = list(args[1:] if args and args[0] == "doc" else args)
    try:
        options = _parser().parse_args(argv)
        return _COMMANDS[options.command](options)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except EngineError as error:
        print(f"error: {error.code}: {error.message}", file=sys.stderr)
        for change in getattr(error, "changes", []):
            print(f"  change: {json.dumps(change, ensure_ascii=False)}", file=sys.stderr)
        return EXIT_REFUSED
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except SystemExit as exit_request:  # --help
        return int(exit_request.code or 0)
    except Exception as error:  # noqa: BLE001 - the CLI contract is "never a traceback"
        print(f"internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_INTERNAL


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _read_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def _command_check(options) -> int:
    from .safety import check_docx

    check_docx(_read_bytes(options.file), filename=options.file)
    print(f"ok: {options.file}")
    return 0


def _command_parse(options) -> int:
    from .parse import parse_docx

    _print_json(parse_docx(_read_bytes(options.file)).to_json())
    return 0


def _command_anchor(options) -> int:
    from .anchor import resolve_anchor
    from .parse import parse_docx

    version = parse_docx(_read_bytes(options.file))
    _print_json(resolve_anchor(version, options.hint, options.quote).to_json())
    return 0


def _approval_time(text: str | None) -> datetime:
    if text:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def _command_apply(options) -> int:
    from .parse import parse_docx
    from .render import render_clean, render_tracked
    from .versions import apply_changes, changes_from_json

    try:
        approved_at = _approval_time(options.date)
    except ValueError:
        raise _UsageError(f"uwagi doc apply: --date is not an ISO 8601 date-time: {options.date!r}") from None
    original = parse_docx(_read_bytes(options.file))
    changes = changes_from_json(json.loads(Path(options.changes).read_text(encoding="utf-8")))
    new_version = apply_changes(original, changes, approved_by=options.author, approved_at=approved_at)
    Path(options.out).write_bytes(render_clean(new_version))
    Path(options.tracked).write_bytes(render_tracked(original, new_version))
    print(f"ok: version {new_version.number}, {len(changes)} changes, "
          f"{len(new_version.revision_refs)} units revised")
    return 0


def _command_report(options) -> int:
    from .report import ReportData, build_report_csv, build_report_docx, build_report_xlsx

    data = ReportData.from_json(json.loads(Path(options.report_json).read_text(encoding="utf-8")))
    publish = not options.internal
    Path(options.out).write_bytes(build_report_docx(data, lang=options.lang, published=publish))
    if options.xlsx:
        Path(options.xlsx).write_bytes(build_report_xlsx(data, lang=options.lang, published=publish))
    if options.csv:
        Path(options.csv).write_bytes(build_report_csv(data, lang=options.lang, published=publish))
    print(f"ok: {len(data.comments)} comments")
    return 0


_COMMANDS = {"check": _command_check, "parse": _command_parse, "anchor": _command_anchor,
             "apply": _command_apply, "report": _command_report}
