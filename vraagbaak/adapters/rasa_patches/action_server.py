"""rasa-sdk's action server, made private: unknown actions refused unlogged, failures answered generically."""
from __future__ import annotations

import logging
from typing import Any, List

import rasa_sdk.endpoint
from rasa_sdk.executor import ActionExecutor
from sanic import response
from sanic.exceptions import SanicException

from vraagbaak.adapters.log_privacy import set_identifiers_in_play
from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.settings import Settings

logger = logging.getLogger(__name__)


def _replacements(settings: Settings) -> List[Replacement]:
    """Wrap rasa_sdk.endpoint.create_app so that every app it builds has the checks below."""
    create_app = rasa_sdk.endpoint.create_app

    def create_private_app(*app_args: Any, **app_kwargs: Any) -> Any:
        app = create_app(*app_args, **app_kwargs)
        # rasa-sdk's own handler logs the request and sends the whole request body back in its 500.
        app.error_handler.add(Exception, _generic_action_error)
        executor = ActionExecutor()
        executor.register_package(app_args[0] if app_args else app_kwargs["action_package_name"])
        known = frozenset(executor.actions)

        @app.on_request
        async def only_known_actions(request: Any) -> Any:
            # rasa-sdk logs an unknown action name as it came; only Rasa calls here, with names it knows.
            if request.path != "/webhook" or request.method != "POST":
                return None
            call = request.json
            tracker = call.get("tracker") if isinstance(call, dict) else None
            sender = tracker.get("sender_id") if isinstance(tracker, dict) else None
            # Whatever this request logs (rasa-sdk's own lines, a traceback) names the conversation by its
            # pseudonym; it runs in the request's own task, so the next request sets its own.
            conversation = sender if isinstance(sender, str) else ""
            set_identifiers_in_play(conversation, conversation.partition(":")[2])
            if not isinstance(call, dict) or call.get("next_action") not in known:
                logger.warning("Actieserver: onbekende actie of onleesbaar verzoek geweigerd")
                return response.json({"error": "Onbekende actie of onleesbaar verzoek."}, status=400)
            return None

        return app

    return [Replacement(rasa_sdk.endpoint, "create_app", create_private_app)]


PATCH = Patch(
    name="action_server",
    why="rasa-sdk logs an unknown action's name and sends the whole request body back in its 500.",
    proof="tests/e2e/test_hostile_input.py",
    replacements=_replacements,
)


async def _generic_action_error(request: Any, exception: Exception) -> Any:
    """A failing action request: the kind of error in the log, a generic JSON error to the caller."""
    status = exception.status_code if isinstance(exception, SanicException) else 500
    logger.error("Actieserver: verzoek mislukt (%s, status %d)", type(exception).__name__, status)
    return response.json({"error": "Het verzoek kon niet verwerkt worden."}, status=status)
