"""Hostile clients for the fairness tests and benchmark: a socket.io connection that floods, a REST burst.

Raw Engine.IO 4 / Socket.IO 5 over one websocket (as web/vraagbaak-widget.js speaks it), so a test controls every
frame; aiohttp for REST, so a burst really is concurrent.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

import aiohttp

REST_PATH = "/webhooks/rest/webhook"


class Socket:
    """One socket.io connection; every event it receives is kept with its arrival time by a reader task."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: List[Tuple[float, str, Any]] = []
        self.arrived = asyncio.Event()
        self.closed: str | None = None
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            message = await self.ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                self.closed = message.type.name
                self.arrived.set()
                return
            packet = str(message.data)
            if packet == "2":  # Engine.IO ping
                await self.ws.send_str("3")
            elif packet.startswith("42"):
                event, *rest = json.loads(packet[2:])
                self.events.append((time.monotonic(), str(event), rest[0] if rest else None))
                self.arrived.set()

    async def emit(self, event: str, data: Any) -> None:
        """Send one event frame."""
        await self.ws.send_str("42" + json.dumps([event, data]))

    async def wait_for(self, found: Any, timeout: float, start: int = 0) -> Tuple[float, Any]:
        """The first event from index `start` on for which found(event, data) is true: (arrival time, data)."""
        deadline = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.events):
                at, event, data = self.events[index]
                index += 1
                if found(event, data):
                    return at, data
            if self.closed:
                raise ConnectionError(f"websocket: {self.closed}")
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), max(0.01, deadline - time.monotonic()))

    async def session(self, proposed: str | None = None) -> str:
        """Ask for a session and return the id the server confirms."""
        start = len(self.events)
        await self.emit("session_request", {"session_id": proposed})
        _, data = await self.wait_for(lambda event, _: event == "session_confirm", 20, start)
        return str(data)

    async def quiet(self, seconds: float, limit: float = 120) -> None:
        """Wait until no event has arrived for `seconds` (at most `limit`)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            last = self.events[-1][0] if self.events else 0.0
            if time.monotonic() - last >= seconds:
                return
            await asyncio.sleep(0.1)

    def bot_texts(self) -> List[str]:
        """Every bot text received so far."""
        return [
            str(d.get("text"))
            for _, e, d in self.events
            if e == "bot_uttered" and isinstance(d, dict) and d.get("text")
        ]

    def topics(self) -> List[str]:
        """The topic of every official answer received so far (one marker per answer)."""
        return [
            str(d["custom"]["vraagbaak"]["onderwerp"])
            for _, e, d in self.events
            if e == "bot_uttered"
            and isinstance(d, dict)
            and isinstance(d.get("custom"), dict)
            and "vraagbaak" in d["custom"]
        ]

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


async def open_socket(
    client: aiohttp.ClientSession, base_url: str, headers: Dict[str, str] | None = None
) -> Socket:
    """A connected socket.io connection (websocket transport) to Rasa or to nginx in front of it; `headers`
    such as nginx's route cookie choose the replica."""
    url = base_url.replace("http", "ws", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
    ws = await client.ws_connect(url, timeout=20, max_msg_size=0, headers=headers or {})
    if not (await ws.receive_str(timeout=20)).startswith("0"):  # Engine.IO open
        raise ConnectionError("geen Engine.IO-opening")
    await ws.send_str("40")  # Socket.IO connect
    if not (await ws.receive_str(timeout=20)).startswith("40"):
        raise ConnectionError("geen Socket.IO-verbinding")
    return Socket(ws)


def topic_marker(event: str, data: Any) -> str | None:
    """The topic of an official answer's marker event, else None."""
    if event == "bot_uttered" and isinstance(data, dict) and isinstance(data.get("custom"), dict):
        marker = data["custom"].get("vraagbaak")
        if isinstance(marker, dict):
            return str(marker.get("onderwerp"))
    return None


async def ask_socket(socket: Socket, session_id: str, text: str, timeout: float = 60) -> Tuple[float, str]:
    """Ask one question; seconds until its answer's marker arrived, and the topic it answered."""
    start, sent = len(socket.events), time.monotonic()
    await socket.emit("user_uttered", {"message": text, "session_id": session_id})
    at, data = await socket.wait_for(lambda event, d: topic_marker(event, d) is not None, timeout, start)
    return at - sent, str(topic_marker("bot_uttered", data))


async def flood_socket(socket: Socket, session_id: str, frames: int, text: str) -> float:
    """Send `frames` messages at once on one connection; returns when the last frame was written."""
    frame = json.dumps(["user_uttered", {"message": text, "session_id": session_id}])
    for _ in range(frames):
        await socket.ws.send_str("42" + frame)
    return time.monotonic()


@dataclass
class RestReply:
    """One REST answer: status, the bot messages, seconds it took."""

    status: int
    messages: List[Dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    retry_after: str | None = None

    @property
    def topic(self) -> str | None:
        for message in self.messages:
            marker = (message.get("custom") or {}).get("vraagbaak")
            if marker:
                return str(marker["onderwerp"])
        return None

    @property
    def texts(self) -> List[str]:
        return [str(m["text"]) for m in self.messages if m.get("text")]


async def post_rest(
    client: aiohttp.ClientSession,
    base_url: str,
    sender: str,
    text: str,
    headers: Dict[str, str] | None = None,
) -> RestReply:
    """One REST message."""
    started = time.monotonic()
    async with client.post(
        base_url.rstrip("/") + REST_PATH, json={"sender": sender, "message": text}, headers=headers or {}
    ) as response:
        body = await response.json(content_type=None)
        return RestReply(
            response.status,
            list(body) if isinstance(body, list) else [],
            time.monotonic() - started,
            response.headers.get("Retry-After"),
        )


async def rest_burst(
    client: aiohttp.ClientSession,
    base_url: str,
    sender: str,
    texts: Sequence[str],
    headers: Dict[str, str] | None = None,
) -> List[RestReply]:
    """Every text from one sender at the same moment, each on its own connection."""
    return list(await asyncio.gather(*(post_rest(client, base_url, sender, t, headers) for t in texts)))


def new_client(timeout: float = 120) -> aiohttp.ClientSession:
    """A client session without a connection limit (a burst must not queue in the client)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=timeout)
    )
