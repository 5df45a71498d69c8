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

import logging
from typing import Any, Awaitable, Callable, Dict, List, Tuple
from urllib.parse import parse_qs

import aiohttp
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from vraagbaak.adapters.channels import (
    blueprint_with_health,
    capped_body,
    conversation_id,
    platform_http,
    required_settings,
    too_large,
)
from vraagbaak.adapters.channels.delivery import (
    CompleteOrNothing,
    DeliveryFailed,
    RateLimited,
    with_retries,
    within_deadline,
)
from vraagbaak.adapters.channels.formatting import TWILIO_LIMIT, numbered_choices, split_text, without_marker
from vraagbaak.adapters.channels.replays import Replays, replays_for
from vraagbaak.adapters.channels.sender_limit import Admission, sender_limit
from vraagbaak.core.bounds import kept_metadata, valid_sender_id
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.user_input import clean_user_text

logger = logging.getLogger(__name__)
# Twilio's client logs every request at INFO: noise, with the account SID in each URL (only the validator
# is still used, but the setting costs nothing and keeps it so if the client comes back).
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

SIGNATURE_HEADER = "X-Twilio-Signature"
WHATSAPP = "whatsapp:"
REQUIRED = ("account_sid", "auth_token", "twilio_number", "webhook_url")
# An empty TwiML response: the replies go out through the REST API, not in the webhook answer.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# A Twilio form is a few KB (a WhatsApp text is at most 4096 characters); the signature covers the whole
# form, so the size is bounded before anything is parsed or hashed. The margin lets a pasted document
# still get the Dutch "too long" reply, as on the other channels.
MAX_FORM_BYTES = 256 * 1024
TOO_MANY_REQUESTS = 429


def twilio_field(name: str) -> str:
    """Twilio's form name for a parameter of its Python client: `from_` is From, `media_url` MediaUrl."""
    return "".join(part.capitalize() for part in name.rstrip("_").split("_"))


def sender_for(number: str, recipient: str) -> str:
    """Our number in the recipient's network: 'whatsapp:' added for WhatsApp users, removed for SMS."""
    bare = number[len(WHATSAPP) :] if number.startswith(WHATSAPP) else number
    return WHATSAPP + bare if recipient.startswith(WHATSAPP) else bare


def form_parameters(body: bytes) -> RequestParameters:
    """The form, keeping blank values: Twilio signs them too, and Sanic's request.form drops them."""
    return RequestParameters(parse_qs(body.decode("utf-8"), keep_blank_values=True))


def without_text(form: RequestParameters) -> bool:
    """A photo, voice message, sticker or location without a caption: nothing to read."""
    media = first(form, "NumMedia") or "0"
    return not (first(form, "Body") or "").strip() and (media != "0" or first(form, "Latitude") is not None)


def first(form: RequestParameters, name: str) -> str | None:
    """The first value of a form field, or None."""
    values = form.getlist(name)
    return values[0] if values else None


class VraagbaakTwilioOutput(CompleteOrNothing, TwilioOutput):
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
        """One message, retried after a rate limit; DeliveryFailed when Twilio keeps refusing it or is too slow."""

        async def attempt() -> Any:
            try:
                status, body = await within_deadline("Twilio", self.create_message(message_data))
            except (aiohttp.ClientError, OSError) as error:
                raise DeliveryFailed(f"Twilio niet bereikbaar ({type(error).__name__})") from error
            if status == TOO_MANY_REQUESTS:
                raise RateLimited()
            if status >= 300:
                code = body.get("code") if isinstance(body, dict) else None
                raise DeliveryFailed(f"Twilio weigerde een bericht (status {status}, code {code})")
            return body

        return await with_retries(attempt, "Twilio")

    async def create_message(self, message_data: Dict[str, Any]) -> Tuple[int, Any]:
        """Twilio's Messages resource, called without a thread (its own client blocks); see platform_http.py."""
        url = f"{self.api.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        form = [
            (twilio_field(key), str(item))
            for key, value in message_data.items()
            for item in (value if isinstance(value, (list, tuple)) else [value])
        ]
        auth = aiohttp.BasicAuth(str(self.account_sid), str(self.password))
        return await platform_http.post("twilio", url, data=form, auth=auth)

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
        self.replays: Replays = replays_for()

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

        @twilio_webhook.listener("before_server_stop")
        async def close(app: Any, loop: Any) -> None:
            await platform_http.close_sessions()

        @twilio_webhook.route("/webhook", methods=["POST"], stream=True)
        async def message(request: Request) -> HTTPResponse:
            if not request.headers.get(SIGNATURE_HEADER):
                return response.text("forbidden", status=403)  # unsigned: refused before the body is read
            body = await capped_body(request, MAX_FORM_BYTES)
            if body is None:
                return too_large()
            try:
                form = form_parameters(body)
            except UnicodeDecodeError:
                return response.text("forbidden", status=403)
            if not self.is_signed(request, form):
                return response.text("forbidden", status=403)
            sender = first(form, "From")
            # A phone number ("whatsapp:+31…"); anything else would become a kept conversation id.
            if valid_sender_id(sender) and await self.first_time(form):
                await self.handle(sender, form, on_new_message, request)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return twilio_webhook

    async def first_time(self, form: RequestParameters) -> bool:
        """False for a message answered before (Twilio retries a webhook that answers slowly)."""
        sid = first(form, "MessageSid")
        return not sid or await self.replays.first_time(f"twilio:{sid}")

    async def handle(
        self,
        sender: str,
        form: RequestParameters,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        request: Request,
    ) -> None:
        """Let the bot answer; a failure is logged, not turned into a Twilio retry."""
        out = self.get_output_channel()
        conversation = conversation_id(self.name(), sender)
        admission = sender_limit("Twilio").admit(conversation)
        if admission is not Admission.ADMITTED:
            if admission is Admission.REFUSED_WITH_NOTICE:
                await out.send_response(conversation, {"text": knowledge_base().message("te_veel_berichten")})
            return
        if without_text(form):
            await out.send_response(conversation, {"text": knowledge_base().message("alleen_tekst")})
            return
        # Some SMS carriers turn @ into ¡ (as in Rasa's channel).
        text = clean_user_text(first(form, "Body") or "").replace("¡", "@")
        try:
            metadata = kept_metadata(self.get_metadata(request))
            await on_new_message(
                UserMessage(text, out, conversation, input_channel=self.name(), metadata=metadata)
            )
        except Exception as error:  # noqa: BLE001 - the user gets no reply either way; keep the webhook healthy
            logger.error("Twilio: bericht niet verwerkt (%s, %d tekens)", type(error).__name__, len(text))
