"""Shared fixtures: the real knowledge base and domain, a JSON tracker, and real running servers."""
from __future__ import annotations

import contextlib
import json
import shutil
import threading
from typing import Any, Dict, Iterator

import pytest
import redis
import yaml

from tests.support.bot import MODEL, Servers
from vraagbaak.core.knowledge_base import KnowledgeBase, knowledge_base
from vraagbaak.core.paths import PROJECT_DIR, TESTS_DIR
from vraagbaak.ops.processes import (
    LOAD_TOOL_ENV,
    free_port,
    running_servers,
    start_process,
    stop_processes,
)


@pytest.fixture(scope="session", autouse=True)
def insights_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep test traffic out of the real insights database (servers inherit this environment)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('inzichten')}/i.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VRAAGBAAK_INSIGHTS_DB_URL", url)
        yield


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


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Real action server and Rasa server (REST, socket.io, API with a token) for this test session.

    Their tests send turns back to back (300 in one conversation), so the per-sender limit is raised; the
    hostile-client suite and the cluster keep the production limits."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    with running_servers(MODEL, tmp_path_factory.mktemp("servers"), extra_env=LOAD_TOOL_ENV) as running:
        yield Servers(running)


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A private redis-server on a free loopback port (the same binary the cluster runs)."""
    binary = shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if not binary:
        pytest.fail("redis-server ontbreekt: draai eerst `make services-deps`")
    workdir = tmp_path_factory.mktemp("redis")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)]
    process = start_process(command, workdir / "redis.log")
    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                break
        threading.Event().wait(0.05)
    try:
        yield port
    finally:
        stop_processes([process])
