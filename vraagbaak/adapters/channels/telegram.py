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
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Sequence, Tuple

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vraagbaak.adapters.channels import required_settings
from vraagbaak.adapters.channels.formatting import (
    TELEGRAM_LIMIT,
    Button,
    split_text,
    utf16_length,
    without_marker,
)
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.user_input import clean_user_text

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REQUIRED = ("access_token", "webhook_url", "secret_token")
# Telegram clients send commands; these map them onto the bot's own intents.
COMMANDS = {"/start": "/chat_groet", "/help": "/chat_wat_kan_je"}
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
TELEGRAM_ERRORS = (TelegramAPIError, OSError, asyncio.TimeoutError)


def vertical_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup:
    """One button per row: long Dutch titles stay readable on a phone."""
    keyboard = InlineKeyboardMarkup()
    for button in buttons:
        keyboard.row(InlineKeyboardButton(str(button["title"]), callback_data=str(button["payload"])))
    return keyboard


def telegram_parts(text: str) -> List[str]:
    """Text parts within Telegram's limit, which counts UTF-16 code units."""
    return split_text(text, TELEGRAM_LIMIT, utf16_length)


def incoming(update: Update) -> Tuple[str, str, str | None] | None:
    """(chat id, text for the bot, callback query id) of an update, or None when there is nothing to answer."""
    query = update.callback_query
    if query is not None:
        if query.message is None or query.data is None:
            return None  # inline-mode and game callbacks have no chat to answer in
        return str(query.message.chat.id), str(query.data), str(query.id)
    message = update.message or update.edited_message
    if message is None or message.text is None:
        return None  # photos, stickers, channel posts: nothing to look up
    return str(message.chat.id), COMMANDS.get(message.text.strip(), message.text), None


async def acknowledge(out: Bot, callback_id: str) -> None:
    """Answer a button press, which stops its spinner; the answer still follows if this fails."""
    try:
        await out.answer_callback_query(callback_id)
    except TELEGRAM_ERRORS as error:
        logger.warning("Telegram: knopdruk bevestigen mislukt (%s).", type(error).__name__)


class VraagbaakTelegramOutput(TelegramOutput):
    """Sends replies through the Bot API; the API base URL is configurable."""

    def __init__(self, access_token: str | None, api_url: str | None = None) -> None:
        server = TelegramAPIServer.from_base(api_url) if api_url else TELEGRAM_PRODUCTION
        Bot.__init__(self, access_token, server=server)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send the text unchanged, in parts under the limit."""
        for part in telegram_parts(text):
            await self.send_message(recipient_id, part)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        """The text, with a vertical inline keyboard under its last part."""
        # Telegram refuses an empty text, so a keyboard without text gets the typing hint.
        parts = telegram_parts(text) or [knowledge_base().message("keuze_hint")]
        for part in parts[:-1]:
            await self.send_message(recipient_id, part)
        await self.send_message(recipient_id, parts[-1], reply_markup=vertical_keyboard(buttons))

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """Custom Telegram calls, minus the bot's internal marker."""
        rest = without_marker(json_message)
        if rest:
            await super().send_custom_json(recipient_id, rest, **kwargs)

    async def register_webhook(self, url: str, secret_token: str) -> bool:
        """setWebhook with a secret token (aiogram 2.15 predates that parameter, so it goes in raw)."""
        payload = {"url": url, "secret_token": secret_token, "allowed_updates": json.dumps(ALLOWED_UPDATES)}
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

    def get_output_channel(self) -> VraagbaakTelegramOutput:
        """The output channel; Rasa's version also set the webhook here, in a second event loop."""
        return VraagbaakTelegramOutput(self.access_token, self.api_url)

    def has_secret(self, request: Request) -> bool:
        """Whether the update carries our webhook secret, compared in constant time."""
        sent = request.headers.get(SECRET_HEADER)
        return (
            bool(self.secret_token)
            and sent is not None
            and hmac.compare_digest(sent.encode("utf-8"), self.secret_token.encode("utf-8"))
        )

    async def start(self, out: VraagbaakTelegramOutput) -> None:
        """Register the webhook with its secret; a failure is logged so REST and the widget keep working."""
        try:
            me = await out.get_me()
            if self.verify and me.username != self.verify:
                logger.warning("Telegram: het token hoort bij een andere bot dan TELEGRAM_BOT_NAME.")
            await out.register_webhook(str(self.webhook_url), self.secret_token)
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

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not self.has_secret(request):
                return response.text("forbidden", status=403)
            body = request.json
            if not isinstance(body, dict):
                return response.text("bad request", status=400)
            found = incoming(Update(**body))
            if found:
                await self.handle(found, out, on_new_message, request)
            return response.text("success")

        return telegram_webhook

    async def handle(
        self,
        found: Tuple[str, str, str | None],
        out: VraagbaakTelegramOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        request: Request,
    ) -> None:
        """Acknowledge a button press, then let the bot answer."""
        chat_id, raw_text, callback_id = found
        text = clean_user_text(raw_text)
        if callback_id:
            await acknowledge(out, callback_id)
        try:
            metadata = self.get_metadata(request)
            await on_new_message(
                UserMessage(text, out, chat_id, input_channel=self.name(), metadata=metadata)
            )
        except Exception as error:  # noqa: BLE001 - Telegram re-sends failed updates, so always answer 200
            logger.error("Telegram: bericht niet verwerkt (%s, %d tekens)", type(error).__name__, len(text))
