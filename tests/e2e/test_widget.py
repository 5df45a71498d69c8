"""The website widget in real headless Chromium against the real Rasa and action servers.

Needs Debian's /usr/bin/chromium, Python Playwright and web/node_modules/axe-core (`make web-deps`).
Playwright only drives the system browser: no `playwright install`, no browser download.
"""
from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
import uuid
from typing import Any, Dict, Iterator, List
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.socketio_client import run_socketio, session_of
from tests.support.bot import Servers
from tests.support.browser import AXE, CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, require_browser
from vraagbaak.core.knowledge_base import KnowledgeBase, Topic
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.session_tokens import TOKEN

try:
    from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
except ImportError:  # reported as a skip with the reason below
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.servers

ARTIFACTS = PROJECT_DIR / "artifacts"
STORE_KEY = "vraagbaak.gesprek"
SESSION_KEY = "vraagbaak.sessie"
OFFLINE = "Geen verbinding. Probeer het later opnieuw."

# Records any use of localStorage or cookies, and any CSP violation, on the widget page (not on the
# exit page, where the test itself reads storage), and the page's state as it is left. Reports go to
# Python at once, so they survive the navigation.
WATCH_SCRIPT = """
(() => {
  if (location.pathname.endsWith("/neutraal.html")) return;
  const report = (what) => { try { window.__vbReport(what); } catch (e) {} };
  const storage = Object.getOwnPropertyDescriptor(window, "localStorage")
    || Object.getOwnPropertyDescriptor(Window.prototype, "localStorage");
  Object.defineProperty(window, "localStorage", {
    configurable: true,
    get() { report("localStorage"); return storage.get.call(window); },
  });
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    configurable: true,
    get() { report("cookie read"); return cookie.get.call(this); },
    set(value) { report("cookie write"); cookie.set.call(this, value); },
  });
  document.addEventListener("securitypolicyviolation",
    (e) => report("CSP: " + e.violatedDirective + " " + e.blockedURI));
  // What the widget page looked like as it was left (for the quick-exit tests).
  window.addEventListener("beforeunload", () => {
    try {
      const input = document.querySelector(".vb-input");
      window.__vbLeft(JSON.stringify({messages: document.querySelectorAll(".vb-log > *").length,
                                      stored: sessionStorage.length, typed: input ? input.value : null}));
    } catch (e) {}
  });
})();
"""

# The official answer as the widget shows it in the last bot turn, turned back into the knowledge
# base's text format: paragraphs joined by a blank line, <li> items as "• " lines.
SHOWN_ANSWER_JS = """
() => {
  const turns = document.querySelectorAll(".vb-log .vb-turn");
  const turn = turns[turns.length - 1];
  if (!turn) return null;
  const blocks = [];
  for (const msg of turn.querySelectorAll(".vb-msg")) {
    if (msg.querySelector(".vb-choices")) break;  // "Gerelateerde vragen" follows the answer
    for (const child of msg.children) {
      if (child.tagName === "P") {
        blocks.push(Array.from(child.childNodes).map(n => n.nodeName === "BR" ? "\\n" : n.textContent).join(""));
      } else if (child.tagName === "UL") {
        blocks.push(Array.from(child.children).map(li => "• " + li.textContent).join("\\n"));
      }
    }
  }
  return blocks.join("\\n\\n");
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Site:
    """A running `python -m vraagbaak.ops.web` for one Rasa URL."""

    def __init__(self, rasa_url: str, servers: Servers | None = None) -> None:
        self.servers = servers
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        self.exit_url = f"http://127.0.0.1:{port}/neutraal.html"
        self.rasa_url = rasa_url
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vraagbaak.ops.web",
                "--port",
                str(port),
                "--server",
                rasa_url,
                "--exit-url",
                self.exit_url,
            ],
            cwd=PROJECT_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"vraagbaak.ops.web stopped with code {self.process.returncode}")
            try:
                if requests.get(self.url, timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(self.url)
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Site]:
    servers: Servers = request.getfixturevalue("servers")  # only after the skip check above
    running = Site(servers.rasa_url, servers)
    yield running
    running.stop()


class Session:
    """One fresh browser context on the demo page, with everything the tests watch for."""

    def __init__(
        self, browser: Browser, site: Site, width: int = 1000, height: int = 900, bypass_csp: bool = False
    ) -> None:
        self.site = site
        self.context: BrowserContext = browser.new_context(
            viewport={"width": width, "height": height}, bypass_csp=bypass_csp, locale="nl-NL"
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.reports: List[str] = []
        self.dialogs: List[str] = []
        self.errors: List[str] = []
        self.requests: List[str] = []
        self.left: List[Dict[str, Any]] = []
        self.context.expose_binding("__vbReport", lambda _source, what: self.reports.append(what))
        self.context.expose_binding("__vbLeft", lambda _source, state: self.left.append(json.loads(state)))
        self.context.add_init_script(WATCH_SCRIPT)
        self.page: Page = self.context.new_page()
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda req: self.requests.append(req.url))
        self.frames_sent: List[str] = []
        self.frames_received: List[str] = []
        self.page.on("websocket", self._on_websocket)
        self.page.goto(site.url)
        self.page.wait_for_selector(".vb-input")

    def _on_websocket(self, websocket: Any) -> None:
        websocket.on("framesent", lambda payload: self.frames_sent.append(str(payload)))
        websocket.on("framereceived", lambda payload: self.frames_received.append(str(payload)))

    def session_id(self) -> str:
        """The socket.io session token Rasa confirmed last (its part before the dot is the tracker's sender id)."""
        confirms = [
            json.loads(f[2:])[1] for f in self.frames_received if f.startswith('42["session_confirm"')
        ]
        assert confirms, "no session_confirm received"
        return str(confirms[-1])

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def ask(self, text: str) -> None:
        self.page.fill(".vb-input", text)
        self.page.press(".vb-input", "Enter")

    def wait_for_answer(self, topic: Topic) -> None:
        """Wait until the last bot turn shows exactly this topic's official answer."""
        try:
            self.page.wait_for_function(
                f"expected => ({SHOWN_ANSWER_JS})() === expected", arg=topic.answer_text
            )
        except Exception:
            shown = self.page.evaluate(SHOWN_ANSWER_JS)
            assert shown == topic.answer_text, f"answer for {topic.id} not shown"
            raise
        bullets = [line for line in topic.answer_text.split("\n") if line.startswith("• ")]
        assert self.page.locator(".vb-turn >> nth=-1 >> .vb-list > li").count() == len(bullets)

    def stored(self) -> Any:
        return self.page.evaluate(f"sessionStorage.getItem({json.dumps(STORE_KEY)})")

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)

    def assert_clean(self) -> None:
        """No page errors, no dialogs, no localStorage, no cookies, nothing blocked by the CSP."""
        assert self.errors == []
        assert self.dialogs == []
        assert self.reports == []
        assert self.context.cookies() == []

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser: Browser, site: Site) -> Iterator[Session]:
    opened = Session(browser, site)
    yield opened
    opened.close()


def topic_by_question(kb: KnowledgeBase, question: str) -> Topic:
    return next(t for t in kb.topics if t.official_question == question)


@pytest.mark.parametrize(
    "question",
    ["Wat met de “pooiers”?", "Waarom is Amnesty International voor decriminalisering?"],
    ids=["pooiers", "met-opsomming"],
)
def test_typed_official_question_shows_the_official_answer(
    session: Session, kb: KnowledgeBase, question: str
) -> None:
    topic = topic_by_question(kb, question)
    session.ask(question)
    session.wait_for_answer(topic)
    assert session.page.locator(".vb-user .vb-p").last.inner_text() == question
    session.screenshot(f"widget-gesprek-{topic.id}.png")
    session.assert_clean()
    # Only the page's own files and the Rasa server: nothing from a CDN or any third party.
    allowed = {urlsplit(session.site.url).netloc, urlsplit(session.site.rasa_url).netloc}
    assert {urlsplit(url).netloc for url in session.requests} <= allowed


def test_related_question_button_shows_that_answer(session: Session, kb: KnowledgeBase) -> None:
    topic = kb.by_id("pooiers")
    session.ask(topic.official_question)
    session.wait_for_answer(topic)
    choices = session.page.locator(".vb-turn >> nth=-1 >> .vb-choice")
    try:
        choices.first.wait_for()
    except Exception:
        log = site_log(session.site)
        if "unexpected keyword argument 'vraagbaak'" in log:
            pytest.fail(
                "Rasa's socket.io channel crashed on the official-answer marker (SocketIOOutput.send_custom_json "
                "passes the custom dict as keyword arguments to AsyncServer.emit), so the related questions "
                "never reached the widget. credentials.yml needs a socket.io channel that sends it as "
                '{"custom": ...} (vraagbaak/adapters/channels/socketio.py).'
            )
        raise
    assert choices.all_inner_texts() == [kb.by_id(r).title for r in topic.related]
    related = kb.by_id(topic.related[0])
    choices.first.click()
    # The button's title is the user's bubble; its payload went to the bot.
    session.page.wait_for_function(
        "t => { const u = document.querySelectorAll('.vb-user .vb-p'); return u.length && u[u.length - 1].textContent === t; }",
        arg=related.title,
    )
    session.wait_for_answer(related)
    session.screenshot("widget-gerelateerde-vraag.png")
    session.assert_clean()


def test_markup_in_a_message_is_shown_as_text(session: Session) -> None:
    attack = "<img src=x onerror=alert(1)>"
    session.ask(attack)
    bubble = session.page.locator(".vb-user .vb-p").last
    bubble.wait_for()
    assert bubble.inner_text() == attack
    session.page.locator(".vb-turn").last.wait_for()  # the bot's reply has been rendered too
    session.page.wait_for_timeout(500)
    assert session.page.locator("img").count() == 0
    assert session.dialogs == []
    session.assert_clean()


def assert_exited(session: Session, history_before: int) -> None:
    page = session.page
    page.wait_for_url(session.site.exit_url)
    assert page.title() == "Het weer"
    # The widget page as it was left: conversation, typed text and sessionStorage wiped.
    assert session.left and session.left[-1] == {"messages": 0, "stored": 0, "typed": ""}
    # location.replace: "Back" does not lead to the chat.
    assert page.evaluate("history.length") == history_before
    # Same origin as the widget, so this is the very storage the widget used.
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    session.assert_clean()


def site_log(site: Site) -> str:
    """The Rasa server's log, to explain a failure."""
    if site.servers is None or not site.servers.log_path.exists():
        return ""
    return site.servers.log_path.read_text(encoding="utf-8", errors="replace")


def tracker_text(site: Site, token: str) -> str:
    assert site.servers is not None
    return json.dumps(site.servers.tracker(session_of(token), "socketio"), ensure_ascii=False)


def test_quick_exit_button_wipes_and_leaves(session: Session, kb: KnowledgeBase) -> None:
    topic = kb.by_id("scandinavisch_model")
    session.ask(topic.official_question)
    session.wait_for_answer(topic)
    assert topic.answer_text.split("\n\n")[0] in session.stored()
    secret = f"hallo geheim-{uuid.uuid4().hex[:8]}"
    session.ask(secret)
    session.page.locator(".vb-turn").nth(1).wait_for()  # the bot greeted back: the turn is stored
    sender = session.session_id()
    assert secret in tracker_text(session.site, sender)
    session.page.fill(".vb-input", "half getypt")
    history_before = session.page.evaluate("history.length")
    session.page.get_by_role("button", name="Snel weg").click()
    assert_exited(session, history_before)
    # On the way out the widget asked the bot to forget, and the bot did.
    assert any("/gesprek_vergeten" in frame for frame in session.frames_sent)
    deadline = time.monotonic() + 15
    while secret in tracker_text(session.site, sender) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert secret not in tracker_text(session.site, sender)


def test_escape_twice_wipes_and_leaves(session: Session, kb: KnowledgeBase) -> None:
    topic = kb.by_id("pooiers")
    session.ask(topic.official_question)
    session.wait_for_answer(topic)
    session.page.keyboard.press("Escape")
    session.page.wait_for_timeout(1300)  # one Escape, or two far apart, must not leave
    session.page.keyboard.press("Escape")
    session.page.wait_for_timeout(300)
    assert session.page.url == session.site.url and session.stored()
    history_before = session.page.evaluate("history.length")
    session.page.keyboard.press("Escape")
    assert_exited(session, history_before)


def focused(page: Page) -> Dict[str, Any]:
    return dict(
        page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
                 return {cls: e.className, text: e.innerText || "", outline: s.outlineStyle,
                         width: parseFloat(s.outlineWidth)}; }"""
        )
    )


def test_keyboard_only(session: Session, kb: KnowledgeBase) -> None:
    page = session.page
    order = []
    for _ in range(12):
        page.keyboard.press("Tab")
        current = focused(page)
        order.append(current["cls"])
        assert current["outline"] != "none" and current["width"] >= 2, f"no visible focus on {current}"
        if current["cls"] == "vb-input":
            break
    assert "vb-input" in order, order
    assert order.index("vb-exit") < order.index("vb-input"), order  # quick exit comes first
    topic = kb.by_id("scandinavisch_model")
    page.keyboard.type(topic.official_question)
    page.keyboard.press("Enter")
    session.wait_for_answer(topic)
    assert focused(page)["cls"] == "vb-input"  # Enter sent, focus stays to type the next question
    # Choose from the list of all questions without a mouse: Shift+Tab reaches the last option.
    page.keyboard.type("welke vragen kan ik stellen")
    page.keyboard.press("Enter")
    page.locator(".vb-turn >> nth=-1 >> .vb-choice").nth(len(kb.topics) - 1).wait_for()
    page.keyboard.press("Shift+Tab")
    current = focused(page)
    last = kb.topics[-1]
    assert current["cls"] == "vb-choice" and current["text"] == last.title
    assert current["outline"] != "none"
    session.screenshot("widget-toetsenbord.png")
    page.keyboard.press("Enter")
    session.wait_for_answer(last)
    session.assert_clean()


def test_no_serious_accessibility_problems(browser: Browser, site: Site, kb: KnowledgeBase) -> None:
    assert AXE.exists(), f"{AXE} ontbreekt: draai `make web-deps` (npm ci --prefix web)"
    # axe is injected as an inline script, which the page's own CSP rightly forbids.
    checked = Session(browser, site, bypass_csp=True)
    try:
        topic = kb.by_id("voor_decriminalisering")
        checked.ask(topic.official_question)
        checked.wait_for_answer(topic)
        checked.ask("welke vragen kan ik stellen")
        checked.page.locator(".vb-turn >> nth=-1 >> .vb-choice").first.wait_for()
        checked.page.add_script_tag(path=str(AXE))
        results = checked.page.evaluate("axe.run(document)")
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "widget-axe.json").write_text(
            json.dumps(results["violations"], indent=2), encoding="utf-8"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == []
    finally:
        checked.close()


def test_small_screen_360px(browser: Browser, site: Site, kb: KnowledgeBase) -> None:
    small = Session(browser, site, width=360, height=740)
    try:
        page = small.page
        topic = kb.by_id("voor_decriminalisering")
        small.ask(topic.official_question)
        small.wait_for_answer(topic)
        for selector in (".vb-input", ".vb-exit", ".vb-send"):
            box = page.locator(selector).bounding_box()
            assert page.locator(selector).is_visible() and box is not None, selector
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360, (selector, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
        small.screenshot("widget-360px.png")
        small.assert_clean()
    finally:
        small.close()


def confirmed_sessions(session: Session) -> List[str]:
    return [json.loads(f[2:])[1] for f in session.frames_received if f.startswith('42["session_confirm"')]


def test_conversation_survives_a_reload_in_session_storage_only(session: Session, kb: KnowledgeBase) -> None:
    topic = kb.by_id("pooiers")
    session.ask(topic.official_question)
    session.wait_for_answer(topic)
    before = session.session_id()
    session.page.reload()
    session.wait_for_answer(topic)
    # Same Rasa conversation after the reload, so "1" still means the first related question.
    session.ask("1")
    session.wait_for_answer(kb.by_id(topic.related[0]))
    assert confirmed_sessions(session)[-1] == before and len(confirmed_sessions(session)) >= 2
    session.assert_clean()


def test_quick_exit_after_a_reload_forgets_what_was_said_before_it(session: Session) -> None:
    secret = f"hallo geheim-{uuid.uuid4().hex[:8]}"
    session.ask(secret)
    session.page.locator(".vb-turn").first.wait_for()
    sender = session.session_id()
    session.page.reload()
    session.page.locator(".vb-turn").first.wait_for()  # restored from sessionStorage
    deadline = time.monotonic() + 15
    while len(confirmed_sessions(session)) < 2 and time.monotonic() < deadline:
        session.page.wait_for_timeout(100)
    assert confirmed_sessions(session)[-1] == sender
    assert secret in tracker_text(session.site, sender)
    session.page.get_by_role("button", name="Snel weg").click()
    session.page.wait_for_url(session.site.exit_url)
    deadline = time.monotonic() + 15
    while secret in tracker_text(session.site, sender) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert secret not in tracker_text(session.site, sender)


LOG_TEXT_JS = "() => document.querySelector('.vb-log').textContent"
STORAGE_JS = "() => JSON.stringify(Object.entries(sessionStorage))"


def test_forget_wipes_the_widget_and_a_reload_brings_nothing_back(
    session: Session, kb: KnowledgeBase
) -> None:
    page = session.page
    topic = kb.by_id("pooiers")
    session.ask(topic.official_question)
    session.wait_for_answer(topic)
    secret = f"hallo geheim-{uuid.uuid4().hex[:8]}"
    session.ask(secret)
    page.locator(".vb-turn").nth(1).wait_for()
    before = session.session_id()
    said = [topic.official_question, topic.answer_text.split("\n\n")[0], secret]
    # What the checks below look for is really there first: they can fail.
    for text in said:
        assert text in page.evaluate(LOG_TEXT_JS) and text in page.evaluate(STORAGE_JS)
    assert before in page.evaluate(STORAGE_JS)

    session.ask("vergeet dit gesprek")
    page.wait_for_function(
        "t => document.querySelector('.vb-log').textContent.includes(t)", arg=kb.message("vergeten")
    )
    deadline = time.monotonic() + 15
    while confirmed_sessions(session)[-1] == before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    fresh = confirmed_sessions(session)[-1]
    assert fresh != before and TOKEN.fullmatch(fresh), "a new session, issued by the server"
    # Only the confirmation is left on the page; nothing of before is on it or in storage.
    shown = page.evaluate(LOG_TEXT_JS)
    for text in [*said, "vergeet dit gesprek"]:
        assert text not in shown, text
    assert page.locator(".vb-log .vb-msg").count() == 1 and kb.message("vergeten") in shown
    stored = page.evaluate(STORAGE_JS)
    for text in [*said, before, kb.message("vergeten")]:
        assert text not in stored, text
    assert page.evaluate(f"sessionStorage.getItem({json.dumps(SESSION_KEY)})") == fresh
    assert secret not in tracker_text(session.site, before), "the bot forgot too"

    page.reload()
    page.wait_for_selector(".vb-input")
    deadline = time.monotonic() + 15
    while confirmed_sessions(session).count(fresh) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert confirmed_sessions(session)[-1] == fresh, "the reload resumes the new session, not the old one"
    assert page.locator(".vb-log .vb-msg").count() == 0 and page.locator(".vb-empty").is_visible()
    stored = page.evaluate(STORAGE_JS)
    for text in [*said, before, kb.message("vergeten")]:
        assert text not in page.evaluate(LOG_TEXT_JS) and text not in stored, text
    # The new session answers, and a typed number refers to its own lists only.
    session.ask(topic.official_question)
    session.wait_for_answer(topic)
    session.ask("1")
    session.wait_for_answer(kb.by_id(topic.related[0]))
    session.screenshot("widget-na-vergeten.png")
    session.assert_clean()


@pytest.mark.parametrize(
    "proposed",
    [
        "kort",
        "<script>alert(1)</script>",
        "a" * 65,
        "met spatie x",
        12345678,
        None,
        ["lijst"],
        f"vb_{uuid.uuid4().hex[:20]}",  # what the widget used to make itself
        uuid.uuid4().hex,  # a bare session id, as a tracker key shows it
    ],
)
def test_socketio_channel_replaces_a_session_id_it_did_not_issue(servers: Servers, proposed: Any) -> None:
    """Only tokens the server signed resume a session; anything else gets a fresh one from the server."""
    confirmed = socketio_session(servers.rasa_url, proposed)
    assert confirmed != proposed and TOKEN.fullmatch(confirmed)


def test_socketio_channel_keeps_a_token_it_issued(servers: Servers) -> None:
    issued = socketio_session(servers.rasa_url, None)
    assert socketio_session(servers.rasa_url, issued) == issued


def socketio_session(rasa_url: str, proposed: Any) -> str:
    """The session id Rasa confirms for a session_request proposing this one, over a real websocket."""
    return run_socketio(rasa_url, lambda sio: sio.session(proposed))


def test_status_line_when_rasa_is_unreachable(browser: Browser) -> None:
    dead = Site(f"http://127.0.0.1:{free_port()}")
    try:
        offline = Session(browser, dead)
        try:
            status = offline.page.locator(".vb-status")
            status.wait_for(state="visible")
            assert status.inner_text() == OFFLINE
            assert status.get_attribute("role") == "status"
        finally:
            offline.close()
    finally:
        dead.stop()


def raw_get(url: str, path: str) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    connection.request("GET", path)  # sent as is: no client-side clean-up of "../"
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_static_server_headers_and_no_path_traversal(site: Site) -> None:
    page = raw_get(site.url, "/")
    csp = page.getheader("Content-Security-Policy") or ""
    rasa = urlsplit(site.rasa_url).netloc
    assert "script-src 'self'" in csp
    assert f"connect-src 'self' http://{rasa} ws://{rasa}" in csp
    assert page.getheader("X-Content-Type-Options") == "nosniff"
    assert page.getheader("Referrer-Policy") == "no-referrer"
    body = requests.get(site.url, timeout=10).text
    assert f'data-server="{site.rasa_url}"' in body
    for path in [
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/..%2f..%2fpyproject.toml",
        "/node_modules/axe-core/axe.min.js",
        "/web.mk",
        "/package.json",
        "/%2e%2e%5cMakefile",
    ]:
        assert raw_get(site.url, path).status == 404, path
    assert (
        raw_get(site.url, "/vraagbaak-widget.js").getheader("Content-Type", "").startswith("text/javascript")
    )


def test_the_safe_path_has_call_links_and_stays_calm_on_a_phone(
    browser: Browser, site: Site, kb: KnowledgeBase
) -> None:
    phone = Session(browser, site, width=390, height=844)
    try:
        page = phone.page
        phone.ask("help hij slaat me en ik zit opgesloten in de kamer")
        page.wait_for_selector('.vb-bot a.vb-tel[href="tel:112"]')
        page.wait_for_function(
            "n => document.querySelectorAll('.vb-bot a.vb-tel').length >= n",
            arg=1 + len(kb.help_lines.not_police),
        )
        links = page.eval_on_selector_all(".vb-bot a.vb-tel", "as => as.map(a => [a.textContent, a.href])")
        expected = [kb.help_lines.emergency] + [h.number for h in kb.help_lines.not_police]
        assert [text for text, _ in links] == expected
        for text, href in links:
            assert href == "tel:" + "".join(c for c in text if c.isdigit() or c == "+")
        # Calm on a phone: the links are tappable, nothing runs off the side, quick exit stays in view.
        for box in (page.locator(".vb-bot a.vb-tel").nth(i).bounding_box() for i in range(len(links))):
            assert (
                box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 16
            )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator(".vb-exit").is_visible()
        # A reload keeps the call links (the transcript stores which numbers they were).
        page.reload()
        page.wait_for_selector('.vb-bot a.vb-tel[href="tel:112"]')
        phone.screenshot("widget-noodbericht-390px.png")
        phone.assert_clean()
    finally:
        phone.close()
