"""`make run` as it starts (`python -m vraagbaak.ops.launcher serve`), with Rasa at DEBUG: no id in any log line.

Marked ids go in as a REST sender (a name and a phone number, with a newline, and 1 MB long), as a socket.io
session id and inside metadata, with the payload that used to trip Rasa's circuit breaker. Rasa at DEBUG
writes the conversation id into many lines, so the scan proves the pseudonyms, not a quiet log level. The
servers' secrets must be on no command line.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import signal
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from tests.e2e.log_scan import FORGED, log_findings, secrets_on_command_lines
from tests.e2e.socketio_client import SocketIO, run_socketio
from tests.support.bot import MODEL
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.log_lines import MAX_LINE
from vraagbaak.ops.processes import free_port, launcher_command, start_process, wait_for
from vraagbaak.ops.supervision import session_members, stop_session

pytestmark = pytest.mark.servers
KB = knowledge_base()
CIRCUIT_BREAKER_PAYLOAD = "/out_of_scope"


def marker(kind: str) -> str:
    return f"MERK{kind}{uuid.uuid4().hex[:16]}"


@dataclass
class MakeRun:
    """`make run`'s processes in a session of their own, on free ports, all writing to one log."""

    process: subprocess.Popen
    rasa_url: str
    log: Path
    key_file: Path
    markers: Dict[str, str] = field(default_factory=dict)
    replies: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    issued_session: str = ""

    def rest(self, sender: str, message: str, status: int = 200, **extra: Any) -> List[Dict[str, Any]]:
        body = {"sender": sender, "message": message, **extra}
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=120)
        assert response.status_code == status, response.text[:300]
        return list(response.json())

    def pids(self) -> List[int]:
        return session_members(self.process.pid)

    def rasa_environment(self) -> Dict[str, str]:
        """The Rasa process's environment, as only its owner can read it."""
        for pid in self.pids():
            if b"rasa\0run" in Path(f"/proc/{pid}/cmdline").read_bytes():
                raw = Path(f"/proc/{pid}/environ").read_bytes()
                return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
        pytest.fail("Rasa draait niet in de sessie van make run")


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    workdir = tmp_path_factory.mktemp("make-run")
    ports = {name: free_port() for name in ("RASA", "ACTION", "WEB", "CONSOLE")}
    env = {f"VRAAGBAAK_{name}_PORT": str(port) for name, port in ports.items()}
    env["VRAAGBAAK_LOG_KEY_FILE"] = str(workdir / "log-key")
    log = workdir / "make-run.log"
    process = start_process(
        launcher_command(["serve", str(MODEL), "--debug"]), log, env=env, own_session=True
    )
    running = MakeRun(process, f"http://127.0.0.1:{ports['RASA']}", log, workdir / "log-key")
    try:
        wait_for(f"http://127.0.0.1:{ports['ACTION']}/health", process, timeout=120)
        wait_for(f"{running.rasa_url}/", process, timeout=300)
        yield running
    finally:
        process.send_signal(signal.SIGINT)  # like Ctrl-C: serve stops what it started
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        stop_session(process.pid, timeout=10)


@pytest.fixture(scope="module")
def traffic(make_run: MakeRun) -> MakeRun:
    """Every marked id through every way in, once; the replies to the circuit-breaker payload are kept."""
    markers = make_run.markers
    markers.update(
        {kind: marker(kind) for kind in ("rest", "newline", "large", "metadata", "session", "socketmeta")}
    )
    # A name and a phone number in an id the channel accepts (its characters are bounded, not its meaning).
    person = f"Jan_Jansen_0612345678_{markers['rest']}"
    make_run.rest(person, "Wat vindt Amnesty van pooiers?")
    make_run.replies["rest"] = make_run.rest(person, CIRCUIT_BREAKER_PAYLOAD)
    # Ids the channel refuses (a newline, 1 MB) get a Dutch 400; they must not reach the log either.
    make_run.rest(f"{markers['newline']}\n{FORGED} - deze regel schreef de bezoeker", "hallo", status=400)
    make_run.rest(markers["large"] * (1024 * 1024 // len(markers["large"]) + 1), "hallo", status=413)
    make_run.rest(f"afzender-{uuid.uuid4().hex}", "hallo", metadata={"naam": markers["metadata"]})

    issued: Dict[str, str] = {}

    async def dialogue(sio: SocketIO) -> List[Dict[str, Any]]:
        # A proposed id the server did not issue is replaced by a signed one; the proposal must still not be logged.
        session = await sio.session(markers["session"])
        assert session != markers["session"]
        issued["token"] = session
        await sio.emit(
            "user_uttered",
            {
                "message": "Wat met de pooiers?",
                "session_id": session,
                "metadata": {"m": markers["socketmeta"]},
            },
        )
        await sio.bot_messages()
        return await sio.ask(session, CIRCUIT_BREAKER_PAYLOAD)

    make_run.replies["socketio"] = run_socketio(make_run.rasa_url, dialogue)
    make_run.issued_session = issued["token"].partition(".")[0]
    forget = requests.post(
        f"{make_run.rasa_url}/webhooks/socketio/forget",
        data=json.dumps({"sender": issued["token"], "message": "/gesprek_vergeten"}),
        timeout=60,
    )
    assert forget.status_code == 204
    time.sleep(2)  # let every process finish writing
    return make_run


@pytest.mark.parametrize("channel", ["rest", "socketio"])
def test_the_circuit_breaker_payload_gets_one_dutch_reply(traffic: MakeRun, channel: str) -> None:
    texts = [m.get("text") for m in traffic.replies[channel]]
    assert texts == [
        KB.message("buiten_bereik")
    ]  # one reply: Rasa's own out_of_scope intent is answered as such
    assert "Circuit breaker" not in traffic.log.read_text(encoding="utf-8", errors="replace")


def test_no_id_no_long_line_and_no_forged_line_in_any_log(traffic: MakeRun) -> None:
    text = traffic.log.read_text(encoding="utf-8", errors="replace")
    assert "DEBUG" in text and "Rasa server is up and running" in text, "the scan must see a real DEBUG log"
    assert log_findings([traffic.log], traffic.markers.values()) == []
    assert "0612345678" not in text


def _pseudonym(key_file: Path, conversation: str) -> str:
    key = bytes.fromhex(key_file.read_text(encoding="ascii"))
    return "#" + hmac.new(key, conversation.encode(), hashlib.sha256).hexdigest()[:12]


def test_the_ids_were_logged_as_pseudonyms_of_the_servers_own_key(traffic: MakeRun) -> None:
    """Proves the scan above is not empty-handed: the conversations are in the log, by their keyed hash."""
    assert stat.S_IMODE(traffic.key_file.stat().st_mode) == 0o600
    text = traffic.log.read_text(encoding="utf-8", errors="replace")
    person = f"rest:Jan_Jansen_0612345678_{traffic.markers['rest']}"
    assert _pseudonym(traffic.key_file, person) in text
    assert _pseudonym(traffic.key_file, f"socketio:{traffic.issued_session}") in text


def test_the_scan_finds_a_planted_marker_a_long_line_and_a_forged_line(
    traffic: MakeRun, tmp_path: Path
) -> None:
    planted = tmp_path / "make-run.log"
    original = traffic.log.read_text(encoding="utf-8", errors="replace")
    extra = [
        f"INFO rasa - for sender 'rest:{traffic.markers['rest']}'",
        "x" * (MAX_LINE + 1),
        f"{FORGED} - x",
    ]
    planted.write_text(original + "\n".join(extra) + "\n", encoding="utf-8")
    before = log_findings([traffic.log], traffic.markers.values())
    findings = log_findings([planted], traffic.markers.values())[len(before) :]
    assert len(findings) == 3, findings
    assert "merkteken" in findings[0] and "tekens" in findings[1] and "vervalste regel" in findings[2]


def test_no_secret_on_any_command_line(make_run: MakeRun) -> None:
    token = make_run.rasa_environment().get("VRAAGBAAK_RASA_TOKEN", "")
    assert len(token) >= 32
    # The token from the environment is the one Rasa checks.
    assert requests.get(f"{make_run.rasa_url}/status", params={"token": token}, timeout=30).status_code == 200
    assert requests.get(f"{make_run.rasa_url}/status", timeout=30).status_code == 401
    assert len(make_run.pids()) >= 3  # Rasa, the action server, the demo page (and the launcher)
    assert secrets_on_command_lines([token]) == []
    for pid in make_run.pids():
        assert b"--auth-token" not in Path(f"/proc/{pid}/cmdline").read_bytes()
