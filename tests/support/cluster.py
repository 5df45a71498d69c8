"""Helpers for the cluster tests: the cluster's figures, a client for its front door, waiting with a deadline."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

import pytest
import requests

from vraagbaak.ops.cluster import Cluster

# Short enough to watch a conversation expire in the test, long enough for a user's pause under load.
RECORD_EXP = 30
KEPT_TURNS = 12
ACTION_TIMEOUT = 5
OTHER_SITE = "https://www.voorbeeld.be"


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
