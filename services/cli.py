"""The `uwagi` console script: one entry point, sub-commands live with their owners.

Each group is imported lazily so that `uwagi doc …` does not load Flask or Celery.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    groups = {
        "doc": "services.documents.engine.cli",
        "migrate": "services.common.manage",
        "users": "services.review.cli",
        "run": "services.embedded",
        "intake": "services.intake.mail.cli",
    }
    if not args or args[0] in {"-h", "--help"} or args[0] not in groups:
        print("usage: uwagi {doc,migrate,users,run,intake} …\n"
              "  doc      check, parse, anchor, apply changes to and report on DOCX documents\n"
              "  migrate  upgrade a service's database schema: uwagi migrate intake|review|documents|notify|all\n"
              "  users    manage staff users: uwagi users create --email E --role reviewer|coordinator|admin\n"
              "  run      start the whole system in one process on embedded defaults (make run)\n"
              "  intake   import e-mails saved as files: uwagi intake import-eml FILE… [--consultation ID]",
              file=sys.stderr if args and args[0] not in {"-h", "--help"} else sys.stdout)
        return 0 if args and args[0] in {"-h", "--help"} else 2
    import importlib

    module = importlib.import_module(groups[args[0]])
    return int(module.main(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
