"""Staff authentication shared by all services: signed bearer tokens and deny-by-default views.

Users and roles are owned by the review service, which issues the tokens. A
token is signed with UWAGI_SECRET_KEY, so every service can verify it without
calling review. Every view requires a staff identity unless it is marked
`@public`; `@requires_role` raises the bar for one view.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app, g, jsonify, redirect, request, session
from itsdangerous import BadSignature, URLSafeSerializer

ROLES = ("reviewer", "coordinator", "admin")
DEMO_COORDINATOR_EMAIL = "koordynator@demo.uwagi.local"
_RANK = {role: rank for rank, role in enumerate(ROLES)}
_SALT = "uwagi-staff-token-v1"


@dataclass(frozen=True)
class StaffIdentity:
    user_id: str
    email: str
    role: str
    name: str = ""

    def has_role(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]


class TokenSigner:
    def __init__(self, secret_key: str, *, fixed_tokens: dict[str, StaffIdentity] | None = None):
        self._serializer = URLSafeSerializer(secret_key, salt=_SALT)
        # Fixed tokens exist for the embedded demo only (UWAGI_DEMO_TOKEN), so scripts can drive it.
        self._fixed = dict(fixed_tokens or {})

    def issue(self, user_id: str, email: str, role: str, *, nonce: str = "") -> str:
        if role not in _RANK:
            raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        return self._serializer.dumps({"sub": user_id, "email": email, "role": role, "n": nonce})

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
        return StaffIdentity(user_id=str(claims.get("sub")), email=str(claims.get("email", "")), role=claims["role"])


def make_signer(secret_key: str, demo_token: str | None) -> TokenSigner:
    fixed = {demo_token: StaffIdentity("demo-coordinator", DEMO_COORDINATOR_EMAIL, "coordinator")} if demo_token else {}
    return TokenSigner(secret_key, fixed_tokens=fixed)


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


def session_claims(identity: StaffIdentity, **extra: Any) -> dict[str, Any]:
    return {"sub": identity.user_id, "email": identity.email, "role": identity.role, "name": identity.name, **extra}


def identity_from_session() -> StaffIdentity | None:
    claims = session.get(SESSION_KEY)
    if not isinstance(claims, dict) or claims.get("role") not in _RANK:
        return None
    return StaffIdentity(user_id=str(claims.get("sub")), email=str(claims.get("email", "")), role=claims["role"],
                         name=str(claims.get("name", "")))


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
