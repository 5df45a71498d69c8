"""Passwords of the console's accounts: argon2id hashes, the rules for a new one, and the old shared file.

The accounts themselves live in accounts.py. The old single password (.run/console-password, from earlier
versions) is only read once more, to become the first account.
"""
from __future__ import annotations

import functools
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vraagbaak.core.paths import PROJECT_DIR

PASSWORD_FILE = PROJECT_DIR / ".run" / "console-password"
MIN_LENGTH = 12
# Bounded before hashing: argon2 accepts anything, but nobody types a password of more than this.
MAX_LENGTH = 200
HASH_PREFIX = "$argon2"

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash with a fresh salt."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True only when the password matches the hash; a damaged hash or an over-long password is False."""
    if not password or len(password) > MAX_LENGTH:
        return False
    try:
        return bool(_HASHER.verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@functools.lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random password nobody knows, made with the same settings as real ones.

    A name without an account is checked against it, so a login for an unknown name takes as long as one for
    a real name: the time a wrong answer takes says nothing about which names exist.
    """
    return hash_password(secrets.token_urlsafe(32))


def password_problem(password: str) -> str | None:
    """Why a new password is not good enough (Dutch), or None."""
    if len(password) < MIN_LENGTH:
        return f"Het wachtwoord moet minstens {MIN_LENGTH} tekens lang zijn."
    if len(password) > MAX_LENGTH:
        return f"Het wachtwoord mag hoogstens {MAX_LENGTH} tekens lang zijn."
    if password.strip() != password:
        return "Het wachtwoord mag niet met een spatie beginnen of eindigen."
    return None


def read_password_hash(path: Path = PASSWORD_FILE) -> str | None:
    """The hash in the old shared password file, or None when there is no (valid) one."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.startswith(HASH_PREFIX) else None
