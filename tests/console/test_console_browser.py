"""The staff console in headless Chromium against the real bot: log in, test, list, improve, retrain, activate.

Starts real Rasa and action servers and a real console process (`python -m vraagbaak.console`) with a
temporary password and working folder, so data/, var/ and models/ are never touched. Retraining uses the real
training data plus the one phrasing the test adds (about 2 minutes on 2 cores). Screenshots: artifacts/console-*.png.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests

from tests.support.bot import MODEL
from tests.support.browser import AXE, CHROMIUM, CHROMIUM_ARGS, require_browser
from vraagbaak.bench.console import ConsoleClient, RunningConsole, running_console
from vraagbaak.console.responses import SESSION_COOKIE
from vraagbaak.core.knowledge_base import KnowledgeBase, Topic
from vraagbaak.core.outcomes import Outcome
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.evaluation import offline as ev
from vraagbaak.ops.processes import RunningServers, running_servers
from vraagbaak.reports import shared as rp

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # reported as a skip by require_browser
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.servers

ARTIFACTS = PROJECT_DIR / "artifacts"
TIMEOUT_MS = 30_000
TRAINING_TIMEOUT_MS = 15 * 60_000
SHORT_SESSION_MINUTES = 1
# Phrasings the bot misses today, each with the topic it should have answered; the first one that the running
# model really misses is the one the test teaches it (the model may change; the test needs only one miss).
MISSED = [
    ("wie de meiskes laat lopen voor hem, komt die er nu mee weg?", "pooiers"),
    ("de vent met de dikke auto die de meisjes aan het station zet, wat vinden jullie daarvan", "pooiers"),
    ("allez, de gast die de tippelzone runt mag dus gewoon verder doen?", "pooiers"),
    ("mag de baas van het bordeel nu alles van jullie?", "pooiers"),
    ("Krijgen madammen die meisjes voor zich laten tippelen nu vrij spel van jullie?", "pooiers"),
    ("Zeg eens eerlijk, zijn jullie nu pro souteneur of niet?", "pooiers"),
    ("Amai, ge laat de klanten van de hoerenbuurt dus gewoon doen?", "betalen_mensenrecht"),
]
WATCH_CSP = """
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspReport(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServers]:
    """A Rasa and action server of this module only: activating a model here never affects other tests."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    with running_servers(MODEL, tmp_path_factory.mktemp("console-bot")) as servers:
        yield servers


@pytest.fixture(scope="module")
def console(bot: RunningServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    """The console for that bot, started like `make run` starts it (the token only in its environment)."""
    with running_console(bot.rasa_url, bot.token, tmp_path_factory.mktemp("console"), MODEL) as running:
        yield running


@pytest.fixture(scope="module")
def short_lived(
    bot: RunningServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tuple[RunningConsole, ConsoleClient, float, str]]:
    """A second console whose sessions last one minute, with a member of staff logged in at the start."""
    # Only this console's environment: a patched os.environ would reach every console started after it.
    short = {"VRAAGBAAK_CONSOLE_SESSION_MINUTES": str(SHORT_SESSION_MINUTES)}
    with running_console(bot.rasa_url, bot.token, tmp_path_factory.mktemp("kort"), MODEL, short) as running:
        client = ConsoleClient(running, "kort")
        logged_in = time.monotonic()
        token = client.csrf("/vraag")
        assert client.post("/vraag", {"vraag": "Wat met pooiers?"}, token).status_code == 200
        yield running, client, logged_in, token


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Staff:
    """One member of staff in a browser tab, watching for CSP violations and page errors."""

    def __init__(self, browser: Browser, console: RunningConsole, bypass_csp: bool = False) -> None:
        self.console = console
        self.context = browser.new_context(
            viewport={"width": 1200, "height": 900},
            locale="nl-NL",
            bypass_csp=bypass_csp,
            accept_downloads=True,
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.violations: List[str] = []
        self.errors: List[str] = []
        self.context.expose_binding("__cspReport", lambda _source, what: self.violations.append(what))
        self.context.add_init_script(WATCH_CSP)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def goto(self, path: str) -> None:
        self.page.goto(self.console.url + path)

    def login(self, name: str = "Ann", password: str | None = None) -> None:
        self.goto("/inloggen")
        self.page.fill("#naam", name)
        self.page.fill("#wachtwoord", password or self.console.password)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)

    def axe(self) -> List[str]:
        """Serious and critical axe-core violations on the current page."""
        self.page.add_script_tag(path=str(AXE))
        results = self.page.evaluate("axe.run(document)")
        return [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def assert_clean(self) -> None:
        assert self.violations == [] and self.errors == []

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def staff(browser: Browser, console: RunningConsole) -> Iterator[Staff]:
    opened = Staff(browser, console)
    yield opened
    opened.close()


def parse(bot: RunningServers, text: str) -> Dict[str, Any]:
    response = requests.post(
        f"{bot.rasa_url}/model/parse", params={"token": bot.token}, json={"text": text}, timeout=30
    )
    response.raise_for_status()
    return dict(response.json())


def say(bot: RunningServers, sender: str, text: str) -> List[Dict[str, Any]]:
    response = requests.post(
        f"{bot.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    assert response.status_code == 200
    return list(response.json())


def answered(kb: KnowledgeBase, messages: List[Dict[str, Any]]) -> str | None:
    action = rp.action_from_reply(kb, messages)
    return action.topic_id if action.outcome == Outcome.ANSWERED else None


# ---------------------------------------------------------------- tests, in the order staff work


def test_log_in_and_test_one_question(staff: Staff, kb: KnowledgeBase, short_lived: Any) -> None:
    staff.goto("/vraag")
    assert staff.page.url.endswith("/inloggen")
    staff.screenshot("console-inloggen.png")
    staff.login("Ann")
    assert staff.page.url.endswith("/vraag")
    topic = kb.by_id("pooiers")
    staff.page.fill("#vraag", "wat vindt amnesty van pooiers")
    with staff.page.expect_navigation():
        staff.page.click("form.vraagform button")
    assert staff.page.inner_text("#herkend") == topic.title
    assert staff.page.inner_text("#uitkomst") == f"beantwoord: {topic.title}"
    assert staff.page.locator(".vb-official").count() == 1
    assert staff.page.locator("#kandidaten tbody tr").count() == 2
    assert staff.page.locator("#buren tbody tr").count() == 5
    staff.screenshot("console-vraag.png")
    staff.assert_clean()


SHOWN_TURN_JS = """
() => Array.from(document.querySelectorAll(".vb-turn .vb-bot")).map(bubble => ({
  text: Array.from(bubble.children).filter(c => !c.classList.contains("vb-choices"))
          .map(c => c.innerText).join(" "),
  buttons: Array.from(bubble.querySelectorAll(".vb-choice")).map(b => b.textContent),
}))
"""


def flat(text: str) -> str:
    return " ".join(text.replace("• ", " ").split())


@pytest.mark.parametrize(
    "question", ["wat vindt amnesty van pooiers", "sekswerk", "ik word bedreigd", "hallo"]
)
def test_the_preview_is_what_a_visitor_gets(staff: Staff, bot: RunningServers, question: str) -> None:
    """Vraag testen shows the same messages and buttons as the REST channel sends to a new visitor."""
    staff.login()
    staff.page.fill("#vraag", question)
    with staff.page.expect_navigation():
        staff.page.click("form.vraagform button")
    shown = staff.page.evaluate(SHOWN_TURN_JS)
    sent = [m for m in say(bot, f"nieuw-{time.time()}", question) if m.get("text") or m.get("buttons")]
    assert [flat(m["text"]) for m in shown] == [flat(m.get("text") or "") for m in sent]
    assert [m["buttons"] for m in shown] == [[b["title"] for b in m.get("buttons") or []] for m in sent]
    staff.assert_clean()


def list_of_30(kb: KnowledgeBase, bot: RunningServers) -> Tuple[str, List[str]]:
    """28 questions the bot answers as expected, and 2 that cannot match what is written after '||'."""
    lines: List[str] = []
    training = ev.load_nlu_dir(sorted((PROJECT_DIR / "data" / "nlu").glob("*.yml")))
    for topic in kb.topics:
        candidates = [topic.official_question] + sorted(
            (t for t, i in training if i == topic.intent), key=len, reverse=True
        )
        for text in candidates:
            if len([line for line in lines if line.endswith("|| " + topic.id)]) >= 2 or len(lines) >= 28:
                break
            action = ev.outcome_of(kb, parse(bot, text))
            if action.outcome == Outcome.ANSWERED and action.topic_id == topic.id:
                lines.append(f"{text} || {topic.id}")
    assert len(lines) == 28
    misses = [
        "Hoe laat vertrekt de trein naar Gent? || pooiers",
        f"{kb.by_id('pooiers').official_question} || kritiek",
    ]
    return "\n".join(lines[:14] + misses[:1] + lines[14:] + misses[1:]) + "\n", misses


def test_a_list_of_30_with_two_misses_and_the_csv(
    staff: Staff, kb: KnowledgeBase, bot: RunningServers, tmp_path: Path
) -> None:
    content, misses = list_of_30(kb, bot)
    upload = tmp_path / "infoavond.txt"
    upload.write_text(content, encoding="utf-8")
    staff.login()
    staff.goto("/lijst")
    staff.page.set_input_files("#bestand", str(upload))
    started = time.monotonic()
    with staff.page.expect_navigation():
        staff.page.click("form.lijstform button")
    staff.page.wait_for_selector("#antwoorden", timeout=60_000)
    assert time.monotonic() - started < 30
    assert "bij 28 van 30" in staff.page.inner_text("#samenvatting")
    rows = staff.page.locator("#antwoorden tbody tr")
    assert rows.count() == 30
    staff.page.check("#alleen-aandacht")
    visible = [r for r in staff.page.locator("#antwoorden tbody tr:not([hidden])").all_inner_texts()]
    assert len(visible) == 2 and all("nee" in r for r in visible)
    staff.page.click("#antwoorden th:nth-child(5) button")  # sort by confidence
    assert staff.page.get_attribute("#antwoorden th:nth-child(5)", "aria-sort") == "ascending"
    staff.screenshot("console-lijst.png")
    with staff.page.expect_download() as download:
        staff.page.click("#download-csv")
    saved = tmp_path / "antwoorden.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "infoavond.csv"
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "regel;vraag;verwacht;antwoord;zekerheid;uitkomst;klopt" and len(lines) == 31
    assert sum(line.endswith(";nee") or ";nee (" in line for line in lines) == 2
    staff.assert_clean()


def find_miss(kb: KnowledgeBase, bot: RunningServers) -> Tuple[str, Topic]:
    for text, topic_id in MISSED:
        action = ev.outcome_of(kb, parse(bot, text))
        if not (action.outcome == Outcome.ANSWERED and action.topic_id == topic_id):
            return text, kb.by_id(topic_id)
    pytest.fail("de bot beantwoordt al deze vragen goed: kies nieuwe gemiste vragen voor MISSED")


def test_improve_retrain_activate_in_a_running_conversation_and_restore(
    staff: Staff, kb: KnowledgeBase, bot: RunningServers, console: RunningConsole
) -> None:
    missed, topic = find_miss(kb, bot)
    # A visitor is in the middle of a conversation: an answer with related questions, then "2" picks one.
    sender = f"bezoeker-{int(time.time())}"
    pooiers = kb.by_id("pooiers")
    assert answered(kb, say(bot, sender, pooiers.official_question)) == "pooiers"
    second = kb.by_id(pooiers.related[1])
    assert answered(kb, say(bot, sender, "2")) == second.id

    staff.login("Ann")
    staff.page.fill("#vraag", missed)
    with staff.page.expect_navigation():
        staff.page.click("form.vraagform button")
    with staff.page.expect_navigation():
        staff.page.click("#resultaat form.inline button")
    assert staff.page.input_value("#zin") == missed
    staff.page.select_option("#onderwerp", topic.intent)
    with staff.page.expect_navigation():
        staff.page.click("#toevoegen form button")
    assert "Toegevoegd aan" in staff.page.inner_text("#melding")
    staff.screenshot("console-verbeteren.png")

    with staff.page.expect_navigation():
        staff.page.click("#trainen form button")
    staff.page.wait_for_selector(".voortgang progress")
    staff.screenshot("console-trainen.png")
    staff.page.wait_for_selector("#nauwkeurigheid-na, #trainen .fout", timeout=TRAINING_TIMEOUT_MS)
    assert staff.page.locator("#trainen .fout").count() == 0, staff.page.inner_text("#trainen")
    before = staff.page.inner_text("#nauwkeurigheid-voor")
    after = staff.page.inner_text("#nauwkeurigheid-na")
    assert before.endswith("%") and after.endswith("%")
    own = staff.page.locator("#eigen-lijst tbody tr", has_text=missed)
    assert own.count() == 1 and own.locator("td").nth(5).inner_text() == "ja"
    staff.page.click("details summary")
    staff.screenshot("console-vergelijking.png")

    with staff.page.expect_navigation():
        staff.page.click("#activeren")
    assert "is actief" in staff.page.inner_text(".melding")
    assert (
        requests.get(f"{bot.rasa_url}/status", params={"token": bot.token}, timeout=10)
        .json()["model_file"]
        .startswith("kandidaat-")
    )
    # The same conversation goes on: "1" picks the first related question of the answer before activation.
    assert answered(kb, say(bot, sender, "1")) == second.related[0]
    assert answered(kb, say(bot, sender, missed)) == topic.id

    with staff.page.expect_navigation():
        staff.page.click("#terugzetten")
    assert "weer actief" in staff.page.inner_text(".melding")
    assert (
        requests.get(f"{bot.rasa_url}/status", params={"token": bot.token}, timeout=10).json()["model_file"]
        == MODEL.name
    )
    records = [
        json.loads(line)
        for line in (console.workdir / "var" / "console-audit.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["actie"] for r in records] == [
        "zin_toegevoegd",
        "model_getraind",
        "model_geactiveerd",
        "model_teruggezet",
    ]
    assert (
        records[0]["wie"] == "Ann" and records[0]["zin"] == missed and records[0]["onderwerp"] == topic.intent
    )
    staff.assert_clean()


def test_no_serious_accessibility_problems(browser: Browser, console: RunningConsole) -> None:
    assert AXE.exists(), f"{AXE} ontbreekt: draai `make web-deps` (npm ci --prefix web)"
    checked = Staff(browser, console, bypass_csp=True)  # axe is injected as a script, which our CSP forbids
    try:
        checked.goto("/inloggen")
        assert checked.axe() == []
        checked.login()
        checked.page.fill("#vraag", "wat vindt amnesty van pooiers")
        with checked.page.expect_navigation():
            checked.page.click("form.vraagform button")
        problems = checked.axe()
        for path in ("/lijst", "/dekking", "/inzichten", "/verbeteren"):
            checked.goto(path)
            problems += [f"{path}: {p}" for p in checked.axe()]
        assert problems == []
    finally:
        checked.close()


def test_wrong_password_and_missing_csrf_are_refused(console: RunningConsole, staff: Staff) -> None:
    staff.login(password="helemaal-verkeerd-wachtwoord")
    assert staff.page.url.endswith("/inloggen") and "klopt niet" in staff.page.inner_text("#melding")
    client = ConsoleClient(console, "Bo")
    response = client.http.post(console.url + "/vraag", data={"vraag": "Wat met pooiers?"}, timeout=30)
    assert response.status_code == 403 and "niet geldig" in response.text
    response = client.http.post(
        console.url + "/verbeteren/activeren", data={"csrf": "verzonnen"}, timeout=30, allow_redirects=False
    )
    assert response.status_code == 403
    assert (
        client.http.get(console.url + "/vraag", timeout=30).status_code == 200
    )  # the session itself is fine


def test_an_expired_session_is_refused(short_lived: Tuple[RunningConsole, ConsoleClient, float, str]) -> None:
    # Logged in, and a question tested with this token, when the module started.
    running, client, logged_in, token = short_lived
    time.sleep(max(0.0, logged_in + SHORT_SESSION_MINUTES * 60 + 1 - time.monotonic()))
    response = client.post("/vraag", {"vraag": "Wat met pooiers?"}, token, allow_redirects=False)
    assert response.status_code == 401 and "niet (meer) ingelogd" in response.text
    page = client.http.get(running.url + "/vraag", allow_redirects=False, timeout=30)
    assert page.status_code == 303 and page.headers["Location"] == "/inloggen"
    assert SESSION_COOKIE in response.headers.get("Set-Cookie", "")  # and the browser is told to forget it
