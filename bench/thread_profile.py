"""cProfile by CPU time per thread, for the benchmarks' profiled processes (`system_bench.py --profile`).

Imported by file path from `profiled_gunicorn.conf.py`, so that it does not put this checkout on `sys.path` of
a gunicorn serving another one (`--source`).
"""

from __future__ import annotations

import cProfile
import threading
import time


def thread_cpu_profiler(profilers: list[cProfile.Profile]) -> cProfile.Profile:
    """A profiler counting the CPU time of the thread it is enabled on (not its waits), kept in `profilers`."""
    profiler = cProfile.Profile(time.thread_time_ns, 1e-9)
    profilers.append(profiler)
    return profiler


def profile_new_threads(profilers: list[cProfile.Profile]) -> None:
    """Run every thread started from now on under a profiler of its own."""
    original_run = threading.Thread.run

    def run(self: threading.Thread) -> None:
        profiler = thread_cpu_profiler(profilers)
        profiler.enable()
        try:
            original_run(self)
        finally:
            profiler.disable()

    threading.Thread.run = run  # type: ignore[method-assign]
