"""Starting and stopping this project's processes: one private environment, one start, one stop."""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

import requests
import yaml

from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import LOG_KEY_FILE_ENV, RASA_TOKEN_ENV
from vraagbaak.core.user_input import MAX_REQUEST_BYTES

PRIVATE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    # Sanic reads SANIC_* into its config: bodies and websocket frames above this are refused unread.
    "SANIC_REQUEST_MAX_SIZE": str(MAX_REQUEST_BYTES),
    "SANIC_WEBSOCKET_MAX_SIZE": str(MAX_REQUEST_BYTES),
    # One log line per request, on every reply path, that no one reads: a measurable share of a 20 ms reply.
    "SANIC_ACCESS_LOG": "false",
    # Same data and config give the same model, so CI reproduces the figures measured locally.
    "TF_DETERMINISTIC_OPS": "1",
    # TensorFlow's start-up chatter says nothing useful to an operator.
    "TF_CPP_MIN_LOG_LEVEL": "2",
}
# Serving only (training keeps both cores): DIET's operations on one message are too small to gain from a
# second thread, and the other core is better left to the other processes. In-process parse p50 7.9 vs
# 8.2-9.1 ms with TensorFlow's default pools (docs/performance.md). An operator's own setting wins.
SERVING_ENV = {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}
# For load tools only (benchmarks, profiles, the shared test servers): their simulated users send turns back to
# back, far faster than the per-sender limit lets a person. It only refuses, so raising it changes no turn.
LOAD_TOOL_ENV = {"VRAAGBAAK_RATE_PER_MINUTE": "1000000"}


def private_environment(base: Dict[str, str] | None = None) -> Dict[str, str]:
    """The environment every process of this project runs with."""
    env = dict(os.environ if base is None else base)
    env.update(PRIVATE_ENV)
    return env


def launcher_command(args: Sequence[str]) -> List[str]:
    """The command line that runs `python -m vraagbaak.ops.launcher ARGS` with this interpreter."""
    return [sys.executable, "-m", "vraagbaak.ops.launcher", *args]


def rasa_command(args: Sequence[str]) -> List[str]:
    """The command line that runs `rasa ARGS` through the privacy launcher."""
    return launcher_command(["rasa", *args])


def web_server_command(port: int, rasa_url: str) -> List[str]:
    """The command line that serves the demo page and widget on this port, talking to this Rasa server."""
    return [sys.executable, "-m", "vraagbaak.ops.web", "--port", str(port), "--server", rasa_url]


def console_command(port: int) -> List[str]:
    """The command line that runs the staff console (vraagbaak.console) on this port."""
    return [sys.executable, "-m", "vraagbaak.console", "--port", str(port)]


def action_server_arguments(port: int) -> List[str]:
    """Launcher arguments that start the action server on this port."""
    return ["actions", "--port", str(port), "--actions", "actions"]


def start_process(
    argv: Sequence[str],
    log: Path | None = None,
    env: Dict[str, str] | None = None,
    own_session: bool = False,
) -> subprocess.Popen:
    """Start a process in the project directory with the private environment; output to `log` if given."""
    output = open(log, "ab") if log else None  # noqa: SIM115 (the child keeps the file; we close our copy)
    try:
        return subprocess.Popen(
            list(argv),
            cwd=PROJECT_DIR,
            env=private_environment({**os.environ, **(env or {})}),
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            stdin=subprocess.DEVNULL if own_session else None,
            # A session of its own: Ctrl-C in a terminal reaches only the parent, which stops everything.
            start_new_session=own_session,
        )
    finally:
        if output:
            output.close()


def stop_processes(
    processes: Sequence[subprocess.Popen], sig: int = signal.SIGTERM, timeout: float = 20.0
) -> None:
    """Signal every running process, wait for each, and kill those that do not stop in time."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(sig)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    """Poll until the URL answers, failing early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} stopped with code {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise TimeoutError(url)


def port_is_free(port: int) -> bool:
    """True when nothing listens on this loopback port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _vmrss_bytes(pid: int) -> int | None:
    """VmRSS of one process in bytes, None when /proc has no such line; OSError when it is gone."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


def process_rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (NaN when the kernel reports none)."""
    rss = _vmrss_bytes(pid)
    return float("nan") if rss is None else rss / (1024 * 1024)


def process_tree_rss(pid: int) -> int:
    """VmRSS of a process and all its descendants, in bytes (0 when it is gone)."""
    children: Dict[int, List[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            total += _vmrss_bytes(current) or 0
        except OSError:
            continue
    return total


@dataclass
class RunningServers:
    """Addresses and processes of a started pair of servers."""

    rasa_url: str
    action_url: str
    token: str
    rasa: subprocess.Popen
    actions: subprocess.Popen
    rasa_log: Path
    action_log: Path


@contextlib.contextmanager
def running_servers(
    model: Path,
    workdir: Path,
    extra_rasa_args: Sequence[str] = (),
    credentials: Path | None = None,
    extra_env: Dict[str, str] | None = None,
    endpoints_override: Dict[str, object] | None = None,
) -> Iterator[RunningServers]:
    """Run the action server and Rasa (REST, socket.io, token-protected API) until the block ends.

    `endpoints_override` replaces whole sections of endpoints.yml (a Redis tracker store, say).
    """
    action_port, rasa_port = free_port(), free_port()
    endpoints = yaml.safe_load((PROJECT_DIR / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints.update(endpoints_override or {})
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    endpoints_file = workdir / "endpoints.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    token = secrets.token_hex(16)
    rasa_log, action_log = workdir / "rasa.log", workdir / "actions.log"
    for log in (rasa_log, action_log):
        log.write_bytes(b"")
    # The log key of these servers lives with their logs, not in the project's .run/.
    env = {LOG_KEY_FILE_ENV: str(workdir / "log-key"), **(extra_env or {})}
    actions = start_process(launcher_command(action_server_arguments(action_port)), action_log, env)
    rasa = start_process(
        rasa_command(
            [
                "run",
                "--model",
                str(model),
                "--port",
                str(rasa_port),
                "--endpoints",
                str(endpoints_file),
                "--credentials",
                str(credentials or PROJECT_DIR / "credentials.yml"),
                "--enable-api",
                "--cors",
                "*",
                *extra_rasa_args,
            ]
        ),
        rasa_log,
        # The API token in the environment, never on the command line (any local user can read that).
        {**env, RASA_TOKEN_ENV: token},
    )
    try:
        wait_for(f"http://127.0.0.1:{action_port}/health", actions)
        wait_for(f"http://127.0.0.1:{rasa_port}/status?token={token}", rasa)
        yield RunningServers(
            f"http://127.0.0.1:{rasa_port}",
            f"http://127.0.0.1:{action_port}",
            token,
            rasa,
            actions,
            rasa_log,
            action_log,
        )
    finally:
        stop_processes([rasa, actions])
