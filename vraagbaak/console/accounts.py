"""Staff accounts: one name and argon2 hash per person, in .run/console-accounts (mode 0600).

One account per line, `name<TAB>hash`. Every change writes the whole file to a temporary 0600 file in the same
folder and renames it over the old one, so the running console reads the old file or the new one, never half
of one. Names match regardless of case and spacing ("Ann" and " ann " are one account), so nobody gets a
second account by accident. The one shared password of earlier versions (.run/console-password) becomes the
account "medewerker" the first time the console or the account command runs.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from vraagbaak.console.password import HASH_PREFIX, PASSWORD_FILE, read_password_hash
from vraagbaak.core.paths import PROJECT_DIR

ACCOUNTS_FILE = PROJECT_DIR / ".run" / "console-accounts"
MIGRATED_NAME = "medewerker"
MAX_NAME_LENGTH = 60
HEADER = "# Accounts van de console van Vraagbaak: naam, tab, argon2-hash. Wijzig met `make console-user`.\n"


@dataclass(frozen=True)
class Account:
    """One member of staff: the name shown in the audit log and the hash of their password."""

    name: str
    password_hash: str = field(repr=False)

    @property
    def key(self) -> str:
        """The name as logins and the file compare it."""
        return name_key(self.name)

    @property
    def password_tag(self) -> str:
        """A short fingerprint of the hash: a session ends when its account's password changes."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


def clean_name(raw: str) -> str:
    """Printable characters only, runs of spaces (and tabs) as one space, none at the ends."""
    return " ".join("".join(c if c.isprintable() else " " for c in raw).split())


def name_key(raw: str) -> str:
    """The form in which names are compared: cleaned and case-folded ('' for an empty name)."""
    return clean_name(raw).casefold()


def name_problem(name: str) -> str | None:
    """Why a name cannot be an account name (Dutch), or None."""
    if not name:
        return "Typ een naam."
    if len(name) > MAX_NAME_LENGTH:
        return f"Een naam mag hoogstens {MAX_NAME_LENGTH} tekens lang zijn."
    if name.startswith("#"):  # in the file such a line would be a comment
        return "Een naam mag niet met # beginnen."
    return None


def parse_accounts(text: str) -> Dict[str, Account]:
    """The accounts in the file's text, by key; damaged lines are skipped, never half-trusted."""
    accounts: Dict[str, Account] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        name, _, stored = line.rpartition("\t")
        name, stored = clean_name(name), stored.strip()
        if name_problem(name) is None and stored.startswith(HASH_PREFIX):
            accounts[name_key(name)] = Account(name, stored)
    return accounts


def read_accounts(path: Path = ACCOUNTS_FILE) -> Dict[str, Account]:
    """The accounts in the file, {} when there is none (or it cannot be read)."""
    try:
        return parse_accounts(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}


def write_accounts(accounts: Dict[str, Account], path: Path = ACCOUNTS_FILE) -> None:
    """Replace the file in one step with these accounts (sorted by name), readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = HEADER + "".join(
        f"{account.name}\t{account.password_hash}\n"
        for account in sorted(accounts.values(), key=lambda a: a.key)
    )
    # mkstemp creates the file with mode 0600 from the start: the hashes are never readable by others.
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def changing(path: Path = ACCOUNTS_FILE) -> Iterator[Dict[str, Account]]:
    """Read, let the caller change the accounts, write: one change at a time (two commands lose nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        accounts = read_accounts(path)
        yield accounts
        write_accounts(accounts, path)
    finally:
        os.close(lock)  # closing releases the lock


def set_password(name: str, password_hash: str, path: Path = ACCOUNTS_FILE) -> bool:
    """Add the account or give it a new password; True when it is new."""
    account = Account(clean_name(name), password_hash)
    problem = name_problem(account.name)
    if problem:
        raise ValueError(problem)
    with changing(path) as accounts:
        new = account.key not in accounts
        # A reset keeps the name as it was first written; a new account keeps the name as typed.
        accounts[account.key] = Account(accounts[account.key].name, password_hash) if not new else account
    return new


def remove(name: str, path: Path = ACCOUNTS_FILE) -> Account | None:
    """Remove the account; the removed account, or None when there was none by that name."""
    with changing(path) as accounts:
        return accounts.pop(name_key(name), None)


def migrate_password_file(password_file: Path = PASSWORD_FILE, path: Path = ACCOUNTS_FILE) -> Account | None:
    """Turn the old shared password into the account 'medewerker', only while there are no accounts yet.

    The old file is removed afterwards, so the shared password no longer exists in two places. With accounts
    already present the old file is left alone: it is no longer read.
    """
    stored = read_password_hash(password_file)
    if stored is None or read_accounts(path):
        return None
    with changing(path) as accounts:
        if accounts:  # another command was quicker
            return None
        account = Account(MIGRATED_NAME, stored)
        accounts[account.key] = account
    with contextlib.suppress(OSError):
        password_file.unlink()
    return account


class AccountBook:
    """The accounts as the running console sees them: read again whenever the file changed.

    A changed file is noticed by its inode, size and modification time (one stat per look-up), so an account
    added, reset or removed with `make console-user` counts from the next request on, without a restart.
    """

    def __init__(self, path: Path = ACCOUNTS_FILE) -> None:
        self.path = path
        self._seen: Tuple[int, int, int] | None = None
        self._accounts: Dict[str, Account] = {}

    def _current(self) -> Dict[str, Account]:
        try:
            info = self.path.stat()
        except OSError:
            self._seen, self._accounts = None, {}
            return self._accounts
        seen = (info.st_ino, info.st_size, info.st_mtime_ns)
        if seen != self._seen:
            self._seen, self._accounts = seen, read_accounts(self.path)
        return self._accounts

    def get(self, name: str) -> Account | None:
        """The account with this name (any case), or None."""
        return self._current().get(name_key(name))

    def names(self) -> List[str]:
        """Every account's name, sorted."""
        return [a.name for a in sorted(self._current().values(), key=lambda a: a.key)]
