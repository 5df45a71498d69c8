"""socket.io channel for the website widget.

Rasa 3.6's own channel loses messages with python-socketio 5.x:
- it calls the coroutine AsyncServer.enter_room without awaiting it, so with session_persistence the
  client never joins the room of its session id, and every bot message sent to that room is lost;
- send_custom_json passes the custom dict as keyword arguments to emit(), which raises TypeError
  ("unexpected keyword argument 'vraagbaak'") and stops the reply after the answer text: the related
  questions never arrive and the turn is not saved.
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

# What the widget proposes: its socket id, or after a reload the id it kept in sessionStorage.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def _metadata(raw: Any) -> Dict[str, Any]:
    """Metadata as a dict; malformed metadata is dropped rather than crashing the handler."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


class VraagbaakSocketIOOutput(SocketIOOutput):
    """Sends custom payloads as {"custom": ...}, like every other bot message."""

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

        async def session_request(sid: str, data: Dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            proposed = data.get("session_id")
            if not isinstance(proposed, str) or not SESSION_ID.fullmatch(proposed):
                data["session_id"] = uuid.uuid4().hex  # odd ids would become tracker keys and log lines
            if self.session_persistence:
                await sio.enter_room(sid, data["session_id"], namespace=self.namespace)
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=self.namespace)

        async def handle_message(sid: str, data: Dict) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                if not data.get("session_id"):
                    return
                sender_id = data["session_id"]
            else:
                sender_id = sid
            output = VraagbaakSocketIOOutput(sio, self.bot_message_evt)
            text = data.get("message")
            message = UserMessage(
                text if isinstance(text, str) else "",  # the bot answers an empty message in Dutch
                output,
                sender_id,
                input_channel=self.name(),
                metadata=_metadata(data.get(self.metadata_key)),
            )
            await on_new_message(message)

        # Replace Rasa's handlers for these events (python-socketio keeps one handler per event).
        sio.on("session_request", handler=session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handler=handle_message, namespace=self.namespace)
        return blueprint
