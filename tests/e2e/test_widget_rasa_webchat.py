"""botfront's rasa-webchat 1.0.1 (npm) on other websites, in real Chromium, against real Rasa and actions.

Rasa gets its allowed websites from `make run`'s own code (VRAAGBAAK_CORS with two origins); the widget
runs on both, and on a third website that is not listed. Needs web/node_modules (`make web-deps`).
"""
from __future__ import annotations

import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.socketio_client import SocketIO, run_socketio
from tests.support.bot import MODEL
from tests.support.browser import CHROMIUM_ARGS, TIMEOUT_MS, require_browser
from vraagbaak.adapters.channels.formatting import from_markdown_safe
from vraagbaak.core.knowledge_base import KnowledgeBase, Topic
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.session_tokens import TOKEN
from vraagbaak.core.settings import Settings
from vraagbaak.ops.launcher import serve_commands
from vraagbaak.ops.processes import RunningServers, running_servers

try:
    from playwright.sync_api import Browser, Page, Route, sync_playwright
except ImportError:  # require_browser() reports the skip
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.servers

HERE = Path(__file__).parent / "rasa_webchat"
WEBCHAT = PROJECT_DIR / "web" / "node_modules" / "rasa-webchat" / "lib" / "index.js"
QUESTION = "Waarom is Amnesty International voor decriminalisering?"
STORAGE_JS = "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
# The widget's response bubbles as the visitor reads them (innerText turns <br> into a line break).
RESPONSES_JS = "() => Array.from(document.querySelectorAll('.rw-response')).map(e => e.innerText.trim())"
# The session id rasa-webchat keeps (and sends with every message): the token Rasa's session_confirm gave it.
SESSION_JS = "() => (JSON.parse(sessionStorage.getItem('chat_session') || '{}') || {}).session_id || null"


class Website:
    """A website on its own origin that embeds rasa-webchat with the snippet from the docs."""

    def __init__(self) -> None:
        self.rasa_url = ""  # known once Rasa runs; Rasa needs this website's address before it starts
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def files(self) -> Dict[str, Tuple[str, bytes]]:
        page = (HERE / "index.html").read_bytes().replace(b"http://localhost:5005", self.rasa_url.encode())
        return {
            "/": ("text/html", page),
            "/rasa-webchat.js": ("text/javascript", WEBCHAT.read_bytes()),
            "/vraagbaak-rasa-webchat.js": (
                "text/javascript",
                (HERE / "vraagbaak-rasa-webchat.js").read_bytes(),
            ),
        }

    def policy(self) -> str:
        """The page's CSP: the widget's inline styles are allowed, anything from another host is not
        (rasa-webchat's CSS @imports a Google font; this keeps visitors' browsers away from Google)."""
        rasa = urlsplit(self.rasa_url).netloc
        return (
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            f"font-src 'self'; connect-src http://{rasa} ws://{rasa}; base-uri 'none'; form-action 'none'"
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, site: Website, *args: Any) -> None:
        self.site = site
        super().__init__(*args)

    def do_GET(self) -> None:  # noqa: N802 (name fixed by http.server)
        kind, body = self.site.files().get(self.path.split("?")[0], ("text/plain", b""))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", self.site.policy())
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class Stack:
    """Rasa allowing two websites (listed the way `make run` is told), and a third website it refuses."""

    def __init__(self, running: RunningServers, listed: List[Website], other: Website) -> None:
        self.running, self.listed, self.other = running, listed, other
        self.rasa_url = running.rasa_url


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_browser()
    if not WEBCHAT.exists():
        pytest.fail(f"{WEBCHAT} ontbreekt: draai `npm ci --prefix web`")
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    sites = [Website() for _ in range(3)]
    listed, other = sites[:2], sites[2]
    settings = Settings.from_env({"VRAAGBAAK_CORS": ", ".join(site.url for site in listed)})
    rasa_args = serve_commands(str(MODEL), settings, "c.yml", "token").rasa
    cors = rasa_args[rasa_args.index("--cors") : rasa_args.index("--enable-api")]
    assert cors == ["--cors", *(site.url for site in listed)]
    # Rasa's last --cors wins, so the list `make run` builds replaces the test servers' default.
    try:
        with running_servers(MODEL, tmp_path_factory.mktemp("webchat"), ["--cors", *cors[1:]]) as run:
            for site in sites:
                site.rasa_url = run.rasa_url
            yield Stack(run, listed, other)
    finally:
        for site in sites:
            site.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One browser context on a website; every request the page makes is recorded (and kept local)."""

    def __init__(self, browser: Browser, site: Website, stack: Stack, bypass_csp: bool = False) -> None:
        self.context = browser.new_context(bypass_csp=bypass_csp, locale="nl-NL")
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: List[str] = []
        self.errors: List[str] = []
        self.sent: List[str] = []
        self.received: List[str] = []
        self.failed: List[str] = []
        self.failures: Dict[str, str] = {}
        self.routed: List[str] = []  # what left the browser for the network
        self.loads: List[int] = []
        self.local = {urlsplit(site.url).netloc, urlsplit(stack.rasa_url).netloc}
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("request", self._on_request)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("websocket", self._on_websocket)
        self.page.on("requestfailed", self._on_failed)
        self.page.on("load", lambda _: self.loads.append(1))
        self.page.goto(site.url)

    def _on_failed(self, request: Any) -> None:
        self.failed.append(request.url)
        self.failures[request.url] = str(request.failure)

    def _route(self, route: Route) -> None:
        self.routed.append(route.request.url)
        # Never let a test browser reach the internet; the attempt is still recorded.
        if urlsplit(route.request.url).netloc in self.local:
            route.continue_()
        else:
            route.abort()

    def _on_request(self, request: Any) -> None:
        self.requests.append(request.url)
        if request.method == "POST":  # socket.io's long-polling transport, before it upgrades
            self.sent.append(request.post_data or "")

    def _on_websocket(self, websocket: Any) -> None:
        websocket.on("framesent", lambda payload: self.sent.append(str(payload)))
        websocket.on("framereceived", lambda payload: self.received.append(str(payload)))

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        """Let the page run until the condition holds (events arrive while Playwright waits)."""
        for _ in range(TIMEOUT_MS // 100):
            if condition():
                return
            self.page.wait_for_timeout(100)
        pytest.fail(f"timed out waiting for {what}")

    def foreign_hosts(self) -> set[str]:
        """Hosts other than the test servers that the page's requests went to (blocked or not)."""
        return {urlsplit(url).netloc for url in self.routed} - self.local

    def blocked_by_policy(self) -> set[str]:
        """Foreign URLs the page asked for and its CSP stopped before any network traffic."""
        foreign = {url for url in self.requests if urlsplit(url).netloc not in self.local}
        return {url for url in foreign if self.failures.get(url) == "csp"}

    def open_widget(self) -> None:
        self.page.locator(".rw-launcher").click()
        self.page.locator(".rw-new-message").wait_for()

    def ask(self, text: str) -> None:
        self.page.fill(".rw-new-message", text)
        self.page.press(".rw-new-message", "Enter")

    def responses(self) -> List[str]:
        return list(self.page.evaluate(RESPONSES_JS))

    def wait_for_response(self, text: str) -> None:
        self.page.wait_for_function(f"t => ({RESPONSES_JS})().some(r => r.includes(t))", arg=text)

    def close(self) -> None:
        self.context.close()


def shown_answer(responses: List[str], topic: Topic) -> str:
    """The answer's bubbles (Rasa sends one per paragraph), joined the knowledge base's way."""
    first = topic.answer_text.split("\n\n")[0]
    start = next(i for i, text in enumerate(responses) if text == first)
    return "\n\n".join(responses[start : start + topic.answer_text.count("\n\n") + 1])


def test_listed_websites_connect_and_others_are_refused(stack: Stack, browser: Browser) -> None:
    for site in stack.listed:
        visit = Visit(browser, site, stack)
        try:
            visit.page.locator(".rw-launcher").wait_for(state="visible")
        finally:
            visit.close()
    visit = Visit(browser, stack.other, stack)
    try:
        # A website that is not listed: the browser refuses the socket.io handshake, rasa-webchat hides.
        rasa = urlsplit(stack.rasa_url).netloc
        visit.wait_until(
            lambda: any(urlsplit(url).netloc == rasa for url in visit.failed), "a refused handshake"
        )
        assert visit.page.locator(".rw-launcher").count() == 0
        assert not any("session_confirm" in frame for frame in visit.received)
    finally:
        visit.close()
    # The same answer without a browser: Rasa's CORS header names each listed website, and no other.
    handshake = f"{stack.rasa_url}/socket.io/?EIO=4&transport=polling"
    for site in stack.listed:
        allowed = requests.get(handshake, headers={"Origin": site.url}, timeout=10).headers
        assert allowed.get("Access-Control-Allow-Origin") == site.url
    refused = requests.get(handshake, headers={"Origin": stack.other.url}, timeout=10).headers
    assert "Access-Control-Allow-Origin" not in refused


def test_rasa_webchat_open_ask_and_forget(stack: Stack, browser: Browser, kb: KnowledgeBase) -> None:
    topic = next(t for t in kb.topics if t.official_question == QUESTION)
    assert "\n• " in topic.answer_text, "this test needs an answer with a list"
    visit = Visit(browser, stack.listed[1], stack)
    try:
        visit.open_widget()
        # Opening sends rasa-webchat's initPayload, which is empty (no message at all); the bot stays silent.
        opening = "the opening user_uttered"
        visit.wait_until(
            lambda: any(f.startswith('42["user_uttered",') and '"message"' not in f for f in visit.sent),
            opening,
        )
        visit.ask(QUESTION)
        visit.wait_for_response(topic.answer_text.splitlines()[-1])
        before = visit.page.evaluate(SESSION_JS)
        assert before and TOKEN.fullmatch(before), "rasa-webchat keeps the token the server issued"
        responses = visit.responses()
        assert (
            responses[0] == topic.answer_text.split("\n\n")[0]
        ), "the answer is the first thing the bot says"
        assert not any(kb.message("invoer_leeg") in text for text in responses)
        # Verbatim, each "• " item on its own line (Markdown would otherwise run them together).
        assert shown_answer(responses, topic) == topic.answer_text
        items = visit.page.locator(".rw-response p").filter(has_text="• ").first.inner_text().split("\n")
        assert items == [line for line in topic.answer_text.split("\n\n")[1].splitlines()]
        (PROJECT_DIR / "artifacts").mkdir(exist_ok=True)
        visit.page.screenshot(path=str(PROJECT_DIR / "artifacts" / "rasa-webchat-antwoord.png"))

        visit.ask("vergeet dit gesprek")
        visit.wait_for_response(kb.message("vergeten"))
        # The snippet wipes the widget's storage and reloads the page once the confirmation was shown.
        visit.wait_until(lambda: len(visit.loads) >= 2, "the reload after forgetting")
        visit.page.locator(".rw-launcher").wait_for(state="visible")
        stored = visit.page.evaluate(STORAGE_JS)
        for said in (QUESTION, topic.answer_text.splitlines()[0], "vergeet", kb.message("vergeten")):
            assert said not in stored, f"{said!r} still in the browser's storage"
        visit.open_widget()
        assert visit.responses() == []
        visit.wait_until(lambda: bool(visit.page.evaluate(SESSION_JS)), "a session after the reload")
        after = visit.page.evaluate(SESSION_JS)
        assert TOKEN.fullmatch(after) and after != before, "a new session, issued by the server"
        assert visit.errors == []
        assert visit.foreign_hosts() == set(), visit.routed
        # rasa-webchat's CSS asks for a Google font; the page's CSP stops it inside the browser.
        foreign = {url for url in visit.requests if urlsplit(url).netloc not in visit.local}
        assert foreign == visit.blocked_by_policy(), visit.failures
    finally:
        visit.close()


def test_without_the_page_policy_the_widget_would_contact_google(stack: Stack, browser: Browser) -> None:
    # Proves the request recorder above can fail: the same page without its CSP asks Google for a font.
    visit = Visit(browser, stack.listed[0], stack, bypass_csp=True)
    try:
        visit.page.locator(".rw-launcher").wait_for(state="visible")
        visit.wait_until(lambda: "fonts.googleapis.com" in visit.foreign_hosts(), "a request to Google")
        assert visit.blocked_by_policy() == set()
    finally:
        visit.close()


def test_socketio_opening_is_silent_but_a_later_empty_message_is_answered(
    stack: Stack, kb: KnowledgeBase
) -> None:
    topic = next(t for t in kb.topics if t.official_question == QUESTION)

    async def dialogue(sio: SocketIO) -> Tuple[List[Dict[str, Any]], ...]:
        session = await sio.session()
        await sio.emit("user_uttered", {"customData": {}, "session_id": session})  # rasa-webchat opening
        opening = await sio.bot_messages(first=5)
        answer = await sio.ask(session, QUESTION)
        # Pressing send on an empty box later: the visitor did something, so the bot explains.
        empty = await sio.ask(session, "")
        return opening, answer, empty

    opening, answer, empty = run_socketio(stack.rasa_url, dialogue)
    assert opening == []
    texts = [m["text"] for m in answer if "text" in m]
    assert kb.message("invoer_leeg") not in texts, "a late reply to the opening"
    # The channel's Markdown-safe text gives back the official answer exactly.
    assert from_markdown_safe("\n\n".join(texts[: topic.answer_text.count("\n\n") + 1])) == topic.answer_text
    assert [m["text"] for m in empty if "text" in m] == [kb.message("invoer_leeg")]
