"""`make console-user`: add a console account or give it a new password; also remove and list accounts.

    python -m vraagbaak.console.account_command                  asks the name, then the password twice
    python -m vraagbaak.console.account_command --lijst          the names of all accounts
    python -m vraagbaak.console.account_command --verwijder NAAM remove an account

The password is only ever typed at the prompt (not shown on screen), never given on the command line or in
an environment variable, where other users of the machine or the shell history could read it.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Callable, Sequence

from vraagbaak.console import accounts as acc
from vraagbaak.console.password import PASSWORD_FILE, hash_password, password_problem

Ask = Callable[[str], str]


def migrate(password_file: Path, path: Path) -> None:
    """Turn the old shared password into the first account, and say so."""
    account = acc.migrate_password_file(password_file, path)
    if account:
        print(
            f"Het oude gedeelde wachtwoord is nu het account '{account.name}'. Maak voor iedereen een "
            "eigen account en verwijder daarna dit account met "
            f"`make console-user-remove NAME={account.name}`."
        )


def add_or_reset(path: Path, ask_name: Ask, ask_password: Ask) -> int:
    """Ask the name and the new password (twice, not shown) and store the hash."""
    print("Nieuw account of nieuw wachtwoord voor de console van Vraagbaak.")
    try:
        name = acc.clean_name(ask_name("Naam: "))
        problem = acc.name_problem(name)
        if problem:
            print(f"{problem} Er is niets veranderd.", file=sys.stderr)
            return 1
        exists = acc.read_accounts(path).get(acc.name_key(name))
        print(
            f"'{exists.name}' bestaat al: je kiest een nieuw wachtwoord."
            if exists
            else f"Nieuw account '{name}'."
        )
        print("Wat je typt, zie je niet op het scherm.")
        first = ask_password("Wachtwoord: ")
        second = ask_password("Nog een keer: ")
    except (EOFError, KeyboardInterrupt):
        print("\nGestopt. Er is niets veranderd.", file=sys.stderr)
        return 1
    if first != second:
        print("De twee wachtwoorden zijn niet gelijk. Er is niets veranderd.", file=sys.stderr)
        return 1
    problem = password_problem(first)
    if problem:
        print(f"{problem} Er is niets veranderd.", file=sys.stderr)
        return 1
    new = acc.set_password(name, hash_password(first), path)
    print(
        f"{'Het account is gemaakt' if new else 'Het nieuwe wachtwoord is opgeslagen'} "
        f"(alleen de versleutelde vorm, in {path})."
    )
    print(
        "Een console die al draait, gebruikt het meteen."
        + ("" if new else " Wie met het oude wachtwoord ingelogd was, moet opnieuw inloggen.")
    )
    return 0


def remove(path: Path, name: str) -> int:
    """Remove one account; its sessions in a running console end at their next click."""
    if not acc.clean_name(name):
        print("Geef de naam: make console-user-remove NAME=...", file=sys.stderr)
        return 1
    removed = acc.remove(name, path)
    if removed is None:
        print(f"Er is geen account '{acc.clean_name(name)}'. Er is niets veranderd.", file=sys.stderr)
        return 1
    print(f"Het account '{removed.name}' is verwijderd. Wie ermee ingelogd was, is uitgelogd.")
    if not acc.read_accounts(path):
        print("Er is nu geen enkel account meer: de console start pas weer na `make console-user`.")
    return 0


def list_names(path: Path) -> int:
    """Print the account names, one per line."""
    names = [a.name for a in sorted(acc.read_accounts(path).values(), key=lambda a: a.key)]
    if not names:
        print("Er zijn nog geen accounts. Maak er een met `make console-user`.")
    for name in names:
        print(name)
    return 0


def main(
    argv: Sequence[str] | None = None,
    ask_name: Ask = input,
    ask_password: Ask = getpass.getpass,
) -> int:
    """Add or reset (default), remove (--verwijder) or list (--lijst) accounts."""
    parser = argparse.ArgumentParser(
        prog="python -m vraagbaak.console.account_command", description=__doc__.splitlines()[0]
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--lijst", action="store_true", help="toon de namen van alle accounts")
    what.add_argument("--verwijder", metavar="NAAM", help="verwijder dit account")
    parser.add_argument(
        "--bestand", type=Path, default=acc.ACCOUNTS_FILE, help="standaard .run/console-accounts"
    )
    parser.add_argument(
        "--wachtwoordbestand", type=Path, default=PASSWORD_FILE, help="het oude gedeelde wachtwoord"
    )
    args = parser.parse_args(argv)
    migrate(args.wachtwoordbestand, args.bestand)
    if args.lijst:
        return list_names(args.bestand)
    if args.verwijder is not None:
        return remove(args.bestand, args.verwijder)
    return add_or_reset(args.bestand, ask_name, ask_password)


if __name__ == "__main__":
    sys.exit(main())
