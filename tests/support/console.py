"""Helpers for the console tests: a fake clock, a fake bot API and a console served in the test process."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List

import aiohttp
from sanic import Sanic

from vraagbaak.console.app import create_app
from vraagbaak.console.password import hash_password
from vraagbaak.console.rasa_client import RasaClient
from vraagbaak.console.state import Console
from vraagbaak.console.workspace import Workspace
from vraagbaak.core.settings import Settings
from vraagbaak.ops.processes import free_port

PASSWORD = "een-lang-geheim-wachtwoord"
# The accounts of every test console, all with PASSWORD.
ACCOUNT_NAMES = ("Ann", "Bo")
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeRasa(RasaClient):
    """The bot's API: pooiers questions are answered, everything else is unsure between two topics."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", "test-token")
        self.parsed: List[str] = []
        self.loaded: List[str] = []
        self.model_file = "vraagbaak.tar.gz"

    def parse(self, text: str) -> Dict[str, Any]:
        self.parsed.append(text)
        if "pooier" in text.lower():
            ranking = [("faq_pooiers", 0.93), ("faq_mensenhandel", 0.04), ("faq_kritiek", 0.02)]
            return parse_result(text, "faq_pooiers", ranking)
        ranking = [("faq_beleid", 0.42), ("faq_rapport", 0.38), ("faq_kritiek", 0.1)]
        return parse_result(text, "nlu_fallback", ranking)

    def status(self) -> Dict[str, Any]:
        return {"model_file": self.model_file}

    def load_model(self, model_file: str) -> None:
        self.loaded.append(model_file)
        self.model_file = Path(model_file).name


def parse_result(text: str, intent: str, ranking: List[Any]) -> Dict[str, Any]:
    """A /model/parse result like Rasa's."""
    entries = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    if intent == "nlu_fallback":
        entries.insert(0, {"name": "nlu_fallback", "confidence": 0.55})
    return {
        "text": text,
        "intent": {"name": intent, "confidence": entries[0]["confidence"]},
        "intent_ranking": entries,
    }


@functools.lru_cache(maxsize=1)
def password_hash() -> str:
    """PASSWORD's hash, made once: argon2 is slow on purpose."""
    return hash_password(PASSWORD)


@dataclass
class Running:
    """A console served in this process, with its clocks and fake bot."""

    url: str
    console: Console
    rasa: FakeRasa
    wall: FakeClock
    mono: FakeClock

    def client(self) -> aiohttp.ClientSession:
        """A browser-like client with its own cookie jar (cookies for 127.0.0.1 allowed)."""
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def csrf(self, session: aiohttp.ClientSession, path: str) -> str:
        """The CSRF token from a page's form."""
        async with session.get(self.url + path) as response:
            match = CSRF_FIELD.search(await response.text())
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    async def login(
        self,
        session: aiohttp.ClientSession,
        name: str = "Ann",
        password: str = PASSWORD,
        address: str | None = None,
    ) -> int:
        """Fill in the login form; returns the status of the POST (303 on success).

        With `address`, the request says it was forwarded for that address (counted only when the console
        trusts 127.0.0.1 as its proxy).
        """
        token = await self.csrf(session, "/inloggen")
        data = {"csrf": token, "naam": name, "wachtwoord": password}
        headers = {"X-Forwarded-For": address} if address else {}
        async with session.post(
            self.url + "/inloggen", data=data, headers=headers, allow_redirects=False
        ) as response:
            return response.status


def make_settings(**env: str) -> Settings:
    """Settings from these variables only."""
    return Settings.from_env(env)


async def serve(workspace: Workspace, settings: Settings) -> AsyncIterator[Running]:
    """Serve a console until the test ends."""
    # Sanic rewrites its own methods once per process ("touch-up") unless in test mode; several apps need it.
    Sanic.test_mode = True
    wall, mono, rasa = FakeClock(), FakeClock(), FakeRasa()
    console = Console.create(settings, workspace, wall_clock=wall, clock=mono, client=rasa)
    app = create_app(console)
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.start_serving()
    try:
        yield Running(f"http://127.0.0.1:{port}{settings.console_base_path}", console, rasa, wall, mono)
    finally:
        server.close()
        await server.wait_closed()
