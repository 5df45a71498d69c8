"""Malformed HTTP requests get a 400, never a dropped connection, a 500 or a traceback.

Why: Sanic 21.12, which Rasa, the action server and the staff console run on, turns a request line whose target
is not UTF-8 into a dropped connection (its stand-in request for the error page fails on the same target), a
Content-Length that is not a number into a 500, a negative one into a server that answers no one any more,
and a chunked body it cannot read into a traceback after the answer.
"""
from __future__ import annotations

import logging
from typing import Any, List

from sanic.exceptions import InvalidUsage, SanicException
from sanic.http import Http
from sanic.request import Request

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.settings import Settings

logger = logging.getLogger(__name__)


def _encodable(target: str) -> bool:
    try:
        target.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def body_length_problem(headers: Any) -> bool:
    """Whether the Content-Length headers are anything but one plain number (repeated values must agree).

    Why: Sanic takes `int()` of the first one, so "-5" leaves it reading a body of minus five bytes, in a
    loop that never awaits: one such request stops the whole server. "+5" and "²" are no numbers either.
    """
    # Spaces around a value are allowed (HTTP's optional whitespace); Sanic strips those in front.
    values = {v.strip() for v in headers.getall("content-length", [])} if headers is not None else set()
    return bool(values) and not (len(values) == 1 and all(v.isascii() and v.isdigit() for v in values))


def _replacements(settings: Settings) -> List[Replacement]:
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
    return [
        Replacement(Request, "__init__", request_init),
        Replacement(Http, "error_response", error_response),
        Replacement(Http, "http1", http1),
    ]


PATCH = Patch(
    name="request_checks",
    why="Sanic drops a request whose target is not UTF-8 and answers other malformed ones with a 500 or a "
    "traceback; every one now gets a 400 with a Dutch text.",
    proof="tests/e2e/test_malformed_requests.py",
    replacements=_replacements,
)
