"""Profile Rasa and the action server under load with py-spy: flame graphs and ms per message by part.

`python -m vraagbaak.bench.profile_servers --out docs/performance --label after` starts both servers, sends
conversations of 300 messages (one user, one message at a time) while py-spy samples both processes, and writes a flame
graph per process plus a JSON summary of where the time went. Needs py-spy (`pip install -e '.[profile]'`).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import requests

from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import DEFAULT_MODEL
from vraagbaak.ops.processes import LOAD_TOOL_ENV, running_servers

CONVERSATION_TURNS = 300
SAMPLE_RATE = 250  # per second: enough detail for a 6 ms parse, light enough for two busy cores

# First match wins, so the specific parts come before the general ones. Matched against "function (file)".
PARTS: Sequence[Tuple[str, Sequence[str]]] = (
    ("insights writer (background thread)", ("_run (vraagbaak/insights.py",)),
    ("insights (SQLite)", ("vraagbaak/insights.py",)),
    ("NLU parse (model)", ("rasa/nlu/", "tensorflow", "keras", "spacy", "vraagbaak/adapters/nlu")),
    ("dialogue policy (rules)", ("rasa/core/policies", "rasa/core/featurizers", "past_states")),
    (
        "tracker store (save/load)",
        ("tracker_store.py", "vraagbaak/adapters/stores.py", "from_dict", "serialise_tracker"),
    ),
    (
        "action call (Rasa side)",
        ("rasa/core/actions/action.py", "rasa/utils/endpoints.py", "aiohttp", "jsonschema"),
    ),
    ("custom action (rasa-sdk)", ("rasa_sdk/executor.py", "actions/actions.py")),
    ("graph and processor", ("rasa/engine", "rasa/core/processor.py", "rasa/core/agent.py")),
    ("HTTP, JSON and event loop", ("sanic", "httptools", "uvloop", "asyncio", "json")),
)
# py-spy cannot tell idle time inside uvloop (C code) from work: a sample whose innermost frame is Sanic's
# serve loop is the process waiting for the next request; one whose innermost frame is the insights writer's
# loop is that thread waiting on its queue.
IDLE_LEAVES = ("serve (sanic/server/runners.py", "_run (vraagbaak/insights.py")


def part_of(stack: str) -> str | None:
    """The part a collapsed py-spy stack belongs to, None when the process was waiting."""
    if stack.rsplit(";", 1)[-1].startswith(IDLE_LEAVES):
        return None
    for name, markers in PARTS:
        if any(marker in stack for marker in markers):
            return name
    return "other"


def summarise(raw: Path, rate: int, messages: int) -> Dict[str, float]:
    """CPU ms per message by part, from py-spy's collapsed ("raw") output."""
    samples: Counter[str] = Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            part = part_of(stack)
            if part:
                samples[part] += int(count)
    return {part: round(count * 1000 / rate / messages, 2) for part, count in samples.most_common()}


def py_spy(pid: int, output: Path, fmt: str, seconds: int) -> subprocess.Popen:
    """Start py-spy sampling this process (without pausing it) for `seconds`."""
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--rate", str(SAMPLE_RATE), "--duration", str(seconds)]
        + ["--nonblocking", "--format", fmt, "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def profile(model: Path, out: Path, label: str, seconds: int, raw_dir: Path) -> Dict[str, object]:
    """Profile both servers during one conversation lasting about `seconds`; write SVGs and a summary."""
    questions = [t.official_question for t in knowledge_base().topics if t.section == "Q&A"]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_servers(
        model, Path(tmp), extra_env=LOAD_TOOL_ENV
    ) as servers:
        url = f"{servers.rasa_url}/webhooks/rest/webhook"
        for question in questions:  # warm-up: lazy imports and first-call caches
            requests.post(url, json={"sender": "warm", "message": question}, timeout=30)
        processes = {"rasa": servers.rasa.pid, "actions": servers.actions.pid}
        spies: List[subprocess.Popen] = []
        for name, pid in processes.items():
            spies.append(py_spy(pid, out / f"{label}-{name}.svg", "flamegraph", seconds))
            spies.append(py_spy(pid, raw_dir / f"{label}-{name}.txt", "raw", seconds))
        time.sleep(1.0)  # py-spy attaches
        sender, sent, started = f"profile-{uuid.uuid4().hex[:8]}", 0, time.monotonic()
        with requests.Session() as session:
            while time.monotonic() - started < seconds - 2:
                if sent % CONVERSATION_TURNS == 0:  # the conversation length the targets are set for
                    sender = f"profile-{uuid.uuid4().hex[:8]}"
                session.post(
                    url, json={"sender": sender, "message": questions[sent % len(questions)]}, timeout=30
                )
                sent += 1
        for spy in spies:
            spy.wait(timeout=seconds + 60)
        summary: Dict[str, object] = {"label": label, "messages": sent, "seconds": seconds}
        for name in processes:
            summary[name] = summarise(raw_dir / f"{label}-{name}.txt", SAMPLE_RATE, sent)
    (out / f"{label}-summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m vraagbaak.bench.profile_servers", description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--label", default="profile")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--raw-dir", type=Path, default=PROJECT_DIR / ".run" / "profile")
    args = parser.parse_args(argv)
    args.raw_dir.mkdir(parents=True, exist_ok=True)
    print(json.dumps(profile(args.model, args.out, args.label, args.seconds, args.raw_dir), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
