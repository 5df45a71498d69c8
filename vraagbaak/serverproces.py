"""Start real Rasa and action-server processes on free loopback ports (tests and benchmark share this)."""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

import requests
import yaml

from vraagbaak.launcher import action_server_arguments, launcher_command, private_environment
from vraagbaak.paths import PROJECT_DIR


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


def rasa_command(args: Sequence[str]) -> List[str]:
    """The command line that runs `rasa ARGS` through the privacy launcher."""
    return launcher_command(["rasa", *args])


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


def stop(processes: Sequence[subprocess.Popen]) -> None:
    """Terminate processes, killing those that do not stop in time."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def running_servers(
    model: Path,
    workdir: Path,
    extra_rasa_args: Sequence[str] = (),
    credentials: Path | None = None,
    extra_env: Dict[str, str] | None = None,
) -> Iterator[RunningServers]:
    """Run the action server and Rasa (REST, socket.io, token-protected API) until the block ends."""
    action_port, rasa_port = free_port(), free_port()
    endpoints = yaml.safe_load((PROJECT_DIR / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    endpoints_file = workdir / "endpoints.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    token = secrets.token_hex(16)
    env = private_environment({**os.environ, **(extra_env or {})})
    rasa_log, action_log = workdir / "rasa.log", workdir / "actions.log"
    with open(action_log, "wb") as action_out, open(rasa_log, "wb") as rasa_out:
        actions = subprocess.Popen(
            launcher_command(action_server_arguments(action_port)),
            cwd=PROJECT_DIR,
            env=env,
            stdout=action_out,
            stderr=subprocess.STDOUT,
        )
        rasa = subprocess.Popen(
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
                    "--auth-token",
                    token,
                    "--cors",
                    "*",
                    *extra_rasa_args,
                ]
            ),
            cwd=PROJECT_DIR,
            env=env,
            stdout=rasa_out,
            stderr=subprocess.STDOUT,
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
            stop([rasa, actions])
