"""The whole embedded system as `uwagi run` starts it, in a test's own data folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def embedded_system(data_dir: Path) -> Iterator[Any]:
    from services.common.settings import load_settings
    from services.embedded import start_system

    settings = load_settings({"UWAGI_DATA_DIR": str(data_dir), "UWAGI_RELAY_INTERVAL": "0.2",
                              "UWAGI_DEMO_PASSWORD": "demo-haslo-do-testow"})
    running = start_system(settings)
    try:
        yield running
    finally:
        running.stop()
