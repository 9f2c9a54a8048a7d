"""The stand-in hub's sign-in: Hugging Face's OpenID Connect provider, in miniature.

The real hub publishes ``/.well-known/openid-configuration`` and serves ``/oauth/authorize``,
``/oauth/token``, ``/oauth/userinfo`` and ``/oauth/jwks``; its userinfo carries the user's
organisations. This module answers those routes for users added with
``localdev.standin.repos.add_user`` (with a password) and OAuth clients added with
``add_oauth_client``, so django-allauth runs its real code against it. Test double only:
it binds to loopback like the rest of the stand-in.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CODE_LIFETIME_SECONDS = 300
KEY_ID = "standin-1"

# The sign-in page stands alone (no static files on the stand-in): a small, plain style.
SIGN_IN_STYLE = (
    "*{box-sizing:border-box}body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f5f6f9;"
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330}"
    ".card{background:#fff;border:1px solid #e3e6ec;border-radius:12px;padding:2rem;"
    "width:min(22rem,calc(100vw - 2rem));box-shadow:0 4px 16px rgba(29,35,48,.06)}"
    ".brand{margin:0 0 .8rem;font-weight:700}h1{font-size:1.4rem;margin:0 0 .3rem}"
    ".muted{color:#6a7282;font-size:.9rem;margin:0 0 1.2rem}"
    "form{display:flex;flex-direction:column;gap:.9rem}"
    "label{display:flex;flex-direction:column;gap:.3rem;font-weight:600;font-size:.9rem}"
    "input{font:inherit;font-weight:400;padding:.55rem .65rem;border:1px solid #c9ced8;"
    "border-radius:8px}input:focus{outline:2px solid #ffd21e;border-color:#e6b800}"
    "button{font:inherit;font-weight:600;padding:.6rem;border:0;border-radius:8px;"
    "background:#1d2330;color:#fff;cursor:pointer;margin-top:.3rem}"
    ".alert{background:#fef3f2;border:1px solid #fecdca;color:#b42318;padding:.6rem;"
    "border-radius:8px;margin:0 0 1rem}"
)


@dataclass(frozen=True)
class Grant:
    """What an authorisation code stands for until the client exchanges it."""

    user_token: str
    client_id: str
    redirect_uri: str
    nonce: str
    code_challenge: str
    scope: str
    expires_at: float


class OidcError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class IdentityProvider:
    """State of the provider: one signing key and the codes not yet exchanged."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    # --- discovery ----------------------------------------------------------------------

    def configuration(self, issuer: str) -> dict[str, Any]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "userinfo_endpoint": f"{issuer}/oauth/userinfo",
            "jwks_uri": f"{issuer}/oauth/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**jwk, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}

    # --- authorisation ------------------------------------------------------------------

    def check_authorize(self, params: dict[str, str]) -> dict[str, Any]:
        """The client and redirect URI of an authorisation request, or an error."""
        client = _clients(self.root).get(params.get("client_id", ""))
        if client is None:
            raise OidcError(400, "invalid_client", "Unknown OAuth client.")
        if params.get("redirect_uri") not in client["redirect_uris"]:
            raise OidcError(400, "invalid_request", "This redirect URI is not registered.")
        if params.get("response_type") != "code":
            raise OidcError(400, "unsupported_response_type", "Only the code flow is supported.")
        return client

    def sign_in_page(self, params: dict[str, str], error: str = "") -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k not in ("username", "password")
        )
        message = f'<p class="alert" role="alert">{html.escape(error)}</p>' if error else ""
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Sign in · stand-in hub</title><style>{SIGN_IN_STYLE}</style></head><body>"
            '<main class="card"><p class="brand">stand-in hub</p>'
            "<h1>Sign in</h1>"
            '<p class="muted">A local stand-in for the Hugging Face sign-in.</p>'
            + message
            + '<form method="post">'
            + hidden
            + '<label>Username <input name="username" autocomplete="username" required></label>'
            '<label>Password <input name="password" type="password" '
            'autocomplete="current-password" required></label>'
            '<button type="submit">Sign in</button></form></main></body></html>'
        )

    def authorize(self, params: dict[str, str]) -> str:
        """Check the user's password; the redirect URL that carries a fresh code."""
        self.check_authorize(params)
        user_token = _user_token_for_password(
            self.root, params.get("username", ""), params.get("password", "")
        )
        if user_token is None:
            raise OidcError(401, "access_denied", "Wrong username or password.")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = Grant(
                user_token=user_token,
                client_id=params["client_id"],
                redirect_uri=params["redirect_uri"],
                nonce=params.get("nonce", ""),
                code_challenge=params.get("code_challenge", ""),
                scope=params.get("scope", "openid"),
                expires_at=time.time() + CODE_LIFETIME_SECONDS,
            )
        query = {"code": code}
        if "state" in params:
            query["state"] = params["state"]
        separator = "&" if urlsplit(params["redirect_uri"]).query else "?"
        return f"{params['redirect_uri']}{separator}{urlencode(query)}"

    # --- token and userinfo -------------------------------------------------------------

    def exchange(self, form: dict[str, str], authorization: str, issuer: str) -> dict[str, Any]:
        """Trade a code for the user's access token and an ID token."""
        client_id, secret = _client_credentials(form, authorization)
        client = _clients(self.root).get(client_id)
        if client is None or not secrets.compare_digest(client["secret"], secret):
            raise OidcError(401, "invalid_client", "Client authentication failed.")
        if form.get("grant_type") != "authorization_code":
            raise OidcError(400, "unsupported_grant_type", "Only authorization_code.")
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or grant.expires_at < time.time() or grant.client_id != client_id:
            raise OidcError(400, "invalid_grant", "The code is unknown, used or expired.")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OidcError(400, "invalid_grant", "redirect_uri differs from the request's.")
        if grant.code_challenge and _s256(form.get("code_verifier", "")) != grant.code_challenge:
            raise OidcError(400, "invalid_grant", "PKCE verification failed.")
        user = self.user(grant.user_token)
        now = int(time.time())
        claims = {
            "iss": issuer,
            "sub": user["sub"],
            "aud": client_id,
            "iat": now,
            "exp": now + 3600,
            "preferred_username": user["preferred_username"],
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KEY_ID})
        return {
            "access_token": grant.user_token,
            "token_type": "Bearer",
            "expires_in": 28800,
            "scope": grant.scope,
            "id_token": id_token,
        }

    def user(self, user_token: str) -> dict[str, Any]:
        """The userinfo the hub gives for an access token: who, and which organisations."""
        record = _users(self.root).get(user_token)
        if record is None:
            raise OidcError(401, "invalid_token", "Invalid or expired access token.")
        name = record["name"]
        return {
            "sub": subject_for(name),
            "name": record.get("fullname", name),
            "preferred_username": name,
            "profile": f"https://huggingface.co/{name}",
            "email": record.get("email", ""),
            "email_verified": bool(record.get("email")),
            "orgs": [
                {"sub": subject_for(org), "name": org, "preferred_username": org}
                for org in record["orgs"]
            ],
        }


def add_oauth_client(root: Path, client_id: str, secret: str, redirect_uris: list[str]) -> None:
    """Register an OAuth application, as one does on the hub's settings page."""
    path = root / "oauth_clients.json"
    clients = _read(path)
    clients[client_id] = {"secret": secret, "redirect_uris": list(redirect_uris)}
    path.write_text(json.dumps(clients, indent=1))


def _clients(root: Path) -> dict[str, Any]:
    return _read(root / "oauth_clients.json")


def _users(root: Path) -> dict[str, Any]:
    return _read(root / "users.json")


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _user_token_for_password(root: Path, username: str, password: str) -> str | None:
    for token, record in _users(root).items():
        stored = record.get("password")
        if record["name"] == username and stored and secrets.compare_digest(stored, password):
            return token
    return None


def _client_credentials(form: dict[str, str], authorization: str) -> tuple[str, str]:
    if authorization.startswith("Basic "):
        decoded = base64.b64decode(authorization[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def subject_for(name: str) -> str:
    # The hub's subjects are opaque ids; a stable hash of the name plays that part.
    return hashlib.sha256(name.encode()).hexdigest()[:24]
