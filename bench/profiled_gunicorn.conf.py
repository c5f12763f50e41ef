"""deploy/gunicorn.conf.py with each worker process under cProfile (CPU time per thread), for the benchmarks.

    PROFILE_DIR=/tmp/prof gunicorn --config bench/profiled_gunicorn.conf.py "services.intake.app:create_app()"

Each worker writes `<PROFILE_DIR>/web-<pid>.prof` when it exits (SIGTERM to the master); the threads of its
pool and its main loop are merged. Read them with `python -m pstats` or bench/system_bench.py's summary.
"""

import importlib.util
import os
import pathlib

_deploy = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
exec(compile(_deploy.read_text(), str(_deploy), "exec"))  # the production settings, unchanged

_spec = importlib.util.spec_from_file_location("uwagi_thread_profile", pathlib.Path(__file__).with_name("thread_profile.py"))
_thread_profile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_thread_profile)
_profilers: list = []


def post_fork(server, worker):
    _thread_profile.profile_new_threads(_profilers)  # before the app starts its relay and the pool its threads


def post_worker_init(worker):
    _thread_profile.thread_cpu_profiler(_profilers).enable()  # the worker's own loop (accept, keep-alive)


def worker_exit(server, worker):
    import pstats

    for profiler in _profilers:
        profiler.disable()
    if _profilers:
        pstats.Stats(*_profilers).dump_stats(os.path.join(os.environ["PROFILE_DIR"], f"web-{os.getpid()}.prof"))
