"""One asynchronous HTTP session per platform and event loop, for the Twilio and Messenger send calls.

Why: their own clients (twilio, fbmessenger) block, so they ran in the event loop's few worker threads; eight
sends that hung for 30 s took every thread, and every other Twilio and Messenger user waited behind them.
Asynchronous calls need no thread, and a deadline (delivery.within_deadline) really ends them.
"""
from __future__ import annotations

import asyncio
import weakref
from typing import Any, Dict, Mapping, Sequence, Tuple

import aiohttp

# Connections one platform may hold open at once; far more than a process has messages at once.
MAX_CONNECTIONS = 1000

_sessions: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, Dict[str, aiohttp.ClientSession]
] = weakref.WeakKeyDictionary()


def session_for(platform: str) -> aiohttp.ClientSession:
    """This loop's session for one platform (made at its first call)."""
    loop = asyncio.get_running_loop()
    sessions = _sessions.setdefault(loop, {})
    session = sessions.get(platform)
    if session is None or session.closed:
        connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
        session = sessions[platform] = aiohttp.ClientSession(connector=connector)
    return session


async def close_sessions() -> None:
    """Close this loop's sessions (at server stop)."""
    loop = asyncio.get_running_loop()
    for session in _sessions.pop(loop, {}).values():
        await session.close()


async def post(
    platform: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    json: Any = None,
    data: Sequence[Tuple[str, str]] | None = None,
    auth: aiohttp.BasicAuth | None = None,
) -> Tuple[int, Any]:
    """POST and read the JSON answer: (status, decoded body or None when it is not JSON)."""
    async with session_for(platform).post(url, params=params, json=json, data=data, auth=auth) as answer:
        text = await answer.text()
        try:
            body = await answer.json(content_type=None) if text else None
        except ValueError:
            body = None
        return answer.status, body
