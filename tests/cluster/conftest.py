"""Fixtures for the cluster tests: one real stack (Redis, 2 Rasa replicas, 2 action servers, nginx) per module."""
from __future__ import annotations

import secrets
import shutil
from typing import Iterator, List

import pytest

from tests.support.bot import MODEL
from tests.support.cluster import ACTION_TIMEOUT, KEPT_TURNS, OTHER_SITE, RECORD_EXP, ClusterClient
from vraagbaak.ops.cluster import Cluster, ClusterSpec


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Cluster tests take minutes; run them only when asked for with `-m cluster` (make test-cluster)."""
    if "cluster" in (config.getoption("markexpr", "") or ""):
        return
    selected = [item for item in items if item.get_closest_marker("cluster") is None]
    deselected = [item for item in items if item.get_closest_marker("cluster") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


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
