"""deploy/gunicorn.conf.py with each worker process under cProfile (CPU time per thread), for the benchmarks.

    PROFILE_DIR=/tmp/prof gunicorn --config bench/profiled_gunicorn.conf.py "services.intake.app:create_app()"

Each worker writes `<PROFILE_DIR>/web-<pid>.prof` when it exits (SIGTERM to the master); the threads of its
pool and its main loop are merged. Read them with `python -m pstats` or bench/system_bench.py's summary.
"""

import os
import pathlib

_deploy = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
exec(compile(_deploy.read_text(), str(_deploy), "exec"))  # the production settings, unchanged

_profilers: list = []


def post_fork(server, worker):
    import cProfile
    import threading
    import time

    original_run = threading.Thread.run

    def run(self):
        profiler = cProfile.Profile(time.thread_time_ns, 1e-9)  # CPU of the thread, not its waits
        _profilers.append(profiler)
        profiler.enable()
        try:
            original_run(self)
        finally:
            profiler.disable()

    threading.Thread.run = run  # before the app starts its relay thread and the pool its request threads


def post_worker_init(worker):
    import cProfile
    import time

    main = cProfile.Profile(time.thread_time_ns, 1e-9)
    _profilers.append(main)
    main.enable()  # the worker's own loop (accept, keep-alive) runs on this thread


def worker_exit(server, worker):
    import pstats

    for profiler in _profilers:
        profiler.disable()
    if _profilers:
        pstats.Stats(*_profilers).dump_stats(os.path.join(os.environ["PROFILE_DIR"], f"web-{os.getpid()}.prof"))
