"""REST channel that answers malformed requests in Dutch with a 400 instead of failing."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from vraagbaak.kennisbank import knowledge_base


def _body(request: Request) -> Dict[str, Any]:
    """The JSON object of the request; anything else is a client error."""
    body = request.json  # raises InvalidUsage on malformed JSON
    if not isinstance(body, dict):
        raise InvalidUsage("JSON-object verwacht")
    return body


def _optional_text(body: Dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, (str, int)):
        raise InvalidUsage(f"'{key}' moet tekst zijn")
    return None if value is None else str(value)


class SafeRestInput(RestInput):
    """Same URL and format as Rasa's REST channel: /webhooks/rest/webhook."""

    @classmethod
    def name(cls) -> str:
        """Keep Rasa's channel name so the URL stays /webhooks/rest/webhook."""
        return "rest"

    async def _extract_sender(self, req: Request) -> str | None:
        return _optional_text(_body(req), "sender")

    def _extract_message(self, req: Request) -> str | None:
        # Empty text still reaches the bot, which answers that the message is empty.
        return _optional_text(_body(req), "message") or ""

    def _extract_input_channel(self, req: Request) -> str:
        return _optional_text(_body(req), "input_channel") or self.name()

    def get_metadata(self, request: Request) -> Dict[str, Any] | None:
        """Metadata only when it is a JSON object."""
        metadata = _body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """Rasa's blueprint plus a Dutch reply for requests it cannot read."""
        blueprint = super().blueprint(on_new_message)

        @blueprint.exception(InvalidUsage)
        async def unreadable_request(request: Request, exception: Exception) -> HTTPResponse:
            text = knowledge_base().message("ongeldig_verzoek")
            return response.json([{"recipient_id": None, "text": text}], status=400)

        return blueprint
