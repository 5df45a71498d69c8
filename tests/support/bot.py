"""Helpers for tests against the trained model and the real servers: the model, REST posts, reply parts."""
from __future__ import annotations

import asyncio
import json
from typing import Any, Callable, Dict, List, Tuple

import pytest
import requests

from vraagbaak.adapters.channels import conversation_id
from vraagbaak.core.knowledge_base import KnowledgeBase
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import DEFAULT_MODEL
from vraagbaak.ops.processes import RunningServers

MODEL = DEFAULT_MODEL
ARTIFACTS = PROJECT_DIR / "artifacts"  # screenshots and reports a test leaves for people to look at


def load_trained_agent() -> Any:
    """The trained model, loaded in this process; fails with the command to run when there is none."""
    from rasa.core.agent import Agent

    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    return Agent.load(str(MODEL))


def parses_without_and_with(
    agent: Any, questions: List[str], uninstall: Callable[[], None], install: Callable[[], None]
) -> Tuple[str, str]:
    """Every parse result of `questions`, as JSON, with Rasa's own code and then with a patch installed."""
    loop = asyncio.new_event_loop()
    try:
        uninstall()
        rasa_way = [loop.run_until_complete(agent.parse_message(q)) for q in questions]
        install()
        patched = [loop.run_until_complete(agent.parse_message(q)) for q in questions]
    finally:
        loop.close()
    return tuple(json.dumps(r, sort_keys=True, default=str) for r in (rasa_way, patched))  # type: ignore[return-value]


def post_rest_body(rasa_url: str, body: str | bytes, timeout: float = 60) -> requests.Response:
    """POST a body to the REST webhook exactly as given (malformed or oversized on purpose)."""
    return requests.post(
        f"{rasa_url}/webhooks/rest/webhook",
        data=body.encode() if isinstance(body, str) else body,
        headers={"Content-Type": "application/json"},
        timeout=timeout,
    )


class Servers:
    """A running Rasa server and action server, and helpers to talk to them."""

    def __init__(self, running: RunningServers) -> None:
        self.rasa_url = running.rasa_url
        self.token = running.token
        self.log_path = running.rasa_log
        self.running = running

    def send(self, sender: str, message: Any, timeout: float = 30) -> List[Dict[str, Any]]:
        """POST a message to the REST channel and return the bot messages."""
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=timeout,
        )
        assert response.status_code == 200, response.text
        return list(response.json())

    def tracker(self, sender: str, channel: str = "rest") -> Dict[str, Any]:
        """The stored tracker of this channel's sender, through the (test-only) HTTP API."""
        conversation = conversation_id(channel, sender)
        response = requests.get(
            f"{self.rasa_url}/conversations/{conversation}/tracker", params={"token": self.token}, timeout=10
        )
        response.raise_for_status()
        return dict(response.json())


# Vague phrasings; at least one makes the current model unsure enough to ask "Bedoelde je…?".
CLARIFYING_PHRASES = [
    "sekswerk",
    "wetten",
    "wetgeving",
    "landen",
    "sekswerkers en de wet",
    "wat denken jullie",
]


def ask_until_clarified(
    send: Callable[[str], List[Dict[str, Any]]], kb: KnowledgeBase
) -> Tuple[str, List[Dict[str, str]]]:
    """Send vague phrasings until the bot offers a clarification; return that phrasing and its buttons."""
    for text in CLARIFYING_PHRASES:
        buttons = send(text)[-1].get("buttons", [])
        if buttons and buttons[-1]["title"] == kb.message("knop_geen_van_deze"):
            return text, buttons
    pytest.fail("geen enkele vage vraag leidde tot een verduidelijking")


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
    return {
        "text": "\n\n".join(texts),
        "topic": topic,
        "buttons": buttons,
        "all_text": [m.get("text") for m in messages],
    }
