"""The Dutch "technisch probleem" reply wherever an action fails: inside Rasa, and for the nginx action gateway."""
from __future__ import annotations

import logging
from typing import Any, Dict, List

from vraagbaak.adapters.channels.rest import dutch_reply
from vraagbaak.core.knowledge_base import knowledge_base

logger = logging.getLogger(__name__)


def technical_problem_text() -> str:
    """The Dutch reply when a part of the system does not answer."""
    return knowledge_base().message("technisch_probleem")


def action_failure_response() -> Dict[str, Any]:
    """A valid action-server reply that only says there is a technical problem (used by the gateway)."""
    return {"events": [], "responses": [{"text": technical_problem_text()}]}


def channel_failure_response() -> List[Dict[str, Any]]:
    """What the REST channel returns when Rasa itself cannot be reached."""
    return dutch_reply("technisch_probleem")


def install_action_failure_reply(timeout: float) -> None:
    """Let Rasa answer with the technical-problem text when a custom action fails or takes too long.

    Rasa 3.6 logs a failing RemoteAction and carries on without its events, so the user gets no answer at all
    (and waits up to five minutes for a hanging action server). This wraps RemoteAction.run in this process.
    """
    import asyncio

    import aiohttp
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered
    from rasa.shared.exceptions import RasaException

    original = RemoteAction.run
    if getattr(original, "vraagbaak_fallback", False):
        return

    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> List[Any]:
        try:
            return list(await asyncio.wait_for(original(self, *args, **kwargs), timeout))
        except ActionExecutionRejection:
            raise  # a deliberate "not me": Rasa lets another policy choose
        except (RasaException, aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error(
                "Actie %s mislukt (%s); technisch probleem gemeld", self.name(), type(error).__name__
            )
            return [BotUttered(technical_problem_text())]

    run.vraagbaak_fallback = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]
