"""Gunicorn settings shared by every Uwagi web container.

    gunicorn --config deploy/gunicorn.conf.py "services.intake.app:create_app()"

Threads serve concurrent requests in each worker process (gthread), so a slow
upload or database call does not block the process. Scale out by running more
web containers behind the gateway rather than by raising these numbers much.
"""

import os


def _workers() -> int:
    raw = os.environ.get("WEB_CONCURRENCY", "2").strip()
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"WEB_CONCURRENCY={raw!r} is not a whole number") from None
    if value < 1:
        raise SystemExit(f"WEB_CONCURRENCY={value} must be at least 1")
    return value


bind = "0.0.0.0:8000"
workers = _workers()
worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 30
keepalive = 5

# Logs go to the container's stdout/stderr.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%({x-request-id}i)s" "%(a)s"'
# Status tokens and signed links travel in query strings: the access log shows them as [redacted].
logger_class = "services.common.gunicorn_logging.RedactingLogger"


def on_starting(server):
    # Files of an earlier run would add old counts to the new one.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    # With PROMETHEUS_MULTIPROC_DIR each worker writes its metrics to files; a dead worker's gauges go.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# gunicorn 27 opens a control socket at one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl or
# ~/.gunicorn/gunicorn.ctl), so a second gunicorn on the same machine (the README's "Against real
# servers", the benchmarks) collides with the first. Nothing here uses gunicornc: the socket is off
# unless GUNICORN_CONTROL_SOCKET gives this instance a path of its own.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True

# Only the gateway reaches the web containers (no published ports), so trust
# its X-Forwarded-Proto/-For headers.
forwarded_allow_ips = "*"

# The worker heartbeat file must live on a memory-backed file system in
# containers, or a slow disk can make gunicorn kill healthy workers.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
