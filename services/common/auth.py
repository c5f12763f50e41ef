"""Staff authentication shared by all services: signed bearer tokens and deny-by-default views.

Users and roles are owned by the review service, which issues the tokens. A
token is signed with UWAGI_SECRET_KEY, so every service can verify it without
calling review. Every view requires a staff identity unless it is marked
`@public`; `@requires_role` raises the bar for one view.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app, g, jsonify, redirect, request, session
from itsdangerous import BadSignature, URLSafeSerializer

ROLES = ("reviewer", "coordinator", "admin")
DEMO_COORDINATOR_EMAIL = "koordynator@example.org"
DEMO_REVIEWER_EMAIL = "recenzent@example.org"
DEMO_ADMIN_EMAIL = "administrator@example.org"
_RANK = {role: rank for rank, role in enumerate(ROLES)}
_SALT = "uwagi-staff-token-v1"


@dataclass(frozen=True)
class StaffIdentity:
    user_id: str
    email: str
    role: str
    name: str = ""
    # The user's generation when the token or session was issued; a role change, deactivation or new
    # password raises it, and every service refuses identities from an older generation.
    generation: int = 0

    def has_role(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]


DEFAULT_TOKEN_TTL = 12 * 3600


class TokenSigner:
    """Issues and verifies bearer tokens: signed claims with the user's generation and an `exp` time.

    Verifying checks the signature and the expiry only; whether the user was
    deactivated or changed since is the gate's identity check (the staff directory).
    """

    def __init__(self, secret_key: str, *, ttl: int = DEFAULT_TOKEN_TTL,
                 fixed_tokens: dict[str, StaffIdentity] | None = None, clock: Callable[[], float] = time.time):
        self._serializer = URLSafeSerializer(secret_key, salt=_SALT)
        self.ttl = ttl
        self._clock = clock
        # Fixed tokens exist for the embedded demo only (UWAGI_DEMO_TOKEN), so scripts can drive it.
        self._fixed = dict(fixed_tokens or {})

    def issue(self, user_id: str, email: str, role: str, *, generation: int = 0, nonce: str = "",
              ttl: int | None = None) -> str:
        if role not in _RANK:
            raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        expires = int(self._clock()) + (self.ttl if ttl is None else ttl)
        return self._serializer.dumps({"sub": user_id, "email": email, "role": role, "gen": generation,
                                       "exp": expires, "n": nonce})

    def expires_at(self, token: str) -> int | None:
        try:
            claims = self._serializer.loads(token)
        except BadSignature:
            return None
        return claims.get("exp") if isinstance(claims, dict) and isinstance(claims.get("exp"), int) else None

    def verify(self, token: str) -> StaffIdentity | None:
        fixed = next((identity for known, identity in self._fixed.items() if hmac.compare_digest(known, token)), None)
        if fixed is not None:
            return fixed
        try:
            claims = self._serializer.loads(token)
        except BadSignature:
            return None
        if not isinstance(claims, dict) or claims.get("role") not in _RANK:
            return None
        expires, generation = claims.get("exp"), claims.get("gen", 0)
        # A token without an expiry (issued before tokens expired) is refused like an expired one.
        if not isinstance(expires, int) or isinstance(expires, bool) or expires <= self._clock():
            return None
        if not isinstance(generation, int) or isinstance(generation, bool):
            return None
        return StaffIdentity(user_id=str(claims.get("sub")), email=str(claims.get("email", "")), role=claims["role"],
                             generation=generation)


def make_signer(secret_key: str, demo_token: str | None, ttl: int = DEFAULT_TOKEN_TTL) -> TokenSigner:
    fixed = {demo_token: StaffIdentity("demo-coordinator", DEMO_COORDINATOR_EMAIL, "coordinator")} if demo_token else {}
    return TokenSigner(secret_key, ttl=ttl, fixed_tokens=fixed)


def public(view: Callable) -> Callable:
    view._uwagi_public = True  # type: ignore[attr-defined]
    return view


def requires_role(role: str) -> Callable[[Callable], Callable]:
    if role not in _RANK:
        raise ValueError(role)

    def decorate(view: Callable) -> Callable:
        view._uwagi_role = role  # type: ignore[attr-defined]
        return view

    return decorate


def current_staff() -> StaffIdentity | None:
    return g.get("staff")


# The staff session: review's login stores these claims under this key; the cookie is signed with
# the shared secret, so every service reads them locally, like a bearer token.
SESSION_KEY = "staff"


def session_claims(identity: StaffIdentity, *, ttl: int = DEFAULT_TOKEN_TTL, now: float | None = None,
                   **extra: Any) -> dict[str, Any]:
    """What the session cookie holds: like a token's claims, with the generation and an absolute expiry."""
    expires = int(time.time() if now is None else now) + ttl
    return {"sub": identity.user_id, "email": identity.email, "role": identity.role, "name": identity.name,
            "gen": identity.generation, "exp": expires, **extra}


def identity_from_session(now: float | None = None) -> StaffIdentity | None:
    claims = session.get(SESSION_KEY)
    if not isinstance(claims, dict) or claims.get("role") not in _RANK:
        return None
    expires, generation = claims.get("exp"), claims.get("gen", 0)
    if not isinstance(expires, int) or expires <= (time.time() if now is None else now):
        return None
    if not isinstance(generation, int) or isinstance(generation, bool):
        return None
    return StaffIdentity(user_id=str(claims.get("sub")), email=str(claims.get("email", "")), role=claims["role"],
                         name=str(claims.get("name", "")), generation=generation)


def _auth_error(status: int, message: str) -> Any:
    response = jsonify({"code": status, "status": "Unauthorized" if status == 401 else "Forbidden", "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="uwagi"'
    return response


def init_auth(app: Flask, signer: TokenSigner, *, public_prefixes: tuple[str, ...] = ()) -> None:
    """Install the deny-by-default gate on every request of `app`.

    A request is staff if it carries a valid bearer token or the staff session
    cookie. `app.extensions["uwagi_identity_check"]`, when set, may refuse an
    identity that was revoked (deactivated user, changed role). A request
    authenticated by the cookie must also carry a CSRF token when it changes
    something. Without an identity, API requests get a JSON 401 and pages a
    redirect to the login page.
    """
    app.extensions["uwagi_signer"] = signer

    @app.before_request
    def _gate() -> Any:
        from services.common.ui import login_url, wants_json

        view = app.view_functions.get(request.endpoint or "")
        if view is None or request.method == "OPTIONS":
            return None  # 404/405 are answered by Flask itself
        endpoint = request.endpoint or ""
        if getattr(view, "_uwagi_public", False) or endpoint.endswith("static") or endpoint.startswith(public_prefixes):
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        # A machine's own bearer (Prometheus' metrics token) for the one view that names it.
        machine_bearer = getattr(view, "_uwagi_machine_bearer", None)
        if machine_bearer is not None and scheme.lower() == "bearer" and machine_bearer(token.strip()):
            return None
        if header:
            if scheme.lower() != "bearer" or not token.strip():
                return _auth_error(401, "staff token required (Authorization: Bearer <token>)")
            identity = current_app.extensions["uwagi_signer"].verify(token.strip())
            via = "token"
        else:
            identity = identity_from_session()
            via = "session"
        check = current_app.extensions.get("uwagi_identity_check")
        if identity is not None and check is not None and not check(identity, via):
            if via == "session":
                session.pop(SESSION_KEY, None)
            identity = None
        if identity is None:
            if wants_json() or via == "token":
                return _auth_error(401, "invalid staff token" if header else
                                   "staff token required (Authorization: Bearer <token>)")
            return redirect(login_url())
        needed = getattr(view, "_uwagi_role", "reviewer")
        if not identity.has_role(needed):
            if wants_json():
                return _auth_error(403, f"this action needs the {needed} role")
            from services.common.ui import error_page

            return error_page(403, description="Your role does not allow this page.")
        g.staff = identity
        g.staff_via = via
        if via == "session" and request.method not in ("GET", "HEAD"):
            current_app.extensions["csrf"].protect()
        return None
