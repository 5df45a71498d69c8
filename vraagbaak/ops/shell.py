"""`make shell`: chat with the running bot in the terminal, over the REST channel.

    python -m vraagbaak.ops.shell [--url http://localhost:5005] [--model PATH]

`rasa shell` starts a second Rasa server on port 5005 (which `make run` already uses) and fills the
screen with warnings. This client only talks to a bot over HTTP. When none answers, it starts one
with the project's own start-up code (`running_servers`), its logs in a temporary folder, and stops
it on exit.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence, TextIO

import requests

from vraagbaak.adapters.channels.formatting import numbered_choices
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.settings import DEFAULT_MODEL, ConfigError, Settings
from vraagbaak.core.user_input import CUT_LENGTH
from vraagbaak.ops.processes import running_servers

STOP_WORDS = {"stop", "/stop", "exit", "quit"}
PROMPT = "Jij: "
BOT = "Vraagbaak: "
TIMEOUT = 60


def bot_is_running(url: str) -> bool:
    """True when a Rasa server answers on this URL (its root says 'Hello from Rasa')."""
    try:
        answer = requests.get(url, timeout=3)
    except requests.RequestException:
        return False
    return answer.ok and answer.text.startswith("Hello from Rasa")


def shown(messages: List[Dict[str, Any]], hint: str) -> List[str]:
    """What the terminal shows: texts, buttons as a numbered list; custom payloads are for widgets only."""
    lines = []
    for message in messages:
        text = str(message.get("text") or "")
        buttons = message.get("buttons") or []
        if text or buttons:
            lines.append(numbered_choices(text, buttons, hint))
    return lines


def ask(url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    """Send one message to the REST channel and return the bot's messages."""
    response = requests.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=TIMEOUT
    )
    response.raise_for_status()
    return list(response.json())


def chat(url: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """The conversation loop: one line in, the bot's answer out, until 'stop', Ctrl-D or Ctrl-C."""
    kb = knowledge_base()
    hint = kb.message("keuze_hint")
    sender = f"shell-{uuid.uuid4().hex}"
    print(
        "Stel je vraag over Amnesty en sekswerk. Typ het nummer van een vraag uit een lijst om die te kiezen.\n"
        "Stoppen: typ 'stop' of druk op Ctrl-D.\n",
        file=stdout,
        flush=True,
    )
    while True:
        print(PROMPT, end="", file=stdout, flush=True)
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:
            print("\nTot ziens.", file=stdout, flush=True)
            return 0
        # The server bounds the text too; a pasted novel is cut here before it is even sent.
        text = line.rstrip("\r\n")[:CUT_LENGTH]
        if text.strip().lower() in STOP_WORDS:
            print("Tot ziens.", file=stdout, flush=True)
            return 0
        if not text.strip():
            continue
        try:
            replies = shown(ask(url, sender, text), hint)
        except requests.RequestException as error:
            print(f"{BOT}De bot antwoordt niet ({type(error).__name__}). Draait `make run` nog?", file=stdout)
            continue
        for reply in replies or ["(geen antwoord)"]:
            print(f"{BOT}{reply}\n", file=stdout, flush=True)


@contextlib.contextmanager
def bot_at(url: str, model: Path) -> Iterator[str]:
    """The URL of a running bot: the given one, or one started here until the block ends."""
    if bot_is_running(url):
        yield url
        return
    if not model.exists():
        raise FileNotFoundError(
            f"Er draait geen bot op {url} en {model} ontbreekt: draai eerst `make model`."
        )
    print(f"Er draait geen bot op {url}. Ik start er zelf een; dat duurt ongeveer een minuut…", flush=True)
    with tempfile.TemporaryDirectory(prefix="vraagbaak-shell-") as workdir:
        # Logs go to the temporary folder: the screen stays for the conversation.
        # Only this terminal talks to it: loopback, and no website may (an empty --cors list replaces '*').
        with running_servers(model, Path(workdir), ["--interface", "127.0.0.1", "--cors"]) as servers:
            yield servers.rasa_url
        print("De bot die ik had gestart, is gestopt.", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python -m vraagbaak.ops.shell", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", default=None, help="adres van de bot (standaard http://localhost:5005)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="model als er geen bot draait")
    args = parser.parse_args(argv)
    try:
        url = (args.url or f"http://localhost:{Settings.from_env().rasa_port}").rstrip("/")
    except ConfigError as error:
        print(f"Instelling klopt niet: {error}", file=sys.stderr)
        return 2
    try:
        with bot_at(url, Path(args.model)) as bot_url:
            return chat(bot_url)
    except (FileNotFoundError, RuntimeError, TimeoutError) as error:
        print(f"De bot kon niet starten: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nTot ziens.", flush=True)
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
