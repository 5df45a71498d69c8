"""Which websites may open the widget's socket: exactly the list Rasa got with --cors.

Why: Rasa's socket.io channel turns engine.io's own origin check off, and a browser applies CORS only to
HTTP requests, never to a websocket: any page on the internet could open a socket to the bot in its visitor's
browser. Every launcher builds --cors from Settings.cors_origins (make run: the demo page when it is empty),
so recording that list keeps one source for HTTP and sockets alike.
"""
from __future__ import annotations

from typing import Any, Sequence, Tuple

_RECORDED = "vraagbaak_cors_origins"
ANY = "*"


def _as_tuple(cors: Any) -> Tuple[str, ...]:
    if not cors:
        return ()
    items = [cors] if isinstance(cors, str) else list(cors)
    return tuple(str(item).strip().rstrip("/").lower() for item in items if str(item).strip())


def record_origins(app: Any, cors: Any) -> None:
    """Keep Rasa's --cors list on the app, for the socket.io channel."""
    setattr(app.ctx, _RECORDED, _as_tuple(cors))


def allowed_origins(app: Any) -> Tuple[str, ...]:
    """The recorded list; empty (no website at all) when Rasa was started without the record."""
    return tuple(getattr(app.ctx, _RECORDED, ()))


def origin_allowed(origin: str | None, allowed: Sequence[str]) -> bool:
    """A request without Origin is no browser page (a program can send any Origin it likes, so refusing a
    missing one would stop nobody); a browser's Origin must be on the list, or the list must be '*'."""
    if origin is None:
        return True
    return ANY in allowed or origin.strip().rstrip("/").lower() in allowed
