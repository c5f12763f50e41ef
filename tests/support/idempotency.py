"""Idempotency-Key checks the services' tests share: a replay, a reused key, a request still in progress."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from sqlalchemy import func, select

from services.common.idempotency import HEADER


def keyed(headers: dict, key: str) -> dict:
    return {**headers, HEADER: key}


def count(ctx: Any, model: type, *where: Any) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def assert_replayed(first: Any, again: Any) -> None:
    """The retry got the first answer, marked as a replay."""
    assert 200 <= first.status_code < 300, (first.status_code, first.get_json())
    assert again.status_code == first.status_code, (again.status_code, again.get_json())
    assert again.get_json() == first.get_json()
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers


def assert_reused(response: Any) -> None:
    assert response.status_code == 422, (response.status_code, response.get_json())
    assert response.get_json()["error"] == "idempotency_key_reused"


def assert_in_progress(response: Any) -> None:
    assert response.status_code == 409, (response.status_code, response.get_json())
    assert response.get_json()["error"] == "idempotency_key_in_progress" and response.headers["Retry-After"] == "1"


def while_first_runs(monkeypatch: Any, module: Any, handler: str, send: Callable[[], Any]) -> tuple[Any, Any]:
    """Send a request and, while it is held inside `module.handler` (its key claimed, nothing written yet),
    the same request again; returns both answers. The held handler then runs for real."""
    real = getattr(module, handler)
    entered, release = threading.Event(), threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        if not release.wait(30):
            raise TimeoutError("the second request never came")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, handler, held)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(send)
        try:
            if not entered.wait(30):
                raise TimeoutError(f"the first request never reached {handler}: {first.result(timeout=1)}")
            second = send()
        finally:
            release.set()
        return first.result(timeout=60), second
