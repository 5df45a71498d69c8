"""Every error page of Rasa's server app in plain Dutch; routes with their own handlers keep theirs.

Why: Sanic's own error pages are English, and a 500 page may show a traceback.
"""
from __future__ import annotations

import logging
from typing import Any, List

from sanic import response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.bounds import MAX_SENDER_LENGTH
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.settings import Settings
from vraagbaak.core.user_input import MAX_LENGTH

logger = logging.getLogger(__name__)

# Each status's message in the knowledge base; other client errors are "could not be read".
ERROR_MESSAGES = {404: "adres_onbekend", 413: "invoer_te_lang", 415: "alleen_json"}


def dutch_error_page(request: Request, exception: Exception) -> HTTPResponse:
    """A plain Dutch text for an error no route answered itself; the log gets the status and the type."""
    status = exception.status_code if isinstance(exception, SanicException) else 500
    if status >= 500:
        logger.error("HTTP: %d (%s)", status, type(exception).__name__)
        key = "technisch_probleem"
    else:
        key = ERROR_MESSAGES.get(status, "ongeldig_verzoek")
    text = knowledge_base().message(key, maximum=str(MAX_LENGTH), lengte=str(MAX_SENDER_LENGTH))
    headers: Any = getattr(exception, "headers", None) or {}
    return response.text(text, status=status, headers=dict(headers))


def _replacements(settings: Settings) -> List[Replacement]:
    import rasa.core.run

    original = rasa.core.run.configure_app

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        # The most general handler: Rasa's own (ErrorResponse), the JWT errors and the channels' are more
        # specific and stay in charge of their exceptions.
        app.error_handler.add(Exception, dutch_error_page)
        return app

    return [Replacement(rasa.core.run, "configure_app", configure_app)]


PATCH = Patch(
    name="dutch_error_pages",
    why="Sanic's error pages are English; every error page of Rasa's app is now Dutch.",
    proof="tests/e2e/test_malformed_requests.py",
    replacements=_replacements,
)
