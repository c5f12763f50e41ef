"""Reading a hostile file in a child process: the parsers of PDFs and pictures (pdfminer, pdfium, Pillow's
decoders, Tesseract) have no limits of their own on what a crafted file makes them decompress or compute.

The child is `python -I -m <module>` (isolated: no PYTHON* variables, no user site) with only PATH and the locale
in its environment, so whatever a file makes the parser do, it finds no database URL or secret key; the file goes
to its standard input and its answer comes back as JSON on its standard output. The child limits its own memory
and CPU (`limit_resources`) and the parent its wall time.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

log = logging.getLogger("uwagi.intake.mail")


def run_isolated(module: str, data: bytes, *, args: tuple[str, ...] = (), wall_seconds: float, what: str,
                 extra_env: dict[str, str] | None = None) -> dict | None:
    """The child's JSON answer, or None (logged as "`what` not read: …") when it failed, was killed by a limit,
    ran out of time or answered nonsense."""
    try:
        done = subprocess.run([sys.executable, "-I", "-m", module, *args], input=data, capture_output=True,
                              timeout=wall_seconds, check=False, env={**child_environment(), **(extra_env or {})})
    except subprocess.TimeoutExpired:
        log.info("%s not read: more than %d s", what, wall_seconds)
        return None
    if done.returncode != 0:  # the child's last word: the exception, or nothing when a limit killed it
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        log.info("%s not read: %s", what, said[-1] if said else f"exit status {done.returncode}")
        return None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def child_environment() -> dict[str, str]:
    """PATH and the locale; and coverage's own settings when the test suite measures its children."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
            **{name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")}}


def limit_resources(memory_bytes: int, cpu_seconds: int) -> None:
    """Called first in a child (and inherited by what it starts): address space and CPU time, hard limits."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
