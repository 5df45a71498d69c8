"""`make shell` in a real terminal (a pty): talks to the running bot, or starts one and stops it again."""
from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from tests.support.bot import MODEL, Servers
from vraagbaak.core.knowledge_base import KnowledgeBase, Topic
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.ops.processes import free_port, private_environment
from vraagbaak.ops.shell import BOT, PROMPT

pytestmark = pytest.mark.servers


class Terminal:
    """`python -m vraagbaak.ops.shell ARGS` on a pseudo-terminal, as a person would run it."""

    def __init__(self, *args: str) -> None:
        self.fd, child = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vraagbaak.ops.shell", *args],
            cwd=PROJECT_DIR,
            env=private_environment(),
            stdin=child,
            stdout=child,
            stderr=child,
            start_new_session=True,
        )
        os.close(child)
        self.screen = ""

    def read_until(self, text: str, timeout: float = 240) -> str:
        """Everything shown so far once `text` has appeared (fails with the screen if it does not)."""
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} did not appear; screen:\n{self.screen[-3000:]}"
            ready, _, _ = select.select([self.fd], [], [], min(left, 1.0))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the process closed the terminal
                    chunk = b""
                assert chunk or text in self.screen, f"terminal closed; screen:\n{self.screen[-3000:]}"
                self.screen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return self.screen

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode("utf-8") + b"\n")

    def close(self) -> int:
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
            os.close(self.fd)


def descendants(pid: int) -> List[int]:
    """All processes below this one."""
    children: dict[int, List[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def assert_answer_shown(screen: str, topic: Topic) -> None:
    for line in topic.answer_text.splitlines():
        assert line in screen, f"{line!r} missing from the terminal"


def assert_quiet(screen: str) -> None:
    for noise in ("Warning", "warning", "Traceback", "DEBUG", "INFO"):
        assert noise not in screen, f"{noise!r} on the screen:\n{screen}"


def test_shell_talks_to_the_running_bot(servers: Servers, kb: KnowledgeBase) -> None:
    topic = kb.by_id("pooiers")
    related = kb.by_id(topic.related[0])
    terminal = Terminal("--url", servers.rasa_url)
    try:
        terminal.read_until(PROMPT)
        terminal.type(topic.official_question)
        screen = terminal.read_until(f"1. {related.title}")
        assert_answer_shown(screen, topic)
        assert kb.message("keuze_hint") in screen
        # Typing the number of a related question answers it, as in the widget.
        terminal.type("1")
        terminal.read_until(related.answer_text.splitlines()[-1])
        assert_answer_shown(terminal.screen, related)
        terminal.type("stop")
        terminal.read_until("Tot ziens.")
    finally:
        code = terminal.close()
    assert code == 0
    assert_quiet(terminal.screen)
    assert "Ik start er zelf een" not in terminal.screen


def test_shell_starts_a_bot_when_none_runs_and_stops_it_on_ctrl_d(kb: KnowledgeBase) -> None:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} ontbreekt: draai eerst `make model`")
    topic = kb.by_id("pooiers")
    nobody = f"http://127.0.0.1:{free_port()}"
    terminal = Terminal("--url", nobody, "--model", str(MODEL))
    try:
        terminal.read_until("Ik start er zelf een")
        terminal.read_until(PROMPT)
        started = descendants(terminal.process.pid)
        assert len(started) >= 2, "the action server and Rasa run below the shell"
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in started]
        rasa = next(c for c in commands if b"run" in c and b"--model" in c)
        assert rasa[rasa.index(b"--interface") + 1] == b"127.0.0.1", "a bot only this terminal can reach"
        terminal.type(topic.official_question)
        terminal.read_until(topic.answer_text.splitlines()[-1])
        assert_answer_shown(terminal.screen, topic)
        assert BOT in terminal.screen
        os.write(terminal.fd, b"\x04")  # Ctrl-D
        terminal.read_until("gestopt")
    finally:
        code = terminal.close()
    assert code == 0
    assert_quiet(terminal.screen)
    assert [pid for pid in started if Path(f"/proc/{pid}").exists()] == []
