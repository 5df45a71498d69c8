"""The local cluster under supervisord: restart policies, a health watchdog, and a stop that leaves nothing behind.

supervisord starts every program of the cluster and starts it again whenever it exits (`autorestart`). It has no
HTTP health checks of its own, so one more program, vraagbaak.ops.watchdog, asks each server's ready URL and kills
a server that stopped answering; supervisord then starts it again like after any crash.

supervisord itself is started with `start_process` (own session), and every program inherits its environment,
so the children run with the project's private environment. Each program also stays in supervisord's session:
that is how `stop_session` finds every process of the cluster, also when supervisord itself died.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence

from vraagbaak.core.paths import PROJECT_DIR

# Markers of a process that may belong to a cluster; a PID reused by a stranger is never signalled.
OWN_MARKERS = ("vraagbaak", "redis-server", "nginx", "supervisord")
STOP_SECONDS = 20
# supervisord's XML-RPC fault codes (supervisor.xmlrpc.Faults).
ALREADY_STARTED = 60
NOT_RUNNING = 70


@dataclass
class ProcessSpec:
    """How to start one program, how to know it is ready, and whether the watchdog checks it."""

    name: str
    argv: List[str]
    env: Dict[str, str]
    ready_url: str | None = None
    # Seconds a start may take before the watchdog may judge it (Rasa loads its model first).
    startup_grace: float = 10.0


def _quoted(value: str) -> str:
    if any(c in value for c in '"\n\\'):
        raise ValueError("supervisord-configuratie: een waarde met een aanhalingsteken of regeleinde")
    return '"' + value.replace("%", "%%") + '"'


def supervisord_config(workdir: Path, logs: Path, specs: Sequence[ProcessSpec], watchdog: List[str]) -> str:
    """supervisord.conf: one [program] per spec, in start order, and the watchdog."""
    socket = workdir / "supervisor.sock"
    lines = [
        "[unix_http_server]",
        f"file={socket}",
        "chmod=0700",
        "",
        "[supervisord]",
        "nodaemon=true",
        "silent=true",
        f"logfile={logs / 'supervisord.log'}",
        "logfile_maxbytes=5MB",
        f"pidfile={workdir / 'supervisord.pid'}",
        f"childlogdir={logs}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{socket}",
        "",
    ]
    programs = [(spec.name, spec.argv, spec.env) for spec in specs]
    programs.append(("watchdog", watchdog, {}))
    for priority, (name, argv, env) in enumerate(programs, start=1):
        lines += [
            f"[program:{name}]",
            "command=" + " ".join(_quoted(arg) for arg in argv),
            f"directory={PROJECT_DIR}",
            f"priority={priority}",
            "autostart=true",
            # Restarted after every exit, at once; a start that fails again and again backs off a little more
            # each time (supervisord's BACKOFF) but never gives up while the cluster runs.
            "autorestart=true",
            "startsecs=1",
            "startretries=1000",
            f"stopwaitsecs={STOP_SECONDS}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={logs / (name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=2",
        ]
        if env:
            lines.append("environment=" + ",".join(f"{key}={_quoted(value)}" for key, value in env.items()))
        lines.append("")
    return "\n".join(lines)


def watchdog_checks(specs: Sequence[ProcessSpec]) -> Dict[str, Dict[str, Any]]:
    """What the watchdog asks: each program with a ready URL, and how long its start may take."""
    return {
        spec.name: {"url": spec.ready_url, "grace": spec.startup_grace} for spec in specs if spec.ready_url
    }


def supervisord_command(config: Path) -> List[str]:
    """supervisord from this interpreter's environment (installed with the project)."""
    return [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)]


class Supervisor:
    """Talks to one running supervisord over its private UNIX socket."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def _proxy(self) -> Any:
        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, serverurl=f"unix://{self.socket}")
        # The host name is ignored: the transport always talks to the socket.
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def answers(self) -> bool:
        """True when supervisord answers on its socket."""
        try:
            return self._proxy().getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def info(self, name: str) -> Dict[str, Any]:
        """supervisord's view of one program: statename, pid, start time."""
        return dict(self._proxy().getProcessInfo(name))

    def all_info(self) -> List[Dict[str, Any]]:
        """supervisord's view of every program."""
        return list(self._proxy().getAllProcessInfo())

    def pid(self, name: str) -> int:
        """The running program's PID (0 while it is not running)."""
        return int(self.info(name)["pid"])

    def start(self, name: str) -> None:
        """Start a stopped program (nothing if it runs); does not wait until it answers."""
        try:
            self._proxy().startProcess(name, False)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != ALREADY_STARTED:
                raise

    def stop(self, name: str) -> None:
        """Stop a program and keep it stopped (SIGTERM, after STOP_SECONDS SIGKILL) until start()."""
        try:
            self._proxy().stopProcess(name, True)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != NOT_RUNNING:
                raise

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the program as a crash would; supervisord restarts it by itself."""
        pid = self.pid(name)
        if pid:
            os.kill(pid, sig)

    def shutdown(self) -> None:
        """Stop every program and supervisord itself."""
        self._proxy().shutdown()


def _session_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def session_members(session: int) -> List[int]:
    """Live processes of this session whose command line is one of the cluster's."""
    members = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid() or _session_of(pid) != session or not _alive(pid):
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(marker in cmdline for marker in OWN_MARKERS):
            members.append(pid)
    return members


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def orphans(session: int) -> List[int]:
    """Processes of the session that no longer descend from its leader (supervisord).

    When a program dies by SIGKILL its own children live on (an nginx master's worker keeps the port), and
    its restart could not bind; they are left over from a crash and belong to nobody.
    """
    found = []
    for pid in session_members(session):
        current: int | None = pid
        while current not in (None, 0, 1, session):
            current = _parent(current)
        if current != session:
            found.append(pid)
    return found


def stop_session(session: int, timeout: float = STOP_SECONDS) -> List[int]:
    """SIGTERM every process of the session, SIGKILL those still there after `timeout`; returns the PIDs."""
    targets = session_members(session)
    for pid in targets:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in targets):
        time.sleep(0.2)
    for pid in session_members(session):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return targets


def stop_cluster(workdir: Path, timeout: float = STOP_SECONDS) -> List[int]:
    """Stop everything a cluster in `workdir` started, whatever died in between; returns the PIDs stopped.

    supervisord's shutdown stops its programs first; whatever is left in its session (also when supervisord
    itself died and its programs live on without it) is stopped by signal.
    """
    pid_file = workdir / "pids" / "supervisor.pid"
    try:
        session = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    supervisor = Supervisor(workdir / "supervisor.sock")
    if supervisor.answers():
        try:
            supervisor.shutdown()
        except (OSError, xmlrpc.client.Error):
            pass
    stopped = session_members(session)
    deadline = time.monotonic() + timeout + 5
    while time.monotonic() < deadline and _alive(session):
        time.sleep(0.2)
    stopped += [pid for pid in stop_session(session, timeout) if pid not in stopped]
    pid_file.unlink(missing_ok=True)
    return stopped


def write_watchdog_file(path: Path, specs: Sequence[ProcessSpec]) -> None:
    """The watchdog's list of checks, next to supervisord.conf."""
    path.write_text(json.dumps(watchdog_checks(specs), indent=2), encoding="utf-8")
