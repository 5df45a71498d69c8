"""Private log lines in a real process: pseudonyms for ids, no secrets, one bounded line per event; the log key."""
from __future__ import annotations

import hashlib
import hmac
import logging
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from vraagbaak.adapters import log_privacy
from vraagbaak.adapters.rasa_patches.log_user_text import without_user_text
from vraagbaak.core.log_lines import MAX_LINE
from vraagbaak.core.paths import PROJECT_DIR

SENDER = "Jan Jansen 0612345678"

# A process that logs what Rasa logs: the circuit breaker's warning, a traceback, an id with a newline.
PROBE = """
import logging, sys
from vraagbaak.adapters import log_privacy
logging.basicConfig(stream=sys.stdout, level=logging.DEBUG, format="%(levelname)s %(name)s - %(message)s")
if {install}:
    log_privacy.install_private_log_lines(bytes(32), ["s3cr3t-t0ken-value"])
sender = "Jan Jansen 0612345678\\nERROR vervalst - deze regel schreef de bezoeker"
log = logging.getLogger("rasa.core.processor")
with log_privacy.identifiers_in_play("rest:" + sender, sender):
    log.warning(f"Circuit breaker tripped. Stopped predicting more actions for sender 'rest:{{sender}}'.")
    try:
        raise KeyError(sender)
    except KeyError:
        log.exception("Lock for conversation %s failed", "rest:" + sender)
log.info("GET /status?token=s3cr3t-t0ken-value " + "x" * 100000)
"""


def run_probe(install: bool) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(install=install)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_DIR,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_without_the_filter_the_probe_leaks_so_the_checks_below_can_fail() -> None:
    out = run_probe(install=False)
    assert "0612345678" in out and "s3cr3t-t0ken-value" in out
    assert any(line.startswith("ERROR vervalst") for line in out.splitlines())
    assert max(len(line) for line in out.splitlines()) > MAX_LINE


def test_with_the_filter_no_id_no_secret_no_forged_line_no_long_line() -> None:
    out = run_probe(install=True)
    lines = out.splitlines()
    name = (
        "#" + hmac.new(bytes(32), f"rest:{SENDER}\nERROR vervalst".encode(), hashlib.sha256).hexdigest()[:12]
    )
    assert "0612345678" not in out and "s3cr3t-t0ken-value" not in out
    assert not any(line.startswith("ERROR vervalst") for line in lines)
    assert max(len(line) for line in lines) <= MAX_LINE
    # Three events, three lines: the traceback stays on the line of its event.
    assert len(lines) == 3, lines
    assert "Circuit breaker tripped" in lines[0] and "KeyError" in lines[1] and "Traceback" in lines[1]
    assert name not in out  # the pseudonym is of the whole id, newline included
    assert lines[0].count("#") == 1


def _record(message: str, *args: Any, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("rasa", logging.WARNING, "f", 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_a_record_is_copied_private_and_the_original_is_untouched() -> None:
    record = _record("for sender %s", "'rest:MERK-1'", request="POST /conversations/rest:MERK-1/tracker")
    with log_privacy.identifiers_in_play("rest:MERK-1", "MERK-1") as name:
        clean = log_privacy.private_record(record)
    assert clean.getMessage() == f"for sender '{name}'"
    assert "MERK" not in clean.request  # type: ignore[attr-defined]
    assert record.getMessage() == "for sender 'rest:MERK-1'"


def test_the_ids_are_known_only_inside_their_block() -> None:
    with log_privacy.identifiers_in_play("rest:MERKTEKEN42", "MERKTEKEN42"):
        assert "MERK" not in log_privacy.private_text("x MERKTEKEN42 y")
    assert "MERKTEKEN42" in log_privacy.private_text("x MERKTEKEN42 y")


def test_structlog_id_fields_become_pseudonyms() -> None:
    event: Dict[str, Any] = {"event": "e", "sender_id": "rest:MERK", "metadata": {"naam": "MERK"}}
    cleaned = without_user_text(None, "info", event)
    assert "MERK" not in repr(cleaned) and cleaned["sender_id"] == log_privacy.hide_identifier("rest:MERK")


def test_the_log_key_is_made_once_owner_only_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "run" / "log-key"
    key = log_privacy.load_log_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert log_privacy.load_log_key(path) == key
    assert list(path.parent.iterdir()) == [path]  # no draft left behind
    path.chmod(0o644)
    assert log_privacy.load_log_key(path) == key and stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("damage", ["unwritable", "malformed"])
def test_a_key_that_cannot_be_kept_gives_a_temporary_one(tmp_path: Path, damage: str) -> None:
    if damage == "unwritable":
        (tmp_path / "run").write_text("een bestand, geen map")
        path = tmp_path / "run" / "log-key"
    else:
        path = tmp_path / "log-key"
        path.write_text("geen sleutel")
    first, second = log_privacy.load_log_key(path), log_privacy.load_log_key(path)
    assert len(first) == 32 and first != second


def test_api_secrets_reach_rasas_app_without_a_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import rasa.core.run
    import rasa.server
    import sanic

    from vraagbaak.adapters.rasa_patches import api_secrets, patch
    from vraagbaak.core.settings import Settings

    seen: Dict[str, Any] = {}
    create_app = rasa.server.create_app

    def recording_create_app(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return create_app(**kwargs)

    monkeypatch.setattr(rasa.server, "create_app", recording_create_app)
    monkeypatch.setattr(rasa.core.run, "configure_app", rasa.core.run.configure_app)
    monkeypatch.setattr(sanic.Sanic, "test_mode", True)  # two apps of one name in this test
    monkeypatch.setattr(patch, "REGISTRY", patch.Registry())  # installed on the configure_app restored above
    api_secrets.PATCH.install(
        Settings(production=True, rasa_token="t0ken-uit-de-omgeving", jwt_secret="jwt-geheim-uit-de-omgeving")
    )
    rasa.core.run.configure_app(None, None, None, True, 10, None, None, "HS256")
    assert seen["auth_token"] == "t0ken-uit-de-omgeving"
    assert seen["jwt_secret"] == "jwt-geheim-uit-de-omgeving"
    # A value given on a command line is kept.
    rasa.core.run.configure_app(auth_token="eigen", enable_api=True, jwt_method="HS256")
    assert seen["auth_token"] == "eigen"
