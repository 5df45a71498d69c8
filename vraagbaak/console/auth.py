"""Sessions: signed session cookies with an expiry, CSRF tokens (failed logins are slowed in throttle.py).

Sessions live in this process only (a restart logs everyone out). The cookie holds a signed session id and
its expiry; the account and the CSRF token stay on the server. Clocks are injectable for tests.
"""
from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

from itsdangerous import BadSignature, URLSafeSerializer

from vraagbaak.console.accounts import Account

Clock = Callable[[], float]

MAX_SESSIONS = 200
LOGIN_TOKEN_SECONDS = 30 * 60


@dataclass
class Session:
    """One logged-in member of staff: the account's name (for the audit log), key and password fingerprint."""

    id: str
    name: str
    account: str
    password_tag: str
    csrf: str
    expires: float

    def still_valid_for(self, account: Account | None) -> bool:
        """False once the account is removed or has a new password: such a session ends at once."""
        return (
            account is not None
            and account.key == self.account
            and hmac.compare_digest(account.password_tag, self.password_tag)
        )


def tokens_match(expected: str, submitted: str | None) -> bool:
    """Constant-time comparison of a CSRF token; a missing token never matches."""
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


class SessionStore:
    """Sessions on the server, referred to by a signed cookie that carries its own expiry."""

    def __init__(self, secret: bytes, lifetime_seconds: float, clock: Clock = time.time) -> None:
        self.lifetime = lifetime_seconds
        self.clock = clock
        self._signer = URLSafeSerializer(secret, salt="vraagbaak-console-sessie")
        self._login_signer = URLSafeSerializer(secret, salt="vraagbaak-console-inloggen")
        self._sessions: Dict[str, Session] = {}

    def create(self, account: Account) -> Tuple[Session, str]:
        """A new session for this account and the cookie value that refers to it."""
        now = self.clock()
        self._drop_expired(now)
        while len(self._sessions) >= MAX_SESSIONS:  # oldest first: dicts keep insertion order
            self._sessions.pop(next(iter(self._sessions)))
        session = Session(
            id=secrets.token_urlsafe(32),
            name=account.name,
            account=account.key,
            password_tag=account.password_tag,
            csrf=secrets.token_urlsafe(32),
            expires=now + self.lifetime,
        )
        self._sessions[session.id] = session
        cookie = self._signer.dumps({"sid": session.id, "exp": int(session.expires)})
        return session, cookie

    def get(self, cookie: str | None) -> Session | None:
        """The session a cookie refers to, or None when it is forged, unknown, ended or expired."""
        if not cookie or len(cookie) > 512:
            return None
        try:
            data = self._signer.loads(cookie)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        now = self.clock()
        session = self._sessions.get(str(data.get("sid")))
        if session is None:
            return None
        if now >= session.expires or now >= float(data.get("exp") or 0):
            self._sessions.pop(session.id, None)
            return None
        return session

    def end(self, cookie: str | None) -> None:
        """Log out: the session is gone, so the cookie is worthless even if someone kept a copy."""
        session = self.get(cookie)
        if session:
            self.drop(session)

    def drop(self, session: Session) -> None:
        """End this session (logout, or its account was removed or got a new password)."""
        self._sessions.pop(session.id, None)

    def _drop_expired(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[sid]

    # The login form has no session yet: its CSRF token travels in a signed cookie of its own.

    def login_token(self, cookie: str | None = None) -> Tuple[str, str]:
        """(token for the form, cookie value): the browser's own while it has a while to go, else a new one.

        Keeping it means a second login page (another tab, or the browser's own request for /favicon.ico
        that ends on the login page) does not invalidate the form that is already open.
        """
        token = self._login_token_in(cookie, margin=LOGIN_TOKEN_SECONDS / 2)
        if token and cookie:
            return token, cookie
        token = secrets.token_urlsafe(24)
        return token, self._login_signer.dumps({"t": token, "exp": int(self.clock() + LOGIN_TOKEN_SECONDS)})

    def _login_token_in(self, cookie: str | None, margin: float = 0.0) -> str:
        """The token in a correctly signed login cookie that is valid for at least `margin` seconds, or ''."""
        if not cookie or len(cookie) > 512:
            return ""
        try:
            data = self._login_signer.loads(cookie)
        except BadSignature:
            return ""
        if not isinstance(data, dict) or self.clock() + margin >= float(data.get("exp") or 0):
            return ""
        return str(data.get("t") or "")

    def login_token_ok(self, cookie: str | None, submitted: str | None) -> bool:
        """True when the form's token matches the (unexpired, correctly signed) login cookie."""
        return tokens_match(self._login_token_in(cookie), submitted)
