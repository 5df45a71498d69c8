"""Fixtures for the cluster tests: one real stack (Redis, 2 Rasa replicas, 2 action servers, nginx) per module."""
from __future__ import annotations

import secrets
import shutil
import time
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests

from vraagbaak.core.settings import DEFAULT_MODEL
from vraagbaak.ops.cluster import Cluster, ClusterSpec

MODEL = DEFAULT_MODEL
# Short enough to watch a conversation expire in the test, long enough for a user's pause under load.
RECORD_EXP = 30
KEPT_TURNS = 12
ACTION_TIMEOUT = 5
OTHER_SITE = "https://www.voorbeeld.be"


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Cluster tests take minutes; run them only when asked for with `-m cluster` (make test-cluster)."""
    if "cluster" in (config.getoption("markexpr", "") or ""):
        return
    selected = [item for item in items if item.get_closest_marker("cluster") is None]
    deselected = [item for item in items if item.get_closest_marker("cluster") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


class ClusterClient:
    """A running cluster plus helpers to talk to it like the website's back end would."""

    def __init__(self, cluster: Cluster, rest_token: str) -> None:
        self.cluster = cluster
        self.spec = cluster.spec
        self.rest_token = rest_token
        self.public_url = cluster.spec.public_url
        self.rasa_urls = cluster.spec.rasa_urls

    def post(
        self, sender: str, message: Any, base_url: str | None = None, timeout: float = 90
    ) -> requests.Response:
        """POST to the REST webhook (through nginx unless base_url names a replica)."""
        return requests.post(
            f"{base_url or self.public_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers={"Authorization": f"Bearer {self.rest_token}"},
            timeout=timeout,
        )

    def send(self, sender: str, message: Any, base_url: str | None = None) -> List[Dict[str, Any]]:
        """The bot messages for one user message; fails on any non-200 answer."""
        response = self.post(sender, message, base_url)
        assert response.status_code == 200, (response.status_code, response.text[:300])
        return list(response.json())


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> None:
    """Poll a condition (never a fixed sleep): a bounded wait for something the system does by itself."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} binnen {timeout:.0f} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterClient]:
    """A production-configured cluster on free loopback ports, stopped after the module."""
    missing = [
        tool for tool in ("redis-server", "nginx") if not shutil.which(tool, path="/usr/sbin:/usr/bin")
    ]
    if missing:
        pytest.fail(f"{', '.join(missing)} ontbreekt: draai eerst `make services-deps`")
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    rest_token = secrets.token_hex(16)
    workdir = tmp_path_factory.mktemp("cluster")
    spec = ClusterSpec.on_free_ports(workdir, MODEL, action_timeout=ACTION_TIMEOUT)
    spec.env = {
        "VRAAGBAAK_REST_TOKEN": rest_token,
        "VRAAGBAAK_RECORD_EXP": str(RECORD_EXP),
        # Enough turns to count every turn of the concurrency drill in the stored tracker.
        "VRAAGBAAK_KEPT_TURNS": str(KEPT_TURNS),
        "VRAAGBAAK_CORS_ORIGINS": f"{spec.public_url} {OTHER_SITE}",
    }
    running = Cluster(spec)
    running.start()
    try:
        yield ClusterClient(running, rest_token)
    finally:
        running.stop()
