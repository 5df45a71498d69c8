"""Twilio channel (WhatsApp and SMS): numbered lists instead of buttons, texts split, signatures checked.

Credentials (see vraagbaak/ops/channel_credentials.py):

    vraagbaak.adapters.channels.twilio.VraagbaakTwilioInput:
      account_sid: AC...
      auth_token: ...      # also the key of the X-Twilio-Signature HMAC
      twilio_number: +31... or whatsapp:+31...
      webhook_url: https://.../webhooks/twilio/webhook   # exactly the URL set in the Twilio console
      api_url: ...         # optional, Twilio REST base URL (tests)
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List
from urllib.parse import parse_qs

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator

from vraagbaak.adapters.channels import blueprint_with_health, required_settings
from vraagbaak.adapters.channels.formatting import TWILIO_LIMIT, numbered_choices, split_text, without_marker
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.user_input import clean_user_text

logger = logging.getLogger(__name__)
# Twilio's client logs every request at INFO: noise, with the account SID in each URL.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

SIGNATURE_HEADER = "X-Twilio-Signature"
WHATSAPP = "whatsapp:"
REQUIRED = ("account_sid", "auth_token", "twilio_number", "webhook_url")
# An empty TwiML response: the replies go out through the REST API, not in the webhook answer.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def sender_for(number: str, recipient: str) -> str:
    """Our number in the recipient's network: 'whatsapp:' added for WhatsApp users, removed for SMS."""
    bare = number[len(WHATSAPP) :] if number.startswith(WHATSAPP) else number
    return WHATSAPP + bare if recipient.startswith(WHATSAPP) else bare


def form_parameters(request: Request) -> RequestParameters:
    """The form, keeping blank values: Twilio signs them too, and Sanic's request.form drops them."""
    return RequestParameters(parse_qs(request.body.decode("utf-8"), keep_blank_values=True))


def first(form: RequestParameters, name: str) -> str | None:
    """The first value of a form field, or None."""
    values = form.getlist(name)
    return values[0] if values else None


class VraagbaakTwilioOutput(TwilioOutput):
    """Sends texts under Twilio's limit; buttons become a numbered list with a typing hint."""

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        twilio_number: str | None,
        api_url: str | None = None,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        if api_url:
            self.api.base_url = api_url.rstrip("/")

    async def _send_message(self, message_data: Dict[str, Any]) -> Any:
        # Twilio's client blocks; in a thread the server keeps answering other users meanwhile.
        try:
            return await asyncio.to_thread(self.messages.create, **message_data)
        except TwilioRestException as error:
            logger.error("Twilio weigerde een bericht (code %s).", error.code)
        except (TwilioException, OSError) as error:
            logger.error("Twilio niet bereikbaar (%s).", type(error).__name__)
        return None

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send the text unchanged, in parts under the limit."""
        sender = sender_for(str(self.twilio_number), recipient_id)
        for part in split_text(text, TWILIO_LIMIT):
            await self._send_message({"to": recipient_id, "from_": sender, "body": part})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        """Buttons as '1. Titel' lines plus a hint; never Rasa's '1: title (/payload)'."""
        hint = knowledge_base().message("keuze_hint")
        await self.send_text_message(recipient_id, numbered_choices(text, buttons, hint))

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """Custom Twilio message fields, minus the bot's internal marker."""
        rest = without_marker(json_message)
        if rest:
            await super().send_custom_json(recipient_id, rest, **kwargs)


class VraagbaakTwilioInput(TwilioInput):
    """Rasa's Twilio channel that only accepts requests signed by Twilio for our public webhook URL."""

    @classmethod
    def name(cls) -> str:
        """Rasa's channel name, so the URL stays /webhooks/twilio/webhook."""
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> VraagbaakTwilioInput:
        """Build from the credentials file; refuses to start without what signature checks need."""
        credentials = required_settings("Twilio", credentials, REQUIRED)
        return cls(
            credentials["account_sid"],
            str(credentials["auth_token"]),
            str(credentials["twilio_number"]),
            webhook_url=str(credentials["webhook_url"]),
            api_url=credentials.get("api_url") or None,
        )

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str,
        twilio_number: str,
        webhook_url: str = "",
        api_url: str | None = None,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.webhook_url = webhook_url
        self.api_url = api_url

    def get_output_channel(self) -> VraagbaakTwilioOutput:
        """The output channel for one incoming message."""
        return VraagbaakTwilioOutput(self.account_sid, self.auth_token, self.twilio_number, self.api_url)

    def is_signed(self, request: Request, form: RequestParameters) -> bool:
        """Whether Twilio signed this form for the public URL (behind a proxy request.url differs)."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature or not self.auth_token or not self.webhook_url:
            return False
        return bool(RequestValidator(self.auth_token).validate(self.webhook_url, form, signature))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET / (health) and POST /webhook, which answers 403 to unsigned or forged requests."""
        twilio_webhook = blueprint_with_health("vraagbaak_twilio_webhook")

        @twilio_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            try:
                form = form_parameters(request)
            except UnicodeDecodeError:
                return response.text("forbidden", status=403)
            if not self.is_signed(request, form):
                return response.text("forbidden", status=403)
            sender = first(form, "From")
            if sender:
                await self.handle(sender, first(form, "Body") or "", on_new_message, request)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return twilio_webhook

    async def handle(
        self,
        sender: str,
        text: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        request: Request,
    ) -> None:
        """Let the bot answer; a failure is logged, not turned into a Twilio retry."""
        text = clean_user_text(text).replace(
            "¡", "@"
        )  # some SMS carriers turn @ into ¡ (as in Rasa's channel)
        try:
            metadata = self.get_metadata(request)
            out = self.get_output_channel()
            await on_new_message(UserMessage(text, out, sender, input_channel=self.name(), metadata=metadata))
        except Exception as error:  # noqa: BLE001 - the user gets no reply either way; keep the webhook healthy
            logger.error("Twilio: bericht niet verwerkt (%s, %d tekens)", type(error).__name__, len(text))
