"""Rasa's --cors list, kept on the app for the socket.io channel (adapters/channels/origins.py reads it).

Why: Rasa's socket.io channel turns engine.io's own origin check off, and Rasa hands the --cors list to CORS
alone, which a browser applies to HTTP requests and never to a websocket.
"""
from __future__ import annotations

from typing import Any, List

from vraagbaak.adapters.channels.origins import record_origins
from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement
from vraagbaak.core.settings import Settings


def _replacements(settings: Settings) -> List[Replacement]:
    import rasa.server

    original = rasa.server.configure_cors

    def configure_cors(app: Any, cors_origins: Any = "") -> None:
        original(app, cors_origins)
        record_origins(app, cors_origins)

    # rasa.core.run looks configure_cors up in rasa.server when it builds the app.
    return [Replacement(rasa.server, "configure_cors", configure_cors)]


PATCH = Patch(
    name="origin_record",
    why="The socket.io channel admits only the websites Rasa's --cors lists; Rasa hands that list to CORS alone.",
    proof="tests/adapters/test_socketio_origins.py",
    replacements=_replacements,
)
