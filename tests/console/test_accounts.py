"""Staff accounts: the 0600 file, the account command, the move from the shared password, ending sessions."""
from __future__ import annotations

import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator, List

import pytest

from tests.support.console import PASSWORD, Running, password_hash
from vraagbaak.console import __main__ as console_main
from vraagbaak.console import accounts as acc
from vraagbaak.console import app as console_app
from vraagbaak.console import state as console_state
from vraagbaak.console.account_command import main as account_command
from vraagbaak.console.password import hash_password, verify_password
from vraagbaak.reports import shared as reports

NEW_PASSWORD = "een-ander-lang-wachtwoord"


def command(path: Path, *typed: str, args: List[str] | None = None, old: Path | None = None) -> int:
    """Run the account command with these answers to its questions (name, password, password)."""
    answers: Iterator[str] = iter(typed)
    argv = ["--bestand", str(path), "--wachtwoordbestand", str(old or path.with_name("geen")), *(args or [])]
    return account_command(argv, ask_name=lambda _: next(answers), ask_password=lambda _: next(answers))


def test_the_file_holds_one_hash_per_name_readable_by_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / ".run" / "console-accounts"
    assert command(path, "Ann", PASSWORD, PASSWORD) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert PASSWORD not in text and "Ann\t$argon2id$" in text
    account = acc.read_accounts(path)["ann"]
    assert account.name == "Ann" and verify_password(account.password_hash, PASSWORD)
    assert [p.name for p in tmp_path.joinpath(".run").iterdir() if not p.name.endswith(".lock")] == [
        "console-accounts"
    ]  # no temporary file left behind


def test_an_existing_file_with_other_permissions_is_replaced_by_a_0600_one(tmp_path: Path) -> None:
    path = tmp_path / "console-accounts"
    path.write_text("oud\n")
    path.chmod(0o644)
    assert command(path, "Ann", PASSWORD, PASSWORD) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_second_command_resets_the_password_and_keeps_the_other_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "console-accounts"
    assert command(path, "Ann", PASSWORD, PASSWORD) == 0
    assert command(path, "Bo", PASSWORD, PASSWORD) == 0
    assert command(path, " ann ", NEW_PASSWORD, NEW_PASSWORD) == 0
    assert "'Ann' bestaat al" in capsys.readouterr().out
    accounts = acc.read_accounts(path)
    assert sorted(a.name for a in accounts.values()) == ["Ann", "Bo"]
    assert verify_password(accounts["ann"].password_hash, NEW_PASSWORD)
    assert verify_password(accounts["bo"].password_hash, PASSWORD)


@pytest.mark.parametrize(
    "typed, message",
    [
        (("Ann", PASSWORD, PASSWORD + "!"), "niet gelijk"),
        (("Ann", "kort", "kort"), "minstens 12"),
        (("Ann", " " + PASSWORD, " " + PASSWORD), "spatie"),
        (("  ", PASSWORD, PASSWORD), "Typ een naam"),
        (("A" * 61, PASSWORD, PASSWORD), "hoogstens 60"),
        (("#Ann", PASSWORD, PASSWORD), "niet met #"),
    ],
)
def test_the_command_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], typed: Any, message: str
) -> None:
    path = tmp_path / "console-accounts"
    assert command(path, *typed) == 1
    assert message in capsys.readouterr().err
    assert acc.read_accounts(path) == {}


def test_listing_and_removing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "console-accounts"
    for name in ("Bo", "Ann"):
        command(path, name, PASSWORD, PASSWORD)
    capsys.readouterr()
    assert command(path, args=["--lijst"]) == 0
    assert capsys.readouterr().out.splitlines() == ["Ann", "Bo"]
    assert command(path, args=["--verwijder", "BO"]) == 0
    assert "'Bo' is verwijderd" in capsys.readouterr().out
    assert command(path, args=["--verwijder", "Bo"]) == 1
    assert "geen account 'Bo'" in capsys.readouterr().err
    assert command(path, args=["--verwijder", ""]) == 1
    assert "NAME=" in capsys.readouterr().err
    assert list(acc.read_accounts(path)) == ["ann"]


def test_the_shared_password_becomes_the_account_medewerker_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, path = tmp_path / "console-password", tmp_path / "console-accounts"
    old.write_text(password_hash() + "\n")
    assert command(path, args=["--lijst"], old=old) == 0
    out = capsys.readouterr().out
    assert "nu het account 'medewerker'" in out and out.splitlines()[-1] == "medewerker"
    assert not old.exists()  # the shared hash is not kept in two places
    assert verify_password(acc.read_accounts(path)["medewerker"].password_hash, PASSWORD)
    old.write_text(hash_password("nog-een-oud-wachtwoord") + "\n")
    assert acc.migrate_password_file(old, path) is None  # accounts exist: the old file is not read again
    assert verify_password(acc.read_accounts(path)["medewerker"].password_hash, PASSWORD)


def test_the_console_moves_the_shared_password_at_start_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, path = tmp_path / "console-password", tmp_path / "console-accounts"
    old.write_text(password_hash() + "\n")
    served: List[Any] = []
    monkeypatch.setattr(reports, "quiet_process", lambda: None)  # it changes this whole test process
    monkeypatch.setattr(console_state.Console, "create", staticmethod(lambda *a, **k: SimpleNamespace()))
    monkeypatch.setattr(
        console_app, "create_app", lambda console: SimpleNamespace(run=lambda **kw: served.append(kw))
    )
    args = ["--accountbestand", str(path), "--wachtwoordbestand", str(old), "--werkmap", str(tmp_path)]
    assert console_main.main(args) == 0 and served
    assert "nu het account 'medewerker'" in capsys.readouterr().out
    assert list(acc.read_accounts(path)) == ["medewerker"] and not old.exists()


def test_damaged_lines_are_skipped() -> None:
    text = f"# kop\nAnn\t{password_hash()}\nzonder-tab\nBo\tgeen-hash\n\t{password_hash()}\n"
    assert list(acc.parse_accounts(text)) == ["ann"]


def test_the_running_console_sees_changes_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "console-accounts"
    book = acc.AccountBook(path)
    assert book.get("Ann") is None and book.names() == []
    acc.set_password("Ann", password_hash(), path)
    assert book.get("ANN") is not None and book.names() == ["Ann"]
    acc.remove("ann", path)
    assert book.get("Ann") is None


async def test_a_new_password_or_a_removed_account_ends_its_sessions(running: Running) -> None:
    path = running.console.workspace.accounts_file
    async with running.client() as ann, running.client() as bo:
        assert await running.login(ann) == 303 and await running.login(bo, name="Bo") == 303
        acc.set_password("Ann", hash_password(NEW_PASSWORD), path)
        async with ann.get(running.url + "/vraag", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/inloggen"
        async with bo.get(running.url + "/vraag", allow_redirects=False) as response:
            assert response.status == 200  # another account's session goes on
        assert await running.login(ann, password=PASSWORD) == 401
        assert await running.login(ann, password=NEW_PASSWORD) == 303
        acc.remove("Bo", path)
        async with bo.get(running.url + "/vraag", allow_redirects=False) as response:
            assert response.status == 303
        assert await running.login(bo, name="Bo") == 401
