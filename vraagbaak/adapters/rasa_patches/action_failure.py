"""Rasa answers with the Dutch "technisch probleem" text when a custom action fails or takes too long.

Why: Rasa 3.6 logs a failing RemoteAction and carries on without its events, so the user gets no answer at all
(and waits up to five minutes for a hanging action server).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, List

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered
from rasa.shared.exceptions import RasaException

from vraagbaak.adapters.action_failure import technical_problem_text
from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.settings import Settings

# The log names the component the line comes from, as before the move.
logger = logging.getLogger("vraagbaak.adapters.action_failure")


def _replacements(settings: Settings) -> List[Replacement]:
    original = RemoteAction.run
    timeout = float(settings.action_timeout)

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

    return [Replacement(RemoteAction, "run", run)]


PATCH = Patch(
    name="action_failure",
    why='Action server down or slow: the user gets the Dutch "technisch probleem" reply, never silence.',
    proof="tests/cluster/test_cluster.py (action server killed) and tests/e2e/test_rest.py",
    replacements=_replacements,
)
