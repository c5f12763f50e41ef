"""`uwagi users …`: create staff users, change their role, deactivate them; print a bearer token."""

from __future__ import annotations

import argparse
import sys

from services.common.auth import ROLES, StaffIdentity
from services.common.settings import load_settings_for_cli

CLI_ACTOR = StaffIdentity(user_id="cli", email="cli", role="admin")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="uwagi users", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a user (or update one and reissue a token) and print the token")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", default="")
    create.add_argument("--password", default=None, help="set this password (10+ characters) for the console")
    for name, text in (("deactivate", "deactivate a user: their tokens and sessions stop working at once"),
                       ("activate", "reactivate a user")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--email", required=True)
    args = parser.parse_args(argv[1:])
    settings = load_settings_for_cli()
    if settings is None:
        return 2
    from services.common.web import DomainError
    from services.review.app import build
    from services.review.identity import create_staff_user, find_user, set_active

    ctx = build(settings)
    try:
        if args.command == "create":
            user, token = create_staff_user(ctx, args.email, args.role, args.name, password=args.password)
            print(f"user {user.email} ({user.role}) id={user.id}", file=sys.stderr)
            print(token)
        else:
            user = set_active(ctx, find_user(ctx, args.email).id, args.command == "activate", actor=CLI_ACTOR)
            print(f"user {user.email} is {'active' if user.active else 'deactivated'}", file=sys.stderr)
    except DomainError as exc:
        print(f"uwagi users {args.command}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        ctx.close()
    return 0
