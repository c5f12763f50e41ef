"""`uwagi migrate SERVICE|all`: bring service databases to the newest schema (safe to repeat)."""

from __future__ import annotations

import argparse

from services.common.db import upgrade
from services.common.settings import SERVICES, load_settings_for_cli


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="uwagi migrate", description=__doc__)
    parser.add_argument("service", choices=[*SERVICES, "all"])
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv[1:])
    settings = load_settings_for_cli()
    if settings is None:
        return 2
    for service in SERVICES if args.service == "all" else (args.service,):
        upgrade(service, settings.database_url(service), args.revision)
        print(f"{service}: schema at {args.revision}")
    return 0
