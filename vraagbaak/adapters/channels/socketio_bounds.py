"""socket.io packets bounded in bytes before python-socketio decodes them.

engine.io refuses a packet above MAX_REQUEST_BYTES by closing the connection. Below that, python-socketio
decodes every packet's JSON, which takes many times its size in memory, and collects the binary attachments
a packet announces (up to ten digits' worth of them, each up to MAX_REQUEST_BYTES) before any handler runs.
The widget sends text events of a few KB and never a binary one.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from socketio import AsyncServer

from vraagbaak.core.user_input import MAX_MESSAGE_BYTES

logger = logging.getLogger(__name__)

# Socket.IO packet types with binary attachments: BINARY_EVENT and BINARY_ACK.
BINARY_PACKET_TYPES = ("5", "6")
TOO_LONG_KEY = "invoer_te_lang"
NOT_TEXT_KEY = "alleen_tekst"


def packet_problem(data: Any, limit: int = MAX_MESSAGE_BYTES) -> str | None:
    """The message key to answer an undecoded packet with, or None when python-socketio may decode it."""
    if not isinstance(data, str) or data[:1] in BINARY_PACKET_TYPES:
        return NOT_TEXT_KEY
    # Characters are never more than bytes, so a long text is refused without encoding it.
    if len(data) > limit or len(data.encode("utf-8", "surrogatepass")) > limit:
        return TOO_LONG_KEY
    return None


def bound_packets(
    sio: AsyncServer, namespace: str | None, say: Callable[[str, str], Awaitable[None]]
) -> None:
    """Let python-socketio decode only text packets up to MAX_MESSAGE_BYTES; answer the others in Dutch."""
    decode = sio._handle_eio_message  # what python-socketio registered with engine.io

    async def checked(eio_sid: str, data: Any) -> None:
        problem = packet_problem(data)
        if problem is None:
            await decode(eio_sid, data)
            return
        logger.warning("socket.io: pakket niet gelezen (%s, %d tekens of bytes)", problem, len(data))
        sid = sio.manager.sid_from_eio_sid(eio_sid, namespace or "/")
        # A binary frame on its own belongs to a refused packet, which was answered already.
        if sid is not None and isinstance(data, str):
            await say(sid, problem)

    sio.eio.on("message", checked)
