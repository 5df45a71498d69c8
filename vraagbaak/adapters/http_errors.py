"""What a Sanic server of ours needs to know about malformed requests (the patch itself is in rasa_patches)."""
from __future__ import annotations

from sanic.request import Request


def unreadable(request: Request) -> bool:
    """Whether this is Sanic's stand-in for a request it could not read (its error path runs middleware too)."""
    return request.method == "NONE"
