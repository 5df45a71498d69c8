"""Logging in: lock-out after failed attempts, signed session cookies with an expiry, CSRF tokens.

Sessions live in this process only (a restart logs everyone out). The cookie holds a signed session id and
its expiry; the name staff typed and the CSRF token stay on the server. Clocks are injectable for tests.
"""
from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, Dict, Tuple

from itsdangerous import BadSignature, URLSafeSerializer

Clock = Callable[[], float]

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
MAX_SESSIONS = 200
MAX_NAME_LENGTH = 60
DEFAULT_NAME = "medewerker"
LOGIN_TOKEN_SECONDS = 30 * 60


class LoginGuard:
    """Refuses every login for LOCKOUT_SECONDS after MAX_FAILURES failed ones within that time.

    There is one password, so the count is for the console as a whole, not per address (behind nginx every
    request comes from the same address). While locked, even the right password is refused.
    """

    def __init__(
        self,
        clock: Clock = time.monotonic,
        max_failures: int = MAX_FAILURES,
        lockout: float = LOCKOUT_SECONDS,
    ) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.lockout = lockout
        self._failures: Deque[float] = deque()
        self._locked_until = 0.0

    def seconds_locked(self) -> float:
        """Seconds until logging in is possible again (0 when it is possible now)."""
        return max(0.0, self._locked_until - self.clock())

    def failed(self) -> None:
        """Count a failed attempt; the last one allowed starts the lock-out."""
        now = self.clock()
        while self._failures and self._failures[0] <= now - self.lockout:
            self._failures.popleft()
        self._failures.append(now)
        if len(self._failures) >= self.max_failures:
            self._locked_until = now + self.lockout
            self._failures.clear()

    def succeeded(self) -> None:
        """A correct login clears the failures."""
        self._failures.clear()

    @property
    def failures(self) -> int:
        """Failed attempts counted now."""
        return len(self._failures)


@dataclass
class Session:
    """One logged-in member of staff."""

    id: str
    name: str
    csrf: str
    expires: float


def clean_name(raw: str) -> str:
    """The name typed at login, for the audit log: printable, bounded, 'medewerker' when empty."""
    printable = "".join(c for c in raw if c.isprintable())
    name = " ".join(printable.split())[:MAX_NAME_LENGTH]
    return name or DEFAULT_NAME


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

    def create(self, name: str) -> Tuple[Session, str]:
        """A new session and the cookie value that refers to it."""
        now = self.clock()
        self._drop_expired(now)
        while len(self._sessions) >= MAX_SESSIONS:  # oldest first: dicts keep insertion order
            self._sessions.pop(next(iter(self._sessions)))
        session = Session(
            secrets.token_urlsafe(32), clean_name(name), secrets.token_urlsafe(32), now + self.lifetime
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
