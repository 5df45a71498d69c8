"""Rasa input channels with Vraagbaak's safety fixes."""

import json
from typing import Any, Dict, Iterable, List

from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


def required_settings(
    label: str, credentials: Dict[str, Any] | None, required: Iterable[str]
) -> Dict[str, Any]:
    """The channel's credentials, refusing to start when a required setting is missing."""
    credentials = credentials or {}
    missing = [key for key in required if not credentials.get(key)]
    if missing:
        raise RasaException(f"{label}: ontbrekende instellingen {missing}")
    return credentials


def blueprint_with_health(name: str) -> Blueprint:
    """A channel blueprint with Rasa's health route (GET / → {"status": "ok"}) already on it."""
    blueprint = Blueprint(name, __name__)

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return blueprint


def conversation_id(channel: str, sender: str) -> str:
    """Rasa's conversation id for a sender of this channel: every channel has a namespace of its own.

    Why: senders choose or know ids (a REST sender, a phone number); without the prefix one channel could
    write into, or read the replies of, a conversation held in another channel.
    """
    return f"{channel}:{sender}"


def platform_id(channel: str, conversation: str) -> str | None:
    """The sender's id on the platform for a conversation of this channel; None for any other channel's."""
    prefix = f"{channel}:"
    sender = conversation[len(prefix) :] if conversation.startswith(prefix) else ""
    return sender or None


def header_bytes(value: str | None) -> bytes:
    """A header value as the bytes that were sent; Sanic keeps undecodable bytes as surrogates."""
    return (value or "").encode("utf-8", "surrogateescape")


async def capped_body(request: Request, limit: int) -> bytes | None:
    """The body of a streamed request, or None when it is larger than `limit` (read no further).

    Why: a webhook checks its signature over the body, so the size is bounded before anything is parsed;
    a declared Content-Length above the limit is refused without reading a byte.
    """
    declared = request.headers.get("Content-Length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    if request.stream is None:  # a route without stream=True: Sanic has read the body already
        return request.body if len(request.body) <= limit else None
    chunks: List[bytes] = []
    size = 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def too_large() -> HTTPResponse:
    """The answer to a webhook body above the channel's limit."""
    return response.text("payload too large", status=413)


def json_object(body: bytes) -> Dict[str, Any] | None:
    """The JSON object in a body, or None for anything else (malformed JSON, a list, bad UTF-8)."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
