"""socket.io channel for the website widget.

Rasa 3.6's own channel loses messages with python-socketio 5.x:
- it calls the coroutine AsyncServer.enter_room without awaiting it, so with session_persistence the
  client never joins the room of its session id, and every bot message sent to that room is lost;
- send_custom_json passes the custom dict as keyword arguments to emit(), which raises TypeError
  ("unexpected keyword argument 'vraagbaak'") and stops the reply after the answer text: the related
  questions never arrive and the turn is not saved.
It also trusted any session id a client proposed, so a second connection could join a visitor's room and
receive every reply, and it accepted sockets from every website. Here the server issues and signs the session
ids (vraagbaak.core.session_tokens) and checks the Origin against Rasa's --cors list (origins.py).
"""
from __future__ import annotations

import hmac
import logging
from typing import Any, Awaitable, Callable, ContextManager, Dict, List, Set, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vraagbaak.adapters.channels import capped_body, conversation_id, json_object, platform_id
from vraagbaak.adapters.channels.formatting import markdown_safe
from vraagbaak.adapters.channels.origins import allowed_origins, origin_allowed
from vraagbaak.adapters.channels.socketio_bounds import bound_packets
from vraagbaak.adapters.log_privacy import identifiers_in_play
from vraagbaak.adapters.rate_limit import Notices, TokenBuckets
from vraagbaak.core.bounds import kept_metadata
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import FORGET_INTENT
from vraagbaak.core.session_tokens import session_tokens
from vraagbaak.core.settings import Settings
from vraagbaak.core.user_input import MAX_LENGTH, MAX_REQUEST_BYTES, TOO_LONG, clean_user_text, input_problem

logger = logging.getLogger(__name__)

FORGET_PAYLOAD = f"/{FORGET_INTENT}"
MAX_FORGET_BYTES = 1024
WRONG_WEBSITE = "Deze website mag de chatbot niet gebruiken."


class VraagbaakSocketIOOutput(SocketIOOutput):
    """Sends custom payloads as {"custom": ...}, and text that Markdown-rendering widgets show as written."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await super().send_text_message(recipient_id, markdown_safe(text.strip()), **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await super().send_text_with_buttons(recipient_id, markdown_safe(text.strip()), buttons, **kwargs)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        # Rasa addresses "socketio:<session>"; the room is the session. Other channels' ids reach no room.
        room = platform_id(VraagbaakSocketIOInput.name(), socket_id)
        if room is not None:
            await self.sio.emit(self.bot_message_evt, response, room=room)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class VraagbaakSocketIOInput(SocketIOInput):
    """Rasa's socket.io input, with the session room joined and the fixed output channel."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> VraagbaakSocketIOOutput | None:
        return VraagbaakSocketIOOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        # engine.io refuses bigger packets before they are decoded; smaller ones are cut by clean_user_text.
        sio.eio.max_http_buffer_size = MAX_REQUEST_BYTES
        # Read at start: without its key (unreadable file, short setting) Rasa stops rather than trust clients.
        tokens = session_tokens()
        confirmed: Dict[str, Tuple[str, str]] = {}  # socket id -> (the token it was given, that session)
        heard: Set[str] = set()  # socket ids that have sent a message
        engineio_request = sio.eio.handle_request

        async def checked_request(request: Request, *args: Any, **kwargs: Any) -> Any:
            # Every engine.io request (polling and the websocket upgrade) passes here, before a session exists.
            if not origin_allowed(request.headers.get("origin"), allowed_origins(request.app)):
                logger.warning("socket.io: verbinding van een niet-toegestane website geweigerd")
                return response.text(WRONG_WEBSITE, status=403)
            return await engineio_request(request, *args, **kwargs)

        # Set before Rasa attaches engine.io to the app: the route it adds is this attribute.
        sio.eio.handle_request = checked_request

        settings = Settings.from_env()
        # Per connection, not per session: one socket can ask for new sessions, and so start new conversations.
        buckets = TokenBuckets(settings.rate_burst, settings.rate_per_minute)
        notices = Notices()

        def in_play(sid: str, session_id: Any, *others: Any) -> ContextManager[str]:
            session = session_id if isinstance(session_id, str) and session_id else ""
            conversation = conversation_id(self.name(), session) if session else f"{self.name()}-sid:{sid}"
            return identifiers_in_play(conversation, sid, session, *(o for o in others if isinstance(o, str)))

        async def session_request(sid: str, data: Dict | None = None, *_: Any) -> None:
            # The socket id and a proposed session id name a visitor: no log line may show them.
            with in_play(sid, data.get("session_id") if isinstance(data, dict) else None):
                await confirm_session(sid, data)

        async def confirm_session(sid: str, data: Dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            proposed = data.get("session_id")
            session = tokens.session_of(proposed)
            if session is None or not isinstance(proposed, str):
                # Unsigned, forged or from another key: a new session, and the proposed room is never joined.
                if proposed is not None:
                    logger.info(
                        "socket.io: voorgestelde sessie is niet door de server uitgegeven; nieuwe sessie"
                    )
                token = tokens.issue()
                session = token.partition(".")[0]
            else:
                token = proposed
            previous = confirmed.get(sid)
            confirmed[sid] = (token, session)
            if self.session_persistence:
                if previous is not None and previous[1] != session:
                    # One session per socket: it stops receiving the replies of the one it had.
                    await sio.leave_room(sid, previous[1], namespace=self.namespace)
                await sio.enter_room(sid, session, namespace=self.namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)

        async def say(sid: str, key: str) -> None:
            text = knowledge_base().message(key, maximum=str(MAX_LENGTH))
            await sio.emit(
                self.bot_message_evt, {"text": markdown_safe(text)}, room=sid, namespace=self.namespace
            )

        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            if not buckets.take(sid):
                # Before anything else, so a flood costs no work; one notice per few seconds, the rest unread.
                refused = notices.due(sid)
                if refused:
                    logger.warning("socket.io: verbinding stuurt te veel berichten (%d geweigerd)", refused)
                    await say(sid, "te_veel_berichten")
                return
            claimed = data.get("session_id") if isinstance(data, dict) else None
            with in_play(sid, (confirmed.get(sid) or (None, None))[1], claimed):
                await answer_message(sid, data)

        async def answer_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                # No data at all, or not an object: nothing says which session or what text.
                await say(sid, "ongeldig_verzoek")
                return
            given = confirmed.get(sid)
            if self.session_persistence and (
                given is None or not _same_token(data.get("session_id"), given[0])
            ):
                # Only the session this socket was confirmed for: never write into someone else's.
                logger.warning("socket.io: bericht voor een niet-bevestigde sessie geweigerd")
                await say(sid, "sessie_ongeldig")
                return
            text = clean_user_text(data.get("message"))
            first = sid not in heard
            heard.add(sid)
            if first and data.get("message") in (None, ""):
                # A widget opening (rasa-webchat's empty initPayload): nothing was asked, so nothing is said.
                return
            if input_problem(text) == TOO_LONG:
                # Answered here: the pipeline would say the same at many times the cost, and store the text.
                await say(sid, "invoer_te_lang")
                return
            message = UserMessage(
                text,
                VraagbaakSocketIOOutput(sio, self.bot_message_evt),
                conversation_id(self.name(), given[1] if self.session_persistence and given else sid),
                input_channel=self.name(),
                metadata=kept_metadata(data.get(self.metadata_key)),
            )
            try:
                await on_new_message(message)
            except Exception as error:  # noqa: BLE001 (the visitor must get an answer, the log no text)
                logger.error(
                    "socket.io: bericht niet verwerkt (%s, %d tekens)", type(error).__name__, len(text)
                )
                await say(sid, "technisch_probleem")

        async def disconnect(sid: str) -> None:
            confirmed.pop(sid, None)
            heard.discard(sid)
            buckets.forget(sid)
            notices.forget(sid)

        @blueprint.route("/forget", methods=["POST"], stream=True)
        async def forget(request: Request) -> HTTPResponse:
            # The widget's quick exit: a beacon survives the tab going away, a socket frame sent then is often
            # lost. Only "forget", only with a token this server issued: the same as that tab could do over
            # its socket, and nothing anyone else can do.
            if not origin_allowed(request.headers.get("origin"), allowed_origins(request.app)):
                return response.text(WRONG_WEBSITE, status=403)
            raw = await capped_body(request, MAX_FORGET_BYTES)  # read no further than a beacon can be
            body = json_object(raw) if raw is not None else None
            session = tokens.session_of((body or {}).get("sender"))
            if session is None or (body or {}).get("message") != FORGET_PAYLOAD:
                return response.text(knowledge_base().message("ongeldig_verzoek"), status=400)
            conversation = conversation_id(self.name(), session)
            try:
                # Agent.handle_message hides this conversation's ids in every log line (log_privacy).
                await on_new_message(
                    UserMessage(
                        FORGET_PAYLOAD, CollectingOutputChannel(), conversation, input_channel=self.name()
                    )
                )
            except Exception as error:  # noqa: BLE001 (the tab is gone; the log gets the event, no text)
                logger.error("socket.io: vergeten mislukt (%s)", type(error).__name__)
                return response.text(knowledge_base().message("technisch_probleem"), status=503)
            return response.empty()

        bound_packets(sio, self.namespace, say)
        # Replace Rasa's handlers for these events (python-socketio keeps one handler per event).
        sio.on("session_request", handler=session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handler=handle_message, namespace=self.namespace)
        sio.on("disconnect", handler=disconnect, namespace=self.namespace)
        return blueprint


def _same_token(given: Any, token: str) -> bool:
    """The token this socket was confirmed for, compared in constant time."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), token.encode("ascii"))
