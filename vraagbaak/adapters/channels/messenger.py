"""Facebook Messenger channel: three buttons plus "Meer vragen", texts split, signatures enforced.

Credentials (see vraagbaak/ops/channel_credentials.py):

    vraagbaak.adapters.channels.messenger.VraagbaakFacebookInput:
      verify: ...             # the verify token entered in the Meta app's webhook settings
      secret: ...             # the app secret: key of X-Hub-Signature-256 / X-Hub-Signature
      page-access-token: ...
      api_url: ...            # optional, Graph API base URL (tests)
      api_version: v25.0      # optional, Graph API version
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Mapping

import aiohttp
from fbmessenger import MessengerClient
from fbmessenger.sender_actions import SenderAction
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.facebook import FacebookInput, Messenger, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vraagbaak.adapters.channels import (
    blueprint_with_health,
    capped_body,
    conversation_id,
    header_bytes,
    json_object,
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
from vraagbaak.adapters.channels.formatting import (
    MESSENGER_LIMIT,
    MESSENGER_TEMPLATE_LIMIT,
    MORE_PREFIX,
    ButtonPage,
    messenger_page,
    read_more_payload,
    split_text,
    without_marker,
)
from vraagbaak.adapters.channels.opening import GET_STARTED, opening_payloads
from vraagbaak.adapters.channels.replays import Replays, replays_for
from vraagbaak.adapters.channels.sender_limit import Admission, sender_limit
from vraagbaak.core.bounds import kept_metadata, valid_sender_id
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.replies import button_for_payload
from vraagbaak.core.user_input import clean_user_text

logger = logging.getLogger(__name__)

GRAPH_API_URL = "https://graph.facebook.com"
GRAPH_API_VERSION = "v25.0"
REQUIRED = ("verify", "secret", "page-access-token")
# Strongest first: Meta sends both headers; SHA-1 alone is accepted for older app set-ups.
SIGNATURE_HEADERS = (("X-Hub-Signature-256", "sha256"), ("X-Hub-Signature", "sha1"))
# Meta batches events, but a webhook call stays far below this; the signature covers the whole body.
MAX_BODY_BYTES = 1024 * 1024
# Graph API error codes that mean "too many calls, wait": 4 (app), 17 (user), 32 (page), 613 (rate limit).
RATE_LIMIT_CODES = frozenset((4, 17, 32, 613))


def signature_valid(app_secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether the body is signed with the app secret; only sha256/sha1, compared in constant time."""
    for header, algorithm in SIGNATURE_HEADERS:
        sent = headers.get(header)
        if sent is not None:
            digest = hmac.new(app_secret.encode("utf-8"), body, getattr(hashlib, algorithm)).hexdigest()
            return hmac.compare_digest(header_bytes(sent), f"{algorithm}={digest}".encode())
    return False


def graph_client(page_access_token: str, app_secret: str, api_url: str, api_version: str) -> MessengerClient:
    """A Send API client for the configured Graph API; appsecret_proof proves calls come from our app."""
    client = MessengerClient(page_access_token, app_secret=app_secret)
    client.graph_url = f"{api_url.rstrip('/')}/{api_version}"
    return client


def button_template(text: str, page: ButtonPage) -> Dict[str, Any]:
    """A Messenger button template message, with the "Meer vragen" quick reply when more options follow."""
    payload = {"template_type": "button", "text": text, "buttons": page.buttons}
    message: Dict[str, Any] = {"attachment": {"type": "template", "payload": payload}}
    if page.more:
        title = knowledge_base().message("knop_meer_vragen")
        message["quick_replies"] = [{"content_type": "text", "title": title, "payload": page.more}]
    return message


def messaging_events(payload: Mapping[str, Any]) -> Iterator[Dict[str, Any]]:
    """Every messaging event of a webhook call; malformed entries are skipped."""
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        events = entry.get("messaging") if isinstance(entry, dict) else None
        for event in events if isinstance(events, list) else []:
            if isinstance(event, dict):
                yield event


def sender_of(event: Mapping[str, Any]) -> str | None:
    """The page-scoped id of the event's sender; None when missing (never answer to "default") or unbounded."""
    sender = event.get("sender")
    sender_id = sender.get("id") if isinstance(sender, dict) else None
    return sender_id if valid_sender_id(sender_id) else None


def event_key(event: Mapping[str, Any]) -> str | None:
    """The message id of a message, postback or edit event, the key for answering it once."""
    for kind in ("message", "postback", "message_edit"):
        part = event.get(kind)
        if isinstance(part, dict) and isinstance(part.get("mid"), str):
            edit = part.get("num_edit") if kind == "message_edit" else None
            return f"messenger:{part['mid']}" + (f":bewerkt:{edit}" if isinstance(edit, int) else "")
    return None


def opening_ref(event: Mapping[str, Any]) -> str | None:
    """The `ref` of an m.me link that opened the chat (a referral event, or the Get started postback's)."""
    postback = event.get("postback")
    for referral in (event.get("referral"), postback.get("referral") if isinstance(postback, dict) else None):
        if isinstance(referral, dict) and isinstance(referral.get("ref"), str):
            return str(referral["ref"])
    return None


class VraagbaakMessengerBot(CompleteOrNothing, MessengerBot):
    """Sends texts under Messenger's limit, and options three at a time behind "Meer vragen"."""

    async def post(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """One Send API message, retried after a rate limit; DeliveryFailed when Meta keeps refusing it."""
        body = {
            "messaging_type": "RESPONSE",
            "notification_type": "REGULAR",
            "recipient": {"id": recipient_id},
            "message": message,
        }
        await with_retries(lambda: self.call(body), "Messenger")

    async def call(self, body: Dict[str, Any]) -> None:
        """A Send API call, without a thread and within the platform timeout; RateLimited or DeliveryFailed."""
        client = self.messenger_client
        url = f"{client.graph_url}/me/messages"
        try:
            status, result = await within_deadline(
                "Messenger", platform_http.post("messenger", url, params=client.auth_args, json=body)
            )
        except (aiohttp.ClientError, OSError) as error:
            raise DeliveryFailed(f"Messenger niet bereikbaar ({type(error).__name__})") from error
        refused = result.get("error") if isinstance(result, dict) else None
        if isinstance(refused, dict):
            if refused.get("code") in RATE_LIMIT_CODES:
                raise RateLimited()
            raise DeliveryFailed(f"Messenger weigerde een bericht (code {refused.get('code')})")
        if status >= 300:
            raise DeliveryFailed(f"Messenger weigerde een bericht (status {status})")

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send the text unchanged, in parts under the limit."""
        for part in split_text(text, MESSENGER_LIMIT):
            await self.post(recipient_id, {"text": part})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        """The first three options as buttons; "Meer vragen" shows the next three."""
        await self.send_page(recipient_id, messenger_page(text, buttons))

    async def send_page(self, recipient_id: str, page: ButtonPage) -> None:
        """One page of options; its text is split so that the last part fits above the buttons."""
        parts = split_text(page.text, MESSENGER_TEMPLATE_LIMIT)
        for part in parts[:-1]:
            await self.post(recipient_id, {"text": part})
        await self.post(recipient_id, button_template(parts[-1], page))

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        """A custom Messenger message, minus the bot's internal marker, to this conversation's user only."""
        rest = without_marker(json_message)
        if isinstance(rest, dict):
            rest.pop("sender", None)  # Rasa's version lets custom JSON pick another recipient
            await self.post(recipient_id, rest)

    async def send_action(self, recipient_id: str, sender_action: str) -> None:
        """A sender action such as typing_on, without blocking the server; a failure is only logged."""
        action = SenderAction(sender_action).to_dict()
        try:
            await self.call({"recipient": {"id": recipient_id}, "sender_action": action})
        except (DeliveryFailed, RateLimited) as error:
            logger.warning("Messenger: %s mislukt (%s)", sender_action, type(error).__name__)


class VraagbaakMessenger(Messenger):
    """Handles every event of a webhook call (Rasa's stops after the first) and only text and postbacks."""

    def __init__(
        self,
        client: MessengerClient,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        replays: Replays,
    ) -> None:
        self.on_new_message = on_new_message
        self.client = client
        self.replays = replays
        self.last_message: Dict[str, Any] = {}

    async def handle(self, payload: Dict, metadata: Dict[str, Any] | None) -> None:
        """Answer each messaging event once; Meta batches several into one call and resends slow ones.

        Each sender's events are answered in order, the senders side by side: one user whose replies are slow
        to go out must not hold up the other users of the same batch.
        """
        by_sender: Dict[str, List[Dict[str, Any]]] = {}
        for event in messaging_events(payload):
            sender = sender_of(event)
            if sender is not None:
                by_sender.setdefault(sender, []).append(event)
        await asyncio.gather(
            *(self.answer_events(sender, events, metadata) for sender, events in by_sender.items())
        )

    async def answer_events(
        self, sender: str, events: List[Dict[str, Any]], metadata: Dict[str, Any] | None
    ) -> None:
        """One sender's events of a webhook call, in order, each once."""
        for event in events:
            key = event_key(event)
            if key is not None and not await self.replays.first_time(key):
                continue
            self.last_message = event
            message, postback = event.get("message"), event.get("postback")
            if isinstance(message, dict):
                await self.message_from(sender, message, metadata)
            elif isinstance(postback, dict) and postback.get("payload") == GET_STARTED:
                await self.opening(sender, opening_ref(event), metadata)
            elif isinstance(postback, dict) and isinstance(postback.get("payload"), str):
                await self._handle_user_message(postback["payload"], sender, metadata)
            elif isinstance(event.get("referral"), dict):
                await self.opening(sender, opening_ref(event), metadata)
            elif isinstance(event.get("message_edit"), dict):
                await self.fixed_reply(sender, "bericht_bewerkt")  # as on Telegram: the first answer stands

    async def opening(self, sender: str, ref: str | None, metadata: Dict[str, Any] | None) -> None:
        """A start ("Aan de slag", an m.me link): the greeting, then the topic a link names (opening.py)."""
        for payload in opening_payloads(ref):
            await self._handle_user_message(payload, sender, metadata)

    async def fixed_reply(self, sender: str, key: str) -> None:
        """One of the bot's own messages, sent without asking Rasa."""
        out = VraagbaakMessengerBot(self.client)
        await out.send_response(conversation_id(out.name(), sender), {"text": knowledge_base().message(key)})

    async def message_from(
        self, sender: str, message: Dict[str, Any], metadata: Dict[str, Any] | None
    ) -> None:
        """A typed text or quick reply; echoes are skipped, and attachments without text get a short reply."""
        if message.get("is_echo"):
            return
        quick_reply = message.get("quick_reply")
        payload = quick_reply.get("payload") if isinstance(quick_reply, dict) else None
        text = message.get("text")
        if isinstance(payload, str) and payload:
            if payload.startswith(MORE_PREFIX):
                await self.more_options(payload, sender)
            else:
                await self._handle_user_message(payload, sender, metadata)
        elif isinstance(text, str) and text:
            await self._handle_user_message(text, sender, metadata)
        elif message.get("attachments"):  # photo, voice, sticker, location
            await self.fixed_reply(sender, "alleen_tekst")

    async def more_options(self, payload: str, sender_id: str) -> None:
        """The next page of options, shown by the channel itself: Rasa keeps the full numbered list."""
        out = VraagbaakMessengerBot(self.client)
        kb = knowledge_base()
        read = read_more_payload(payload)
        wanted = read[1] if read else []
        buttons = [b for b in (button_for_payload(kb, p) for p in wanted) if b]
        try:
            if read is None or not buttons or len(buttons) != len(wanted):
                await out.send_text_message(sender_id, kb.message("onbekende_knop"))  # forged or outdated
                return
            await out.send_page(sender_id, messenger_page("", buttons, read[0]))
        except DeliveryFailed as error:
            await out.give_up(sender_id, error)

    async def _handle_user_message(
        self, raw_text: str, sender_id: str, metadata: Dict[str, Any] | None
    ) -> None:
        text = clean_user_text(raw_text)
        out = VraagbaakMessengerBot(self.client)
        admission = sender_limit("Messenger").admit(conversation_id(self.name(), sender_id))
        if admission is not Admission.ADMITTED:
            if admission is Admission.REFUSED_WITH_NOTICE:
                await self.fixed_reply(sender_id, "te_veel_berichten")
            return
        await out.send_action(sender_id, sender_action="mark_seen")
        await out.send_action(sender_id, sender_action="typing_on")
        try:
            conversation = conversation_id(self.name(), sender_id)
            await self.on_new_message(
                UserMessage(text, out, conversation, input_channel=self.name(), metadata=metadata)
            )
        except Exception as error:  # noqa: BLE001 - Meta re-sends failed calls; one failed reply must not repeat
            logger.error("Messenger: bericht niet verwerkt (%s, %d tekens)", type(error).__name__, len(text))
        finally:
            await out.send_action(sender_id, sender_action="typing_off")


class VraagbaakFacebookInput(FacebookInput):
    """Rasa's Messenger channel; forged or unsigned calls get 403 and are never processed."""

    @classmethod
    def name(cls) -> str:
        """Rasa's channel name, so the URL stays /webhooks/facebook/webhook."""
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> VraagbaakFacebookInput:
        """Build from the credentials file; refuses to start without the app secret."""
        credentials = required_settings("Messenger", credentials, REQUIRED)
        return cls(
            str(credentials["verify"]),
            str(credentials["secret"]),
            str(credentials["page-access-token"]),
            api_url=credentials.get("api_url") or GRAPH_API_URL,
            api_version=credentials.get("api_version") or GRAPH_API_VERSION,
        )

    def __init__(
        self,
        fb_verify: str,
        fb_secret: str,
        fb_access_token: str,
        api_url: str = GRAPH_API_URL,
        api_version: str = GRAPH_API_VERSION,
    ) -> None:
        super().__init__(fb_verify, fb_secret, fb_access_token)
        self.api_url = api_url
        self.api_version = api_version
        self.replays: Replays = replays_for()

    def client(self) -> MessengerClient:
        """A Send API client for this page."""
        return graph_client(self.fb_access_token, self.fb_secret, self.api_url, self.api_version)

    def get_output_channel(self) -> VraagbaakMessengerBot:
        """The output channel, for messages the bot starts itself."""
        return VraagbaakMessengerBot(self.client())

    def verification(self, request: Request) -> HTTPResponse:
        """Meta's subscription check: echo the challenge only for our verify token."""
        token = request.args.get("hub.verify_token") or ""
        if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode("utf-8"), self.fb_verify.encode("utf-8")
        ):
            return response.text(request.args.get("hub.challenge") or "")
        return response.text("forbidden", status=403)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET / (health), GET /webhook (verification) and POST /webhook (signed events only)."""
        fb_webhook = blueprint_with_health("vraagbaak_fb_webhook")

        @fb_webhook.listener("before_server_stop")
        async def close(app: Any, loop: Any) -> None:
            await platform_http.close_sessions()

        @fb_webhook.route("/webhook", methods=["GET"])
        async def token_verification(request: Request) -> HTTPResponse:
            return self.verification(request)

        @fb_webhook.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            if not any(request.headers.get(header) for header, _ in SIGNATURE_HEADERS):
                return response.text("forbidden", status=403)  # unsigned: refused before the body is read
            body = await capped_body(request, MAX_BODY_BYTES)
            if body is None:
                return too_large()
            if not signature_valid(self.fb_secret, body, request.headers):
                return response.text("forbidden", status=403)
            # A malformed but signed call gets 200 without an answer: Meta would resend it otherwise.
            payload = json_object(body) or {}
            messenger = VraagbaakMessenger(self.client(), on_new_message, self.replays)
            await messenger.handle(payload, kept_metadata(self.get_metadata(request)))
            return response.text("success")

        return fb_webhook
