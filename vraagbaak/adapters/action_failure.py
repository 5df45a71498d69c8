"""The Dutch "technisch probleem" reply wherever an action fails (Rasa's patch: rasa_patches/action_failure.py)."""
from __future__ import annotations

from typing import Any, Dict, List

from vraagbaak.adapters.channels.rest import dutch_reply
from vraagbaak.core.knowledge_base import knowledge_base


def technical_problem_text() -> str:
    """The Dutch reply when a part of the system does not answer."""
    return knowledge_base().message("technisch_probleem")


def action_failure_response() -> Dict[str, Any]:
    """A valid action-server reply that only says there is a technical problem (used by the gateway)."""
    return {"events": [], "responses": [{"text": technical_problem_text()}]}


def channel_failure_response() -> List[Dict[str, Any]]:
    """What the REST channel returns when Rasa itself cannot be reached."""
    return dutch_reply("technisch_probleem")
