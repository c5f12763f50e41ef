"""`uwagi users create --email E --role R [--name N]`: create a staff user and print a bearer token."""

from __future__ import annotations

import argparse
import sys

from services.common.auth import ROLES
from services.common.settings import load_settings_for_cli


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="uwagi users", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a user (or reissue a token) and print the token")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", default="")
    args = parser.parse_args(argv[1:])
    settings = load_settings_for_cli()
    if settings is None:
        return 2
    from services.review.app import build
    from services.review.handlers import create_staff_user

    ctx = build(settings)
    try:
        user, token = create_staff_user(ctx, args.email, args.role, args.name)
    finally:
        ctx.close()
    print(f"user {user.email} ({user.role}) id={user.id}", file=sys.stderr)
    print(token)
    return 0
