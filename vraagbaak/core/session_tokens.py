"""Session ids for the website widget that only the server can make: a random id and its HMAC-SHA256.

The widget keeps the whole token and sends it back; the conversation is stored under the id alone, so an id
seen anywhere else (a tracker key, a staff tool) is not enough to resume that conversation or read its
replies. The key is made once and kept in a file only its owner can read, so every replica that reads the same
file (or gets the same VRAAGBAAK_SOCKETIO_KEY) accepts the same tokens.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from vraagbaak.core.settings import MIN_JWT_SECRET_LENGTH, ConfigError, Settings

# The id is hex and the signature base64url, so a token is safe in JSON, storage keys and URLs as it is.
TOKEN = re.compile(r"([0-9a-f]{32})\.([A-Za-z0-9_-]{43})")
TOKEN_LENGTH = 76
# Signatures made for this purpose only: the same key can never sign something that passes elsewhere.
PURPOSE = b"vraagbaak socket.io sessie\x00"
MIN_KEY_LENGTH = MIN_JWT_SECRET_LENGTH
KEY_FILE_MODE = 0o600


def signature(key: bytes, session: str) -> str:
    """The base64url HMAC-SHA256 of one session id (43 characters, no padding)."""
    digest = hmac.new(key, PURPOSE + session.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class SessionTokens:
    """Issues tokens and tells which session a token belongs to (None for anything the server did not issue)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"De sleutel voor socket.io-sessies moet minstens {MIN_KEY_LENGTH} tekens lang zijn."
            )
        self._key = key

    def issue(self) -> str:
        """A new session: 128 random bits and their signature."""
        session = secrets.token_hex(16)
        return f"{session}.{signature(self._key, session)}"

    def session_of(self, token: object) -> str | None:
        """The session id of a token this server (or a replica with the same key) issued, else None."""
        if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
            return None
        match = TOKEN.fullmatch(token)
        if match is None:
            return None
        session, given = match.groups()
        # Constant time: how far a guess matched must not show in the answer time.
        if not hmac.compare_digest(signature(self._key, session).encode(), given.encode()):
            return None
        return session


def _read_key_file(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        raise ConfigError(
            f"{path} (de sleutel voor socket.io-sessies) is leesbaar voor anderen dan de eigenaar; "
            f"zet hem op chmod 600 of verwijder hem, dan maakt de server een nieuwe."
        )
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"{path} bevat geen bruikbare sleutel (minstens {MIN_KEY_LENGTH} tekens).")
    return key


def key_file(path: Path) -> bytes:
    """The key in this file; the first process that finds no file makes it (0600), the others read that one."""
    if path.exists():
        return _read_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            # A hard link appears complete or not at all, and fails if another replica was first.
            os.link(draft, path)
        except FileExistsError:
            pass
    finally:
        draft.unlink(missing_ok=True)
    return _read_key_file(path)


def session_key(settings: Settings) -> bytes:
    """VRAAGBAAK_SOCKETIO_KEY if set (every replica gets the same secret), else the key file."""
    if settings.socketio_key:
        return settings.socketio_key.encode("utf-8")
    return key_file(Path(settings.socketio_key_file))


def session_tokens(settings: Settings | None = None) -> SessionTokens:
    """The tokens of this server, with the configured key."""
    return SessionTokens(session_key(settings or Settings.from_env()))
