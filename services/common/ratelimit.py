"""Rate limits for public endpoints that cost us something per call (an e-mail to an address the caller chose).

Counted per client (its address, as seen behind the configured trusted proxies) and per recipient (the
e-mail address the call would write to, normalised so that case and `+tags` do not give fresh counts).
With `UWAGI_REDIS_URL` the counts live in Redis and every process of every host shares them; without,
each process counts for itself (a client then gets up to N times the limit with N processes).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Sequence

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from services.common.web import DomainError

log = logging.getLogger(__name__)


class RateLimited(DomainError):
    """429 with `Retry-After`: the caller may try again after that many seconds."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, limit: str, scope: str):
        super().__init__(message, details={"scope": scope, "limit": limit, "retry_after": retry_after})
        self.headers = {"Retry-After": str(retry_after)}


def parse_limits(text: str) -> list[RateLimitItem]:
    """"20/minute;200/hour" → items; raises ValueError on anything limits cannot read."""
    text = (text or "").strip()
    if not text or text.lower() == "off":
        return []
    return list(parse_many(text))


def normalise_address(email: str) -> str:
    """" Anna.K+uwagi@Example.org " → "anna.k@example.org": one mailbox, one count."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return email.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}"


@dataclass(frozen=True)
class Rule:
    scope: str  # "client" or "recipient"
    items: Sequence[RateLimitItem]


class RateLimits:
    """The limits of one service, on one storage shared by all its apps (and, with Redis, all processes)."""

    def __init__(self, storage_uri: str, *, client: str, recipient: str, namespace: str = "uwagi"):
        self.storage_uri = storage_uri or "memory://"
        self.storage: Storage = storage_from_string(self.storage_uri)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.rules = {"client": Rule("client", parse_limits(client)),
                      "recipient": Rule("recipient", parse_limits(recipient))}
        self.namespace = namespace

    def check(self, action: str, *, client: str | None, recipient: str | None) -> None:
        """Count one `action` for the client and the recipient; raise RateLimited if either is over its limit.

        If the shared storage is down the call goes through (logged): refusing every resident because the
        counter is unreachable would be worse than a burst of receipts.
        """
        keys = {"client": client or "unknown", "recipient": normalise_address(recipient) if recipient else None}
        for scope, rule in self.rules.items():
            key = keys[scope]
            if key is None:
                continue
            for item in rule.items:
                try:
                    allowed = self.limiter.hit(item, self.namespace, action, scope, key)
                except Exception:  # the storage (Redis) is unreachable: fail open, loudly
                    log.warning("rate limit storage %s unavailable; %s not limited", self.storage_uri, action,
                                exc_info=True)
                    return
                if not allowed:
                    reset = self.limiter.get_window_stats(item, self.namespace, action, scope, key).reset_time
                    retry_after = max(1, math.ceil(reset - time.time()))
                    log.info("rate limit %s for %s %s reached (%s)", item, scope, action, key if scope == "client"
                             else "<address>")
                    raise RateLimited(
                        f"too many requests from this {'client' if scope == 'client' else 'e-mail address'}; "
                        f"try again in {retry_after} s", retry_after=retry_after, limit=str(item), scope=scope)


def rate_limits_from(settings: object, *, namespace: str) -> RateLimits:
    """The service's limits from settings (`UWAGI_REDIS_URL`, `UWAGI_RATE_LIMIT_*`), built once by its factory."""
    return RateLimits(getattr(settings, "redis_url", None) or "memory://",
                      client=getattr(settings, "rate_limit_client", ""),
                      recipient=getattr(settings, "rate_limit_recipient", ""), namespace=namespace)


def limit_public_call(action: str, *, recipient: str | None) -> None:
    """In a view: count this call for the client's address and the recipient; 429 when over a limit."""
    from flask import current_app, request

    limits: RateLimits | None = current_app.extensions.get("uwagi_rate_limits")
    if limits is not None:
        limits.check(action, client=request.remote_addr, recipient=recipient)
