"""Shared fixtures: the real knowledge base and domain, a JSON tracker, and real running servers."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
import yaml

from vraagbaak.kennisbank import KnowledgeBase, knowledge_base
from vraagbaak.paths import MODELS_DIR, PROJECT_DIR, TESTS_DIR

MODEL = MODELS_DIR / "vraagbaak.tar.gz"
ARTIFACTS = PROJECT_DIR / "artifacts"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The project's knowledge base."""
    return knowledge_base()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """domain.yml as data."""
    return yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def tracker_dict() -> Dict[str, Any]:
    """A JSON tracker like the action server receives (copied per test)."""
    return json.loads((TESTS_DIR / "data" / "tracker.json").read_text(encoding="utf-8"))


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
            raise RuntimeError(f"{process.args} stopped with code {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise TimeoutError(url)


class Servers:
    """A running Rasa server and action server, and helpers to talk to them."""

    def __init__(self, rasa_url: str, token: str, log_path: Path) -> None:
        self.rasa_url = rasa_url
        self.token = token
        self.log_path = log_path

    def send(self, sender: str, message: Any, timeout: float = 30) -> List[Dict[str, Any]]:
        """POST a message to the REST channel and return the bot messages."""
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=timeout
        )
        assert response.status_code == 200, response.text
        return list(response.json())

    def tracker(self, sender: str) -> Dict[str, Any]:
        """The stored tracker, through the (test-only) HTTP API."""
        response = requests.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": self.token}, timeout=10
        )
        response.raise_for_status()
        return dict(response.json())


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Start the real action server and Rasa server (REST + API with a token) for this test session."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    workdir = tmp_path_factory.mktemp("servers")
    action_port, rasa_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    config = yaml.safe_load((PROJECT_DIR / "endpoints.yml").read_text(encoding="utf-8"))
    config["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    endpoints.write_text(yaml.safe_dump(config), encoding="utf-8")
    token = secrets.token_hex(16)
    log_path = workdir / "rasa.log"
    launcher = [sys.executable, "-m", "vraagbaak.launcher", "rasa"]
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    with open(workdir / "actions.log", "wb") as action_log, open(log_path, "wb") as rasa_log:
        actions = subprocess.Popen(
            [*launcher, "run", "actions", "--port", str(action_port), "--actions", "actions"],
            cwd=PROJECT_DIR, env=env, stdout=action_log, stderr=subprocess.STDOUT,
        )
        rasa = subprocess.Popen(
            [*launcher, "run", "--model", str(MODEL), "--port", str(rasa_port), "--endpoints", str(endpoints),
             "--credentials", str(PROJECT_DIR / "credentials.yml"), "--enable-api", "--auth-token", token, "--cors", "*"],
            cwd=PROJECT_DIR, env=env, stdout=rasa_log, stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{action_port}/health", actions)
            wait_for(f"http://127.0.0.1:{rasa_port}/", rasa)
            wait_for(f"http://127.0.0.1:{rasa_port}/status?token={token}", rasa)
            yield Servers(f"http://127.0.0.1:{rasa_port}", token, log_path)
        finally:
            for process in (rasa, actions):
                process.terminate()
            for process in (rasa, actions):
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def answer_parts(messages: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Reassemble a REST reply: official answer text (paragraph parts joined), topic id, buttons."""
    texts: List[str] = []
    topic = None
    buttons: List[Dict[str, str]] = []
    for message in messages:
        marker = (message.get("custom") or {}).get("vraagbaak")
        if marker:
            topic = marker["onderwerp"]
        elif topic is None and "text" in message and not message.get("buttons"):
            texts.append(message["text"])
        if message.get("buttons"):
            buttons = message["buttons"]
    return {"text": "\n\n".join(texts), "topic": topic, "buttons": buttons, "all_text": [m.get("text") for m in messages]}
