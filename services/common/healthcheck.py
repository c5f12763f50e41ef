"""`python -m services.common.healthcheck worker SERVICE`: exit 0 while the worker's heartbeat is fresh."""

from __future__ import annotations

import sys
import time

from services.common.settings import SERVICES, load_settings

MAX_AGE_SECONDS = 90  # several sweep intervals (15 s), so one slow sweep is not a failure


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "worker" or argv[1] not in SERVICES:
        print(f"usage: python -m services.common.healthcheck worker {{{','.join(SERVICES)}}}", file=sys.stderr)
        return 2
    path = load_settings().data_dir / f"heartbeat-{argv[1]}"
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        print(f"no heartbeat at {path}", file=sys.stderr)
        return 1
    if age > MAX_AGE_SECONDS:
        print(f"heartbeat is {age:.0f}s old", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
