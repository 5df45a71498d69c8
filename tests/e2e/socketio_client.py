"""A minimal socket.io v4 client over a real websocket, for tests that need exact control of every packet."""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, TypeVar

import aiohttp

from vraagbaak.adapters.channels import conversation_id
from vraagbaak.core.session_tokens import signature

T = TypeVar("T")


class SocketIO:
    """One websocket connection to Rasa's socket.io endpoint, speaking Engine.IO 4 / Socket.IO 5 by hand."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def emit(self, event: str, data: Any) -> None:
        """Send one event."""
        await self.ws.send_str("42" + json.dumps([event, data]))

    async def session(self, proposed: Any = None) -> str:
        """Ask for a session and return the id Rasa confirms."""
        await self.emit("session_request", {"session_id": proposed})
        while True:
            event, data = await self.next_event(20)
            if event == "session_confirm":
                return str(data)

    async def next_event(self, timeout: float) -> tuple[str, Any]:
        """The next socket.io event within `timeout` seconds (answering Engine.IO pings on the way)."""
        # One deadline for the whole wait: the server's pings (every 25 s) must not extend it forever.
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise asyncio.TimeoutError
            message = await self.ws.receive(timeout=remaining)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"websocket: {message.type.name}")
            packet = str(message.data)
            if packet == "2":
                await self.ws.send_str("3")
            elif packet.startswith("42"):
                event, *rest = json.loads(packet[2:])
                return str(event), rest[0] if rest else None

    async def bot_messages(self, quiet: float = 1.5, first: float = 30) -> List[Dict[str, Any]]:
        """Bot messages until none arrives for `quiet` seconds (waiting up to `first` for the first one)."""
        messages: List[Dict[str, Any]] = []
        while True:
            try:
                event, data = await self.next_event(quiet if messages else first)
            except asyncio.TimeoutError:
                return messages
            if event == "bot_uttered":
                messages.append(data)

    async def ask(self, session_id: str, text: Any) -> List[Dict[str, Any]]:
        """Send a user message in this session and collect the replies."""
        await self.emit("user_uttered", {"message": text, "session_id": session_id})
        return await self.bot_messages()


def session_of(token: str) -> str:
    """The conversation a server-issued token names (`socketio:<this>`); the part after the dot is its signature."""
    return token.partition(".")[0]


@contextlib.asynccontextmanager
async def open_socketio(rasa_url: str, origin: str | None = None) -> AsyncIterator[SocketIO]:
    """One connected socket.io client (Engine.IO open and Socket.IO connect done), from a page of `origin`."""
    url = rasa_url.replace("http", "ws", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
    headers = {"Origin": origin} if origin else None
    async with aiohttp.ClientSession() as client:
        async with client.ws_connect(url, timeout=20, max_msg_size=0, headers=headers) as ws:
            assert (await ws.receive_str(timeout=20)).startswith("0")  # Engine.IO open
            await ws.send_str("40")  # Socket.IO connect
            assert (await ws.receive_str(timeout=20)).startswith("40")
            yield SocketIO(ws)


def run_in_thread(main: Callable[[], Awaitable[T]], timeout: float = 120) -> T:
    """Run a coroutine function in a thread of its own (Playwright keeps an event loop in the main thread of
    browser test modules)."""

    async def run() -> T:
        return await main()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=timeout)


def run_socketio(
    rasa_url: str,
    dialogue: Callable[[SocketIO], Awaitable[T]],
    timeout: float = 120,
    origin: str | None = None,
) -> T:
    """Open a connection, run the dialogue coroutine on it and return its result (in a thread of its own)."""

    async def main() -> T:
        async with open_socketio(rasa_url, origin) as sio:
            return await dialogue(sio)

    return run_in_thread(main, timeout)


def forged_proposals(victim: str, attacker: str) -> Dict[str, str]:
    """The victim's session in every form but its own token."""
    session = session_of(victim)
    return {
        "bare session id": session,
        "tracker key": conversation_id("socketio", session),
        "attacker's own signature": f"{session}.{attacker.partition('.')[2]}",
        "signed with another key": f"{session}.{signature(b'x' * 32, session)}",
        "made-up signature": f"{session}.{'A' * 43}",
        "last character changed": victim[:-1] + ("B" if victim[-1] != "B" else "C"),
    }


@dataclass
class Overheard:
    """What a second connection was given, answered and heard while the victim talked."""

    confirmed: str
    two: List[Dict[str, Any]]
    claimed: List[Dict[str, Any]]
    heard: List[Dict[str, Any]]
    victim_got: List[Dict[str, Any]]


async def second_connection(
    rasa_url: str, victim: SocketIO, victim_token: str, proposal: str, marker: str, question: str
) -> Overheard:
    """A second connection proposes `proposal`, types "2", writes in the proposed session, and listens while
    the victim asks a question."""
    async with open_socketio(rasa_url) as other:
        confirmed = await other.session(proposal)
        two = await other.ask(confirmed, "2")
        claimed = await other.ask(proposal, f"{marker} 2")
        victim_got = await victim.ask(victim_token, question)
        heard = await other.bot_messages(quiet=1.0, first=2.0)
        return Overheard(confirmed, two, claimed, heard, victim_got)
