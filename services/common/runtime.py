"""Bootstrap of one service: its dependencies built once from settings, and its worker process.

`build_context` is the only place that turns settings into live adapters. Web
apps, workers and tests all start from a `ServiceContext`; tests may pass
their own adapters instead.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

from celery import Celery
from sqlalchemy.orm import Session

from services.common.auth import TokenSigner, make_signer
from services.common.bus import BrokerPublisher, EventConsumer, EventHandler, InboxDispatcher, OutboxRelay
from services.common.db import Database, add_event
from services.common.events import new_envelope
from services.common.metrics import hook_celery_metrics, start_metrics_server
from services.common.observability import CORRELATION_HEADER, current_correlation_id
from services.common.settings import Settings
from services.common.storage import ObjectStore, make_object_store

log = logging.getLogger(__name__)


def make_celery(service: str, settings: Settings) -> Celery:
    app = Celery(f"uwagi.{service}", set_as_current=False)
    app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=f"{service}.tasks",
        task_routes={f"{service}.*": {"queue": f"{service}.tasks"}},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_transport_options={"confirm_publish": True} if not settings.embedded_broker else {},
        timezone="UTC",
        enable_utc=True,
    )
    return app


@dataclass
class ServiceContext:
    service: str
    settings: Settings
    db: Database
    store: ObjectStore
    publisher: BrokerPublisher
    relay: OutboxRelay
    celery: Celery
    signer: TokenSigner
    outbox_model: type
    inbox_model: type
    parked_model: type | None = None
    idempotency_model: type | None = None  # the service's `idempotency_keys` (services.common.idempotency)
    extras: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work; the relay is woken once its events are committed."""
        from services.common.idempotency import mark_committed  # imports web, which imports this module

        with self.db.transaction() as session:
            yield session
            mark_committed(session)  # the request's Idempotency-Key, if any, in the same transaction
        self.relay.kick()

    def emit(self, session: Session, event_type: str, data: Mapping[str, Any], *, correlation_id: str | None = None,
             validate: bool = True) -> dict:
        """Stage an event in the caller's transaction; `validate`: see `events.new_envelope`.

        Without an explicit `correlation_id`, the one being handled (request, event, task) is passed on."""
        envelope = _envelope(self.service, event_type, data, correlation_id, validate)
        add_event(session, self.outbox_model, envelope)
        return envelope

    def new_event(self, event_type: str, data: Mapping[str, Any], *, correlation_id: str | None = None,
                  validate: bool = True) -> dict:
        """The envelope `emit` would stage, for a writer that puts it in the outbox itself (intake's submissions)."""
        return _envelope(self.service, event_type, data, correlation_id, validate)

    def enqueue(self, task: str, *args: Any) -> None:
        """Send a Celery task after commit. Losing it is harmless: each task's rows are swept again."""
        try:
            correlation = current_correlation_id()
            self.celery.send_task(f"{self.service}.{task}", args=list(args), queue=f"{self.service}.tasks",
                                  headers={CORRELATION_HEADER: correlation} if correlation else None)
        except Exception:  # the periodic sweep re-enqueues work whose row is still pending
            log.warning("could not enqueue %s.%s now; the sweep will retry", self.service, task, exc_info=True)

    def close(self) -> None:
        self.relay.stop()
        self.publisher.close()
        self.db.dispose()


def build_context(service: str, settings: Settings, *, outbox_model: type, inbox_model: type,
                  parked_model: type | None = None, idempotency_model: type | None = None,
                  store: ObjectStore | None = None) -> ServiceContext:
    db = Database(settings.database_url(service))
    publisher = BrokerPublisher(settings.broker_url)
    relay = OutboxRelay(db, outbox_model, publisher, interval=settings.relay_interval, name=f"{service}-relay",
                        window=settings.batch_window)
    return ServiceContext(
        service=service,
        settings=settings,
        db=db,
        store=store or make_object_store(settings),
        publisher=publisher,
        relay=relay,
        celery=make_celery(service, settings),
        signer=make_signer(settings.secret_key, settings.demo_token, settings.token_ttl),
        outbox_model=outbox_model,
        inbox_model=inbox_model,
        parked_model=parked_model,
        idempotency_model=idempotency_model,
    )


class BackgroundLoop(Protocol):
    def stop(self) -> None: ...


@dataclass
class WorkerSpec:
    """What a service's worker runs besides Celery: event handlers, periodic sweeps and loops of its own."""

    handlers: Mapping[str, Sequence[EventHandler]]
    register_tasks: Callable[[ServiceContext], None] = lambda ctx: None
    sweeps: Sequence[Callable[[ServiceContext], None]] = ()
    sweep_interval: float = 15.0
    # Each starts a thread of the worker (notify's mailer) and returns it, to be stopped with the worker.
    loops: Sequence[Callable[[ServiceContext], BackgroundLoop]] = ()


_embedded_start_lock = threading.Lock()


def _embedded_work_controller(app: Celery, **options: Any) -> Any:
    """A Celery worker that can share its process with other workers, web threads and tests.

    Celery assumes one worker per process and keeps two things process-global:
    - kombu's current event loop (`kombu.asynchronous.get_event_loop`). A new worker
      adopts the hub another worker left there, so two threads would poll one hub and
      read each other's broker sockets (py-amqp then reports `UnexpectedFrame`, missed
      heartbeats and `Bad file descriptor`). Each embedded worker gets its own hub, and
      none is left current, since nothing else in the process may drive it.
    - "joining a task result will block", set for the pool's processes. Our threads
      share the process with code that may wait on results, so it is set back.
    """
    from celery._state import _set_task_join_will_block
    from kombu.asynchronous import get_event_loop, set_event_loop

    with _embedded_start_lock:
        previous_loop = get_event_loop()
        set_event_loop(None)
        try:
            worker = app.WorkController(**options)
        finally:
            set_event_loop(previous_loop)
            _set_task_join_will_block(False)
    return worker


def _timer_for(app: Celery) -> type:
    """The worker's timer thread, knowing its app.

    Without an event loop (the in-process `memory://` broker) Celery runs tasks that are due later, a
    retry's countdown among them, from a timer thread of their own, and finds the task in the thread's
    current app. Our apps are never made current process-wide (several share the embedded process), so
    there the lookup fell back to Celery's default app: `NotRegistered`, and the retry was dropped.
    """
    from celery.utils.timer2 import Timer

    class AppTimer(Timer):
        def run(self) -> None:
            app.set_current()
            super().run()

    return AppTimer


class ServiceWorker:
    """The background side of one service: event consumer, outbox relay, sweeps and Celery."""

    def __init__(self, ctx: ServiceContext, spec: WorkerSpec):
        self.ctx = ctx
        self.spec = spec
        spec.register_tasks(ctx)
        self.dispatcher = InboxDispatcher(ctx.db, ctx.inbox_model, spec.handlers, after_commit=ctx.relay.kick,
                                          parked_model=ctx.parked_model, service=ctx.service)
        hook_celery_metrics()
        self.consumer = EventConsumer(ctx.settings.broker_url, ctx.service, self.dispatcher,
                                      linger=ctx.settings.batch_window)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._celery_worker: Any = None
        self._celery_thread: threading.Thread | None = None
        self._loops: list[BackgroundLoop] = []

    @property
    def heartbeat_path(self) -> Path:
        return self.ctx.settings.data_dir / f"heartbeat-{self.ctx.service}"

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.spec.sweep_interval):
            self.run_sweeps()

    def run_sweeps(self) -> None:
        try:
            self.heartbeat_path.parent.mkdir(parents=True, exist_ok=True)
            self.heartbeat_path.touch()
        except OSError:
            log.warning("cannot write heartbeat %s", self.heartbeat_path)
        from services.common.idempotency import sweep_idempotency_keys  # imports web, which imports this module

        for sweep in (*self.spec.sweeps, self._retry_parked_events, sweep_idempotency_keys):
            try:
                sweep(self.ctx)
            except Exception:  # one failing sweep must not stop the others
                log.exception("sweep %s failed", getattr(sweep, "__name__", sweep))

    def _retry_parked_events(self, ctx: ServiceContext) -> None:
        self.dispatcher.retry_parked(dead_letter=self.consumer.dead_letter_envelope)

    def start_background(self) -> "ServiceWorker":
        """Start consumer, relay and sweeps in threads (Celery is started separately)."""
        self.ctx.relay.start()
        self.consumer.start()
        thread = threading.Thread(target=self._sweep_loop, name=f"{self.ctx.service}-sweeps", daemon=True)
        thread.start()
        self._threads.append(thread)
        self.run_sweeps()
        self._loops = [start(self.ctx) for start in self.spec.loops]
        return self

    @property
    def has_tasks(self) -> bool:
        """Whether the service defined Celery tasks of its own (a worker without any needs no Celery)."""
        return any(not name.startswith("celery.") for name in self.ctx.celery.tasks)

    def start_celery_thread(self) -> None:
        """Run a Celery worker inside this process (embedded mode and tests), if the service has tasks."""
        if not self.has_tasks:
            return
        worker = _embedded_work_controller(
            self.ctx.celery,
            pool_cls="solo", concurrency=1, queues=[f"{self.ctx.service}.tasks"],
            without_heartbeat=True, without_mingle=True, without_gossip=True,
            hostname=f"{self.ctx.service}@embedded-{os.getpid()}", loglevel="WARNING",
            timer_cls=_timer_for(self.ctx.celery),
        )
        self._celery_worker = worker

        def run() -> None:
            # Workers look tasks up on the thread's current app; each service has its own.
            self.ctx.celery.set_current()
            worker.start()

        thread = threading.Thread(target=run, name=f"{self.ctx.service}-celery", daemon=True)
        thread.start()
        self._threads.append(thread)
        self._celery_thread = thread

    def _stop_celery_thread(self, timeout: float = 15.0) -> None:
        """Shut the embedded worker down from its own thread: its broker connection is not to be touched
        from another one. Its event loop raises WorkerShutdown, as after a signal; Celery then stops itself."""
        from celery.exceptions import WorkerShutdown

        worker, thread = self._celery_worker, self._celery_thread
        hub = getattr(worker, "hub", None)
        if hub is not None and thread is not None and thread.is_alive():
            def shut_down() -> None:
                raise WorkerShutdown(0)

            hub.call_soon(shut_down)
            thread.join(timeout)
            if not thread.is_alive():
                return
            log.warning("%s celery worker did not stop in %.0f s; stopping it from outside", self.ctx.service, timeout)
        try:
            worker.stop(in_sighandler=False)
        except Exception:  # best effort on shutdown
            log.debug("celery worker stop failed", exc_info=True)

    def run_celery_foreground(self, concurrency: int = 2) -> None:
        worker = self.ctx.celery.Worker(
            pool_cls="threads", concurrency=concurrency, queues=[f"{self.ctx.service}.tasks"],
            without_mingle=True, without_gossip=True,
            # Unique per process: Celery's control queue `<name>.celery.pidbox` is exclusive, and a second worker
            # of the service on the same host (scaling out) would die at start with RESOURCE_LOCKED.
            hostname=f"{self.ctx.service}-{os.getpid()}@%h",
            loglevel=self.ctx.settings.log_level,
        )
        worker.start()

    def stop(self) -> None:
        self._stop.set()
        self.consumer.stop()
        for loop in self._loops:
            loop.stop()
        if self._celery_worker is not None:
            self._stop_celery_thread()
        self.ctx.close()


def configure_logging(settings: Settings) -> None:
    """Root logging: JSON lines (`UWAGI_LOG_FORMAT=json`) or text, both with the correlation id."""
    from services.common.observability import logging_handler

    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(logging_handler(settings.log_format))
    root.setLevel(settings.log_level)


def run_worker_main(build: Callable[[Settings], ServiceContext], spec: WorkerSpec) -> None:
    """Entry point of `python -m services.<service>.worker`."""
    from services.common.settings import load_settings

    settings = load_settings()
    configure_logging(settings)
    ctx = build(settings)
    worker = ServiceWorker(ctx, spec).start_background()
    start_metrics_server(ctx)
    if not worker.consumer.wait_ready(30):
        log.warning("%s consumer not ready after 30 s; it keeps retrying", ctx.service)

    def _graceful(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _graceful)
    try:
        if worker.has_tasks:
            worker.run_celery_foreground()
        else:
            while True:  # the threads do the work; a signal ends the sleep
                time.sleep(3600)
    finally:
        worker.stop()
        time.sleep(0.1)


def _envelope(service: str, event_type: str, data: Mapping[str, Any], correlation_id: str | None,
              validate: bool) -> dict:
    """A new envelope from `service`; without an explicit `correlation_id`, the one being handled is passed on."""
    if correlation_id is None:
        correlation_id = current_correlation_id()
    return new_envelope(event_type, data, producer=service, correlation_id=correlation_id, validate=validate)
