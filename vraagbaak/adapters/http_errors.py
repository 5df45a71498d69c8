"""What a Sanic server of ours needs to know about malformed requests (the patch itself is in rasa_patches)."""
from __future__ import annotations

from sanic.request import Request

from vraagbaak.adapters.rasa_patches import request_checks


def unreadable(request: Request) -> bool:
    """Whether this is Sanic's stand-in for a request it could not read (its error path runs middleware too)."""
    return request.method == "NONE"


def install_request_checks() -> None:
    """The staff console's one patch (malformed requests get a 400), through the patch registry; idempotent."""
    request_checks.PATCH.install()
