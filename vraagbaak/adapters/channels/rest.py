"""REST channel that bounds its input, never logs user text, and always answers in Dutch."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockError
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage, PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from vraagbaak.adapters.channels import blueprint_with_health, capped_body, conversation_id
from vraagbaak.adapters.rate_limit import Notices, TokenBuckets
from vraagbaak.core.bounds import MAX_SENDER_LENGTH, kept_metadata, valid_sender_id
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.settings import Settings
from vraagbaak.core.user_input import (
    MAX_LENGTH,
    MAX_MESSAGE_BYTES,
    TOO_LONG,
    clean_user_text,
    input_problem,
)

logger = logging.getLogger(__name__)

# A replica that died holding a conversation's lock leaves a ticket that expires about when ours does.
LOCK_ATTEMPTS = 3


class MissingSender(InvalidUsage):
    """A REST request without a sender would share one conversation with every other such request."""


class InvalidSender(InvalidUsage):
    """A sender id Rasa would keep, log and send around for as long as the conversation: bounded and plain."""


def json_content(request: Request) -> bool:
    """Whether the request says it carries JSON.

    Why: a browser sends a cross-site form or text/plain POST without asking the server first (no CORS
    preflight); only a JSON content type makes it ask, so requiring it keeps other websites out.
    """
    media_type = (request.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


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


def dutch_reply(key: str, recipient: str | None = None) -> List[Dict[str, Any]]:
    """A REST reply that carries one bot message from the knowledge base."""
    text = knowledge_base().message(key, maximum=str(MAX_LENGTH), lengte=str(MAX_SENDER_LENGTH))
    return [{"recipient_id": recipient, "text": text}]


class SafeRestInput(RestInput):
    """Same URL and format as Rasa's REST channel: /webhooks/rest/webhook (no streaming)."""

    @classmethod
    def name(cls) -> str:
        """Keep Rasa's channel name so the URL stays /webhooks/rest/webhook."""
        return "rest"

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _optional_text(_body(req), "sender")
        if not sender or not sender.strip():
            raise MissingSender("'sender' ontbreekt")
        if not valid_sender_id(sender):
            raise InvalidSender("'sender' is te lang of heeft andere tekens")
        return sender

    def _extract_message(self, req: Request) -> str | None:
        # Empty text still reaches the bot, which answers that the message is empty.
        return clean_user_text(_optional_text(_body(req), "message") or "")

    def _extract_input_channel(self, req: Request) -> str:
        # Always the channel's own name: Rasa would keep whatever the caller writes here, in every event.
        return self.name()

    def get_metadata(self, request: Request) -> Dict[str, Any] | None:
        """Only the metadata the bot reads (none), bounded in bytes."""
        return kept_metadata(_body(request).get("metadata"))

    def check_access(self, request: Request) -> None:
        """Raises when the caller may not use this channel; the open channel lets everyone in."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """The webhook: every outcome is a Dutch reply, and logs carry the event and a length only."""
        webhook = blueprint_with_health(f"{type(self).__name__}_webhook")
        settings = Settings.from_env()
        # Per sender, in this process (each replica keeps its own): a burst passes, a script is refused.
        buckets = TokenBuckets(settings.rate_burst, settings.rate_per_minute)
        logged = Notices()

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            self.check_access(request)  # before a byte of the body is read
            if not json_content(request):
                return response.json(dutch_reply("alleen_json"), status=415)
            # Decoding JSON takes many times its size in memory (16 MB of "{}," is about 400 MB): bounded first.
            body = await capped_body(request, MAX_MESSAGE_BYTES)
            if body is None:
                return response.json(dutch_reply("invoer_te_lang"), status=413)
            request.body = body
            sender_id = str(await self._extract_sender(request))  # raises when missing or not bounded
            conversation = conversation_id(self.name(), sender_id)
            if not buckets.take(conversation):
                refused = logged.due(conversation)
                if refused:
                    logger.warning("REST: afzender stuurt te veel berichten (%d geweigerd)", refused)
                wait = max(1, buckets.seconds_until_next(conversation))
                return response.json(
                    dutch_reply("te_veel_berichten", sender_id),
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
            text = self._extract_message(request) or ""
            if input_problem(text) == TOO_LONG:
                # Answered here: the pipeline would say the same at many times the cost, and store the text.
                return response.json(dutch_reply("invoer_te_lang", sender_id))
            for attempt in range(1, LOCK_ATTEMPTS + 1):
                collector = CollectingOutputChannel()
                try:
                    await on_new_message(
                        UserMessage(
                            text,
                            collector,
                            conversation,
                            input_channel=self._extract_input_channel(request),
                            metadata=self.get_metadata(request),
                        )
                    )
                    break
                except asyncio.CancelledError:
                    # The client went away; Rasa's own handler would log the text here.
                    logger.warning("REST: client vertrok voor het antwoord (%d tekens)", len(text))
                    raise
                except LockError:
                    # Nothing was processed yet, so a fresh ticket is safe.
                    logger.warning("REST: gesprek was vergrendeld (poging %d van %d)", attempt, LOCK_ATTEMPTS)
                    if attempt == LOCK_ATTEMPTS:
                        return response.json(dutch_reply("technisch_probleem", sender_id), status=503)
                except Exception as error:  # noqa: BLE001 (any failure must still give the user an answer)
                    logger.error(
                        "REST: bericht niet verwerkt (%s, %d tekens)", type(error).__name__, len(text)
                    )
                    return response.json(dutch_reply("technisch_probleem", sender_id), status=503)
            # The caller knows its conversation by its own sender id, not by Rasa's namespaced one.
            replies = [{**message, "recipient_id": sender_id} for message in collector.messages]
            return response.json(replies or dutch_reply("technisch_probleem", sender_id))

        @webhook.exception(InvalidUsage, PayloadTooLarge)
        async def unreadable_request(request: Request, exception: Exception) -> HTTPResponse:
            if isinstance(exception, PayloadTooLarge):
                key = "invoer_te_lang"  # refused before it was read: Sanic's REQUEST_MAX_SIZE
            elif isinstance(exception, MissingSender):
                key = "afzender_ontbreekt"
            elif isinstance(exception, InvalidSender):
                key = "afzender_ongeldig"
            else:
                key = "ongeldig_verzoek"
            return response.json(dutch_reply(key), status=getattr(exception, "status_code", 400))

        return webhook
