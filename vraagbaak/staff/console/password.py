"""The console password: an argon2 hash in .run/console-password (mode 0600), set by `make console-password`.

There is no default password: without this file the console refuses to start.
"""
from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

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


def password_problem(password: str) -> str | None:
    """Why a new password is not good enough (Dutch), or None."""
    if len(password) < MIN_LENGTH:
        return f"Het wachtwoord moet minstens {MIN_LENGTH} tekens lang zijn."
    if len(password) > MAX_LENGTH:
        return f"Het wachtwoord mag hoogstens {MAX_LENGTH} tekens lang zijn."
    if password.strip() != password:
        return "Het wachtwoord mag niet met een spatie beginnen of eindigen."
    return None


def write_password_file(stored_hash: str, path: Path = PASSWORD_FILE) -> None:
    """Write the hash so that only this user can read it (0600), also when the file already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(stored_hash + "\n")
    os.chmod(path, 0o600)


def read_password_hash(path: Path = PASSWORD_FILE) -> str | None:
    """The stored hash, or None when no (valid) password has been set."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.startswith(HASH_PREFIX) else None


def main(
    argv: Sequence[str] | None = None,
    ask: Callable[[str], str] = getpass.getpass,
    path: Path = PASSWORD_FILE,
) -> int:
    """Ask for the new password twice (not shown on screen) and store its hash."""
    del argv  # no options
    print("Nieuw wachtwoord voor de console van Vraagbaak. Wat je typt, zie je niet op het scherm.")
    try:
        first = ask("Wachtwoord: ")
        second = ask("Nog een keer: ")
    except (EOFError, KeyboardInterrupt):
        print("\nGestopt. Het wachtwoord is niet veranderd.", file=sys.stderr)
        return 1
    if first != second:
        print("De twee wachtwoorden zijn niet gelijk. Het wachtwoord is niet veranderd.", file=sys.stderr)
        return 1
    problem = password_problem(first)
    if problem:
        print(f"{problem} Het wachtwoord is niet veranderd.", file=sys.stderr)
        return 1
    write_password_file(hash_password(first), path)
    print(f"Het wachtwoord is opgeslagen (alleen de versleutelde vorm, in {path}).")
    print("Een console die al draait, gebruikt het nieuwe wachtwoord meteen.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
