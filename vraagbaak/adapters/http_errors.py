"""Malformed HTTP requests get a Dutch answer with a 4xx status, never a dropped connection or a traceback.

Sanic 21.12, which Rasa, the action server and the staff console run on, turns a request line whose target is
not UTF-8 into a dropped connection (its stand-in request for the error page fails on the same target), a
Content-Length that is not a number into a 500, a negative one into a server that answers no one any more,
and a chunked body it cannot read into a traceback after the answer. Its own error pages are English.
"""
from __future__ import annotations

import logging
from typing import Any

from sanic import response
from sanic.exceptions import InvalidUsage, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from vraagbaak.core.bounds import MAX_SENDER_LENGTH
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.user_input import MAX_LENGTH

logger = logging.getLogger(__name__)

# Each status's message in the knowledge base; other client errors are "could not be read".
ERROR_MESSAGES = {404: "adres_onbekend", 413: "invoer_te_lang", 415: "alleen_json"}


def _encodable(target: str) -> bool:
    try:
        target.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unreadable(request: Request) -> bool:
    """Whether this is Sanic's stand-in for a request it could not read (its error path runs middleware too)."""
    return request.method == "NONE"


def body_length_problem(headers: Any) -> bool:
    """Whether the Content-Length headers are anything but one plain number (repeated values must agree).

    Why: Sanic takes `int()` of the first one, so "-5" leaves it reading a body of minus five bytes, in a
    loop that never awaits: one such request stops the whole server. "+5" and "²" are no numbers either.
    """
    # Spaces around a value are allowed (HTTP's optional whitespace); Sanic strips those in front.
    values = {v.strip() for v in headers.getall("content-length", [])} if headers is not None else set()
    return bool(values) and not (len(values) == 1 and all(v.isascii() and v.isdigit() for v in values))


def install_request_checks() -> None:
    """Patch Sanic's HTTP/1 handling in this process so that malformed requests get a 400; idempotent."""
    from sanic.http import Http
    from sanic.request import Request

    if getattr(Http, "_vraagbaak_request_checks", False):
        return
    original_error_response = Http.error_response
    original_http1 = Http.http1
    original_request_init = Request.__init__

    def request_init(self: Request, *args: Any, **kwargs: Any) -> None:
        # Sanic builds the request right after reading the head, before it prepares to read a body.
        if body_length_problem(kwargs.get("headers", args[1] if len(args) > 1 else None)):
            raise InvalidUsage("Bad Request")
        original_request_init(self, *args, **kwargs)

    async def error_response(self: Http, exception: Exception) -> None:
        if self.request is None:
            # The head could not become a request. Sanic would build a stand-in from the raw target, which fails
            # again on bytes that are not UTF-8 (kept as surrogates), and answer a 500 to anything it did not expect.
            if self.url is not None and not _encodable(self.url):
                self.url = None
            if not isinstance(exception, SanicException):
                exception = InvalidUsage("Bad Request")
        await original_error_response(self, exception)

    async def http1(self: Http) -> None:
        try:
            await original_http1(self)
        except SanicException as error:
            # Raised while Sanic discards the unread rest of a malformed body after the answer went out (a bad
            # chunk size). The connection closes either way; without this, with a traceback.
            logger.warning("HTTP: verbinding gesloten na een onleesbaar verzoek (%s)", type(error).__name__)

    # Neither method is one of those Sanic recompiles from their source at start-up ("touch-up").
    Request.__init__ = request_init  # type: ignore[method-assign]
    Http.error_response = error_response  # type: ignore[method-assign]
    Http.http1 = http1  # type: ignore[method-assign]
    Http._vraagbaak_request_checks = True  # type: ignore[attr-defined]


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


def install_dutch_error_pages() -> None:
    """Rasa's server app answers every error in Dutch (routes with their own handlers keep theirs); idempotent."""
    import rasa.core.run

    original = rasa.core.run.configure_app
    if getattr(original, "_vraagbaak_dutch", False):
        return

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        # The most general handler: Rasa's own (ErrorResponse), the JWT errors and the channels' are more
        # specific and stay in charge of their exceptions.
        app.error_handler.add(Exception, dutch_error_page)
        return app

    configure_app._vraagbaak_dutch = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app
