"""Telegram channel: vertical inline keyboards, long texts split, webhook secret checked on every update.

Credentials (see vraagbaak/ops/channel_credentials.py):

    vraagbaak.adapters.channels.telegram.VraagbaakTelegramInput:
      access_token: ...   # from @BotFather
      verify: ...         # the bot's username, checked once at start-up
      webhook_url: https://.../webhooks/telegram/webhook
      secret_token: ...   # Telegram sends it back in X-Telegram-Bot-Api-Secret-Token
      api_url: ...        # optional, Bot API base URL (tests, or a local Bot API server)
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Mapping, NamedTuple, Sequence, Tuple

import aiohttp
from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from aiogram.utils.exceptions import RetryAfter, TelegramAPIError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vraagbaak.adapters.channels import (
    capped_body,
    conversation_id,
    header_bytes,
    json_object,
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
    TELEGRAM_LIMIT,
    Button,
    phone_spans,
    split_text,
    utf16_length,
    without_marker,
)
from vraagbaak.adapters.channels.opening import HELP_COMMAND, telegram_start
from vraagbaak.adapters.channels.replays import Replays, replays_for
from vraagbaak.adapters.channels.sender_limit import Admission, sender_limit
from vraagbaak.core.bounds import kept_metadata, valid_sender_id
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import MENU_INTENT
from vraagbaak.core.user_input import clean_user_text

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REQUIRED = ("access_token", "webhook_url", "secret_token")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
MAX_CONNECTIONS = 100  # simultaneous webhook calls Telegram may make (its default is 40)
TELEGRAM_ERRORS = (TelegramAPIError, OSError, asyncio.TimeoutError, DeliveryFailed)
# Chats with more than one person: the bot talks only in private chats (see Incoming.group).
GROUP_CHATS = frozenset(("group", "supergroup", "channel"))
# An update is a few KB (a text is at most 4096 characters); far more is not from Telegram.
MAX_UPDATE_BYTES = 256 * 1024
# Messages that carry no text to read; these get the short "I can only read text" reply.
NON_TEXT = frozenset(
    (
        "photo",
        "video",
        "voice",
        "audio",
        "sticker",
        "location",
        "venue",
        "contact",
        "document",
        "animation",
        "video_note",
        "poll",
        "dice",
        "story",
        "paid_media",
    )
)
# Replies that are one of the bot's own messages, sent without asking Rasa.
ONLY_TEXT, EDITED, PRIVATE_ONLY = "alleen_tekst", "bericht_bewerkt", "alleen_prive"


def vertical_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup:
    """One button per row: long Dutch titles stay readable on a phone."""
    keyboard = InlineKeyboardMarkup()
    for button in buttons:
        keyboard.row(InlineKeyboardButton(str(button["title"]), callback_data=str(button["payload"])))
    return keyboard


def telegram_parts(text: str) -> List[str]:
    """Text parts within Telegram's limit, which counts UTF-16 code units."""
    return split_text(text, TELEGRAM_LIMIT, utf16_length)


class Incoming(NamedTuple):
    """What an update asks: the chat, the texts for the bot in order, or the key of a fixed reply instead.

    `group`: the update comes from a group, supergroup or channel. There the bot only says, once, that it talks
    in private chats: one conversation shared by every member would answer member B's "2" from member A's
    list, and would show everyone's questions to the whole group.
    """

    chat_id: str
    texts: Tuple[str, ...] = ()
    reply: str | None = None
    callback_id: str | None = None
    group: bool = False


def chat_of(message: Any) -> str | None:
    """The chat id of a message object, or None when it is missing or malformed."""
    chat = message.get("chat") if isinstance(message, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if isinstance(chat_id, bool) or not isinstance(chat_id, (int, str)):
        return None
    # Telegram's chat ids are numbers; anything else (or megabytes of digits) would become a kept id.
    return str(chat_id) if valid_sender_id(str(chat_id)) else None


def in_group(message: Any) -> bool:
    """Whether the message was written in a chat with more than one person."""
    chat = message.get("chat") if isinstance(message, dict) else None
    return isinstance(chat, dict) and chat.get("type") in GROUP_CHATS


def incoming(update: Mapping[str, Any]) -> Incoming | None:
    """What to answer for an update, or None when there is nothing to answer (or it is malformed).

    Edited messages get a short note (the answer to the first version stands); messages of a kind without text
    (photo, voice, story, …) the "only text" reply; service messages (a pinned message, a member who joined)
    and update kinds the bot does not subscribe to are ignored on purpose: nobody asked anything.
    """
    query = update.get("callback_query")
    if query is not None:
        chat_id = chat_of(query.get("message")) if isinstance(query, dict) else None
        if chat_id is None or not isinstance(query.get("data"), str):
            return None  # inline-mode and game callbacks have no chat to answer in
        query_id = query.get("id")
        callback_id = query_id if isinstance(query_id, str) else None
        if in_group(query.get("message")):
            return Incoming(chat_id, reply=PRIVATE_ONLY, callback_id=callback_id, group=True)
        return Incoming(chat_id, (query["data"],), callback_id=callback_id)
    edited = update.get("edited_message")
    message = update.get("message") or edited
    chat_id = chat_of(message)
    if chat_id is None or not isinstance(message, dict):
        return None  # channel posts, or a malformed update
    if in_group(message):
        return Incoming(chat_id, reply=PRIVATE_ONLY, group=True)
    if message is edited:
        return Incoming(chat_id, reply=EDITED)
    text = message.get("text", message.get("caption"))  # a caption is what the user wrote
    if text is None:
        return Incoming(chat_id, reply=ONLY_TEXT) if NON_TEXT.intersection(message) else None
    if not isinstance(text, str):
        return None
    opening = telegram_start(text)
    if opening is not None:
        return Incoming(chat_id, tuple(opening))
    if HELP_COMMAND.match(text.strip()):
        return Incoming(chat_id, (f"/{MENU_INTENT}",))
    return Incoming(chat_id, (text,))


def group_key(chat_id: str) -> str:
    """The replay-store key that marks a group as told; a hash, so no group id is kept."""
    return "telegram:groep:" + hashlib.sha256(chat_id.encode("utf-8")).hexdigest()[:32]


async def acknowledge(out: Bot, callback_id: str) -> None:
    """Answer a button press, which stops its spinner; the answer still follows if this fails."""
    try:
        await within_deadline("Telegram", out.answer_callback_query(callback_id))
    except TELEGRAM_ERRORS as error:
        logger.warning("Telegram: knopdruk bevestigen mislukt (%s).", type(error).__name__)


class VraagbaakTelegramOutput(CompleteOrNothing, TelegramOutput):
    """Sends replies through the Bot API, completely or not at all; the API base URL is configurable."""

    def __init__(
        self,
        access_token: str | None,
        api_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        server = TelegramAPIServer.from_base(api_url) if api_url else TELEGRAM_PRODUCTION
        Bot.__init__(self, access_token, server=server)
        self.access_token, self.api_url = access_token, api_url
        if session is not None:
            self._session = session

    def for_message(self) -> VraagbaakTelegramOutput:
        """A fresh output for one incoming message (it tracks that answer), sharing this HTTP session."""
        return VraagbaakTelegramOutput(self.access_token, self.api_url, self.session)

    async def send_part(self, chat_id: str, text: str, **kwargs: Any) -> None:
        """One sendMessage, retried after Telegram's retry_after; the bot's phone numbers marked as such."""
        spans = phone_spans(text, knowledge_base().help_lines.numbers, utf16_length)
        if spans:
            # Telegram only links long numbers by itself; marked, 112 and 1813 can be tapped too.
            kwargs["entities"] = [MessageEntity(type="phone_number", offset=o, length=n) for o, n in spans]

        async def attempt() -> None:
            try:
                await within_deadline("Telegram", self.send_message(chat_id, text, **kwargs))
            except RetryAfter as limited:
                raise RateLimited(float(limited.timeout)) from limited
            except TELEGRAM_ERRORS as error:
                raise DeliveryFailed(type(error).__name__) from error

        await with_retries(attempt, "Telegram")

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send the text unchanged, in parts under the limit."""
        for part in telegram_parts(text):
            await self.send_part(recipient_id, part)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        """The text, with a vertical inline keyboard under its last part."""
        # Telegram refuses an empty text, so a keyboard without text gets the typing hint.
        parts = telegram_parts(text) or [knowledge_base().message("keuze_hint")]
        for part in parts[:-1]:
            await self.send_part(recipient_id, part)
        await self.send_part(recipient_id, parts[-1], reply_markup=vertical_keyboard(buttons))

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """Custom Telegram calls, minus the bot's internal marker."""
        rest = without_marker(json_message)
        if rest:
            try:
                await within_deadline("Telegram", super().send_custom_json(recipient_id, rest, **kwargs))
            except DeliveryFailed:
                raise
            except TELEGRAM_ERRORS as error:
                raise DeliveryFailed(type(error).__name__) from error

    async def register_webhook(self, url: str, secret_token: str) -> bool:
        """setWebhook with a secret token (aiogram 2.15 predates that parameter, so it goes in raw)."""
        payload = {
            "url": url,
            "secret_token": secret_token,
            "allowed_updates": json.dumps(ALLOWED_UPDATES),
            # Telegram's most: a webhook call lasts until its replies went out, so a few chats whose sends
            # hang must not use up the connections over which everyone else's updates arrive.
            "max_connections": MAX_CONNECTIONS,
        }
        return bool(await self.request("setWebhook", payload))


class VraagbaakTelegramInput(TelegramInput):
    """Rasa's Telegram channel with a checked webhook secret and no per-message getMe call."""

    @classmethod
    def name(cls) -> str:
        """Rasa's channel name, so the URL stays /webhooks/telegram/webhook."""
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> VraagbaakTelegramInput:
        """Build from the credentials file; refuses to start without a webhook secret."""
        credentials = required_settings("Telegram", credentials, REQUIRED)
        return cls(
            credentials["access_token"],
            credentials.get("verify"),
            credentials["webhook_url"],
            secret_token=str(credentials["secret_token"]),
            api_url=credentials.get("api_url") or None,
        )

    def __init__(
        self,
        access_token: str | None,
        verify: str | None,
        webhook_url: str | None,
        secret_token: str = "",
        api_url: str | None = None,
    ) -> None:
        # debug_mode off: an exception must not become a 500, or Telegram re-sends the update.
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.api_url = api_url
        self.replays: Replays = replays_for()

    def get_output_channel(self) -> VraagbaakTelegramOutput:
        """The output channel; Rasa's version also set the webhook here, in a second event loop."""
        return VraagbaakTelegramOutput(self.access_token, self.api_url)

    def has_secret(self, request: Request) -> bool:
        """Whether the update carries our webhook secret, compared in constant time."""
        sent = request.headers.get(SECRET_HEADER)
        return (
            bool(self.secret_token)
            and sent is not None
            and hmac.compare_digest(header_bytes(sent), self.secret_token.encode("utf-8"))
        )

    async def start(self, out: VraagbaakTelegramOutput) -> None:
        """Register the webhook with its secret; a failure is logged so REST and the widget keep working."""
        try:
            me = await within_deadline("Telegram", out.get_me())
            if self.verify and me.username != self.verify:
                logger.warning("Telegram: het token hoort bij een andere bot dan TELEGRAM_BOT_NAME.")
            await within_deadline("Telegram", out.register_webhook(str(self.webhook_url), self.secret_token))
        except TELEGRAM_ERRORS as error:
            logger.error("Telegram: webhook instellen mislukt (%s).", type(error).__name__)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET / (health) and POST /webhook, which answers 403 without the right secret."""
        telegram_webhook = Blueprint("vraagbaak_telegram_webhook", __name__)
        out = self.get_output_channel()

        @telegram_webhook.listener("after_server_start")
        async def register(app: Any, loop: Any) -> None:
            await self.start(out)

        @telegram_webhook.listener("before_server_stop")
        async def close(app: Any, loop: Any) -> None:
            await out.session.close()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"], stream=True)
        async def message(request: Request) -> HTTPResponse:
            # The secret is in a header: checked before a byte of the body is read.
            if not self.has_secret(request):
                return response.text("forbidden", status=403)
            body = await capped_body(request, MAX_UPDATE_BYTES)
            if body is None:
                return too_large()
            update = json_object(body) or {}
            found = incoming(update)
            # A malformed update gets 200 too: Telegram would resend it forever otherwise.
            if found and await self.first_time(update):
                await self.handle(found, out.for_message(), on_new_message, request)
            return response.text("success")

        return telegram_webhook

    async def first_time(self, update: Mapping[str, Any]) -> bool:
        """False for an update answered before (Telegram resends when the webhook is slow)."""
        update_id = update.get("update_id")
        return not isinstance(update_id, int) or await self.replays.first_time(f"telegram:{update_id}")

    async def handle(
        self,
        found: Incoming,
        out: VraagbaakTelegramOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        request: Request,
    ) -> None:
        """Acknowledge a button press, then let the bot answer; a fixed reply goes out without Rasa."""
        if found.callback_id:
            await acknowledge(out, found.callback_id)
        sender = conversation_id(self.name(), found.chat_id)
        if found.group and not await self.replays.first_time(group_key(found.chat_id)):
            return  # this group was told already (within the replay store's 24 hours)
        admission = sender_limit("Telegram").admit(sender)
        if admission is not Admission.ADMITTED:
            if admission is Admission.REFUSED_WITH_NOTICE:
                await out.send_response(sender, {"text": knowledge_base().message("te_veel_berichten")})
            return
        if found.reply is not None:
            await out.send_response(sender, {"text": knowledge_base().message(found.reply)})
            return
        metadata = kept_metadata(self.get_metadata(request))
        for raw in found.texts:
            text = clean_user_text(raw)
            try:
                await on_new_message(
                    UserMessage(text, out, sender, input_channel=self.name(), metadata=metadata)
                )
            except Exception as error:  # noqa: BLE001 - Telegram re-sends failed updates, so always answer 200
                logger.error(
                    "Telegram: bericht niet verwerkt (%s, %d tekens)", type(error).__name__, len(text)
                )
                return
            out = out.for_message()  # the next message (a start's topic) is an answer of its own
