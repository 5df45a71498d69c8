"""Fixtures for the adapter tests: a real redis-server."""
from __future__ import annotations

import contextlib
import shutil
import threading
from typing import Iterator

import pytest
import redis

from vraagbaak.ops.processes import free_port, start_process, stop_processes


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
