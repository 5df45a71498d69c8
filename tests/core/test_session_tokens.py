"""Server-issued socket.io session tokens: only the server's own signature resumes a session."""
from __future__ import annotations

import base64
import hashlib
import hmac
import multiprocessing
import os
import string
from pathlib import Path
from typing import Any, List

import pytest

from vraagbaak.core.session_tokens import (
    PURPOSE,
    TOKEN,
    SessionTokens,
    key_file,
    session_key,
    signature,
)
from vraagbaak.core.settings import ConfigError, Settings

KEY = b"k" * 32
TOKENS = SessionTokens(KEY)


def test_an_issued_token_names_its_session_and_only_that_one() -> None:
    token = TOKENS.issue()
    assert TOKEN.fullmatch(token) and len(token) == 76
    session = TOKENS.session_of(token)
    assert session == token.split(".")[0] and len(session) == 32
    assert len({TOKENS.issue() for _ in range(200)}) == 200


def test_the_signature_is_hmac_sha256_of_the_id_for_this_purpose_only() -> None:
    session = "0" * 32
    expected = hmac.new(KEY, PURPOSE + session.encode(), hashlib.sha256).digest()
    assert signature(KEY, session) == base64.urlsafe_b64encode(expected).rstrip(b"=").decode()
    # Without the purpose prefix the same key signs something else: no other HMAC of it passes here.
    plain = base64.urlsafe_b64encode(hmac.new(KEY, session.encode(), hashlib.sha256).digest())
    assert TOKENS.session_of(f"{session}.{plain.rstrip(b'=').decode()}") is None


def one_character_changes(token: str) -> List[str]:
    """Every token that differs from this one in exactly one position (to a character of the token alphabet)."""
    alphabet = string.ascii_letters + string.digits + "-_."
    changed = []
    for index, current in enumerate(token):
        replacement = next(c for c in alphabet if c != current)
        changed.append(token[:index] + replacement + token[index + 1 :])
    return changed


def test_every_one_character_tampering_is_rejected() -> None:
    """Mutation-style: each of the 76 single-character changes of a good token must fail the check."""
    token = TOKENS.issue()
    mutants = one_character_changes(token)
    assert len(mutants) == 76
    assert [m for m in mutants if TOKENS.session_of(m) is not None] == []


@pytest.mark.parametrize(
    "forged",
    [
        "victim-id",  # an old-style id the widget used to propose
        "0123456789abcdef0123456789abcdef",  # the bare session id (as a tracker key shows it)
        None,
        12345678,
        ["lijst"],
        "",
    ],
)
def test_anything_not_issued_by_the_server_is_rejected(forged: Any) -> None:
    assert TOKENS.session_of(forged) is None


def test_other_keys_and_transplanted_signatures_are_rejected() -> None:
    victim = TOKENS.issue()
    session = victim.split(".")[0]
    other_server = SessionTokens(b"x" * 32)
    attacker = TOKENS.issue()
    for forged in (
        f"{session}.{signature(b'x' * 32, session)}",  # signed by a server with another key
        f"{session}.{attacker.split('.')[1]}",  # the attacker's own valid signature on the victim's id
        f"{session}.",  # no signature
        session,
        victim.upper(),
        victim + "A",
        victim[:-1],
        " " + victim,
    ):
        assert TOKENS.session_of(forged) is None, forged
    assert other_server.session_of(victim) is None
    # And the check itself works: the untouched token passes.
    assert TOKENS.session_of(victim) == session


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="minstens 32"):
        SessionTokens(b"kort")


def test_the_key_file_is_made_once_for_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "socketio.key"
    first = key_file(path)
    assert len(first) == 64 and path.stat().st_mode & 0o777 == 0o600
    assert key_file(path) == first
    assert list(path.parent.iterdir()) == [path], "no draft file is left behind"


def _read_key(path: str) -> bytes:
    return key_file(Path(path))


def test_replicas_starting_together_get_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "socketio.key"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        keys = pool.map(_read_key, [str(path)] * 8)
    assert len(set(keys)) == 1 and keys[0] == path.read_bytes().strip()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "socketio.key"
    key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        key_file(path)


def test_a_key_file_without_a_usable_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "socketio.key"
    path.write_text("kort\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="geen bruikbare sleutel"):
        key_file(path)


def test_the_key_setting_wins_over_the_file_and_must_be_long_enough(tmp_path: Path) -> None:
    path = tmp_path / "socketio.key"
    shared = "s" * 40
    settings = Settings.from_env({"VRAAGBAAK_SOCKETIO_KEY": shared, "VRAAGBAAK_SOCKETIO_KEY_FILE": str(path)})
    assert session_key(settings) == shared.encode() and not path.exists()
    assert "s" * 40 not in repr(settings)
    assert session_key(Settings.from_env({"VRAAGBAAK_SOCKETIO_KEY_FILE": str(path)})) == key_file(path)
    for env in (
        {"VRAAGBAAK_SOCKETIO_KEY": "kort"},
        {"VRAAGBAAK_ENV": "production", "VRAAGBAAK_SOCKETIO_KEY": "kort"},
    ):
        with pytest.raises(ConfigError, match="VRAAGBAAK_SOCKETIO_KEY moet minstens 32"):
            Settings.from_env(env)
