"""Bounds in bytes on what a client chooses besides its text: conversation ids and metadata.

Rasa keeps a conversation id and a message's metadata for as long as it keeps the conversation; without a
bound in bytes, one request with a 4 MB id or 4 MB of metadata holds many megabytes until it expires.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, FrozenSet, TypeGuard

MAX_SENDER_LENGTH = 128
# ASCII only, so characters and bytes are the same; '+' for phone numbers (Twilio's "whatsapp:+31…").
_SENDER_ID = re.compile(rf"[A-Za-z0-9_.:+-]{{1,{MAX_SENDER_LENGTH}}}")

# The metadata keys the bot reads. None: no action, store or insight reads a message's metadata, and Rasa
# would keep it twice (in the message and, at a session's start, in the slot `session_started_metadata`).
KEPT_METADATA_KEYS: FrozenSet[str] = frozenset()
# Should a key ever be read, this is the most its metadata may take (as UTF-8 JSON).
MAX_METADATA_BYTES = 1024


def valid_sender_id(sender: Any) -> TypeGuard[str]:
    """Whether a channel may use this as a conversation id: at most 128 of A-Z a-z 0-9 _ . : + -."""
    # The length first: a match on megabytes would already be work.
    return isinstance(sender, str) and len(sender) <= MAX_SENDER_LENGTH and bool(_SENDER_ID.fullmatch(sender))


def kept_metadata(
    raw: Any, keys: FrozenSet[str] = KEPT_METADATA_KEYS, limit: int = MAX_METADATA_BYTES
) -> Dict[str, Any] | None:
    """The metadata a channel passes on: only the keys the bot reads, and nothing when they exceed `limit`."""
    if not isinstance(raw, dict) or not keys:
        return None
    kept = {key: raw[key] for key in keys if key in raw}
    if not kept:
        return None
    try:
        size = len(json.dumps(kept, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError, RecursionError):
        return None
    return kept if size <= limit else None
