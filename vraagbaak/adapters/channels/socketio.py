"""socket.io channel for the website widget.

Rasa 3.6's own channel loses messages with python-socketio 5.x:
- it calls the coroutine AsyncServer.enter_room without awaiting it, so with session_persistence the
  client never joins the room of its session id, and every bot message sent to that room is lost;
- send_custom_json passes the custom dict as keyword arguments to emit(), which raises TypeError
  ("unexpected keyword argument 'vraagbaak'") and stops the reply after the answer text: the related
  questions never arrive and the turn is not saved.
"""
from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Set

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from vraagbaak.adapters.channels import capped_body, conversation_id, json_object, platform_id
from vraagbaak.adapters.channels.formatting import markdown_safe
from vraagbaak.adapters.channels.socketio_bounds import bound_packets
from vraagbaak.core.bounds import kept_metadata
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.outcomes import FORGET_INTENT
from vraagbaak.core.user_input import MAX_LENGTH, MAX_REQUEST_BYTES, TOO_LONG, clean_user_text, input_problem

logger = logging.getLogger(__name__)

# What the widget proposes: its socket id, or after a reload the id it kept in sessionStorage.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
FORGET_PAYLOAD = f"/{FORGET_INTENT}"
MAX_FORGET_BYTES = 1024


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
        confirmed: Dict[str, str] = {}  # socket id -> the session id this socket was given
        heard: Set[str] = set()  # socket ids that have sent a message

        async def session_request(sid: str, data: Dict | None = None, *_: Any) -> None:
            data = data if isinstance(data, dict) else {}
            proposed = data.get("session_id")
            if not isinstance(proposed, str) or not SESSION_ID.fullmatch(proposed):
                data["session_id"] = uuid.uuid4().hex  # odd ids would become tracker keys and log lines
            previous = confirmed.get(sid)
            confirmed[sid] = data["session_id"]
            if self.session_persistence:
                if previous is not None and previous != data["session_id"]:
                    # One session per socket: it stops receiving the replies of the one it had.
                    await sio.leave_room(sid, previous, namespace=self.namespace)
                await sio.enter_room(sid, data["session_id"], namespace=self.namespace)
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=self.namespace)

        async def say(sid: str, key: str) -> None:
            text = knowledge_base().message(key, maximum=str(MAX_LENGTH))
            await sio.emit(
                self.bot_message_evt, {"text": markdown_safe(text)}, room=sid, namespace=self.namespace
            )

        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            if not isinstance(data, dict):
                # No data at all, or not an object: nothing says which session or what text.
                await say(sid, "ongeldig_verzoek")
                return
            session_id = confirmed.get(sid)
            if self.session_persistence and (session_id is None or data.get("session_id") != session_id):
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
                conversation_id(self.name(), session_id if self.session_persistence and session_id else sid),
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

        @blueprint.route("/forget", methods=["POST"], stream=True)
        async def forget(request: Request) -> HTTPResponse:
            # The widget's quick exit: a beacon survives the tab going away, a socket frame sent then is often
            # lost. Only "forget", only in socket.io's own namespace: whoever knows the session id could do the
            # same over the socket.
            raw = await capped_body(request, MAX_FORGET_BYTES)  # read no further than a beacon can be
            body = json_object(raw) if raw is not None else None
            session_id = (body or {}).get("sender")
            unreadable = knowledge_base().message("ongeldig_verzoek")
            if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
                return response.text(unreadable, status=400)
            if (body or {}).get("message") != FORGET_PAYLOAD:
                return response.text(unreadable, status=400)
            conversation = conversation_id(self.name(), session_id)
            try:
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
