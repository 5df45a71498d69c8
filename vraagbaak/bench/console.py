"""Staff console figures: one question (p50/p95), a list of 200 questions, and retraining, as staff experience them.

    python -m vraagbaak.bench.console      # on its own; `make bench` runs it once with the full model

Everything goes through the console's own HTTP pages against real Rasa and action servers, with temporary
accounts and a temporary working folder (nothing in data/, var/ or models/ changes).
"""
from __future__ import annotations

import contextlib
import json
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence

import requests

from vraagbaak.console.accounts import Account, write_accounts
from vraagbaak.console.password import hash_password
from vraagbaak.core.paths import TESTS_DIR
from vraagbaak.core.settings import DEFAULT_MODEL
from vraagbaak.evaluation import offline as ev
from vraagbaak.evaluation.offline import percentile
from vraagbaak.ops.processes import (
    console_command,
    free_port,
    running_servers,
    start_process,
    stop_processes,
    wait_for,
)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
JOB = re.compile(r"/lijst/([A-Za-z0-9_-]+)")
TARGET_QUESTION_MS = 300
TARGET_LIST_SECONDS = 30
# The accounts of a temporary console (all with its one temporary password): the names tests log in with.
TEST_ACCOUNTS = ("bench", "Ann", "Bo", "kort")


@dataclass
class RunningConsole:
    """A console process with temporary accounts (one password for all) and a working folder."""

    url: str
    password: str
    workdir: Path
    process: Any
    log: Path


@contextlib.contextmanager
def running_console(
    rasa_url: str,
    token: str,
    workdir: Path,
    model: Path,
    extra_env: Dict[str, str] | None = None,
    names: Sequence[str] = TEST_ACCOUNTS,
) -> Iterator[RunningConsole]:
    """Start `python -m vraagbaak.console` on a free port for this Rasa server until the block ends."""
    password = secrets.token_urlsafe(18)
    workdir.mkdir(parents=True, exist_ok=True)
    stored = hash_password(password)
    accounts = [Account(name, stored) for name in names]
    write_accounts({account.key: account for account in accounts}, workdir / "console-accounts")
    port = free_port()
    args = [
        "--werkmap",
        str(workdir / "var"),
        "--oefenzinnen",
        str(workdir / "medewerkers.yml"),
        "--modellen",
        str(workdir / "models"),
        "--model",
        str(model),
        "--dekking",
        str(workdir / "coverage"),
        "--accountbestand",
        str(workdir / "console-accounts"),
        "--wachtwoordbestand",  # none: the project's own old password must never become a test account
        str(workdir / "console-password"),
    ]
    log = workdir / "console.log"
    env = {"VRAAGBAAK_CONSOLE_RASA_URL": rasa_url, "VRAAGBAAK_CONSOLE_RASA_TOKEN": token, **(extra_env or {})}
    process = start_process([*console_command(port), *args], log=log, env=env)
    try:
        wait_for(f"http://127.0.0.1:{port}/static/gezond", process, timeout=60)
        yield RunningConsole(f"http://127.0.0.1:{port}", password, workdir, process, log)
    finally:
        stop_processes([process])


class ConsoleClient:
    """A member of staff using the console's pages (requests, with cookies and CSRF tokens)."""

    def __init__(self, console: RunningConsole, name: str = "bench") -> None:
        self.console = console
        self.http = requests.Session()
        token = self.csrf("/inloggen")
        data = {"csrf": token, "naam": name, "wachtwoord": console.password}
        response = self.http.post(console.url + "/inloggen", data=data, allow_redirects=False, timeout=30)
        if response.status_code != 303:
            raise RuntimeError(f"inloggen mislukt ({response.status_code})")

    def csrf(self, path: str) -> str:
        """The form token of a page."""
        match = CSRF.search(self.http.get(self.console.url + path, timeout=30).text)
        if not match:
            raise RuntimeError(f"geen formulier op {path}")
        return match.group(1)

    def post(self, path: str, data: Dict[str, str], token: str, **kwargs: Any) -> requests.Response:
        """POST a form with the token."""
        return self.http.post(self.console.url + path, data={**data, "csrf": token}, timeout=120, **kwargs)

    def wait(self, job_id: str, timeout: float) -> Dict[str, Any]:
        """Poll a job until it is done; its last status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status: Dict[str, Any] = self.http.get(f"{self.console.url}/taken/{job_id}", timeout=30).json()
            if status.get("klaar"):
                return status
            time.sleep(0.2)
        raise TimeoutError(job_id)


def measure_console(
    model: Path, workdir: Path, count: int = 50, list_size: int = 200, retrain: bool = True
) -> Dict[str, float]:
    """Question latency, list time and retrain time through the console's pages."""
    held_out = ev.load_nlu_examples(TESTS_DIR / "test_nlu.yml")
    workdir.mkdir(parents=True, exist_ok=True)
    with running_servers(model, workdir) as servers, running_console(
        servers.rasa_url, servers.token, workdir / "console", model
    ) as console:
        client = ConsoleClient(console)
        token = client.csrf("/vraag")
        for text, _ in held_out[:5]:  # warm-up
            client.post("/vraag", {"vraag": text}, token)
        timings: List[float] = []
        for i in range(count):
            started = time.perf_counter()
            response = client.post("/vraag", {"vraag": held_out[i % len(held_out)][0]}, token)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or 'id="uitkomst"' not in response.text:
                raise RuntimeError(f"vraag testen mislukt ({response.status_code})")
        lines = "\n".join(text for text, _ in (held_out * 2)[:list_size])
        started = time.perf_counter()
        response = client.post("/lijst", {"vragen": lines}, token, allow_redirects=False)
        job = JOB.search(response.headers.get("Location", ""))
        if not job:
            raise RuntimeError("lijst niet gestart")
        status = client.wait(job.group(1), 300)
        list_seconds = time.perf_counter() - started
        if status["status"] != "klaar" or status["gedaan"] != list_size:
            raise RuntimeError(f"lijst mislukt: {status.get('fout')}")
        figures: Dict[str, float] = {
            "console_question_p50_ms": percentile(timings, 0.50),
            "console_question_p95_ms": percentile(timings, 0.95),
            "console_questions": count,
            "console_list_seconds": list_seconds,
            "console_list_size": list_size,
        }
        if retrain:
            started = time.perf_counter()
            response = client.post(
                "/verbeteren/trainen", {}, client.csrf("/verbeteren"), allow_redirects=False
            )
            page = client.http.get(console.url + "/verbeteren", timeout=30).text
            job_id = re.search(r'data-taak="([A-Za-z0-9_-]+)"', page)
            if not job_id:
                raise RuntimeError("training niet gestart")
            status = client.wait(job_id.group(1), 900)
            if status["status"] != "klaar":
                raise RuntimeError(f"training mislukt: {status.get('fout')}")
            durations = json.loads(
                (console.workdir / "var" / "console-tijden.json").read_text(encoding="utf-8")
            )
            figures["console_retrain_seconds"] = time.perf_counter() - started
            figures["console_train_seconds"] = float(durations["training"])
            figures["console_compare_seconds"] = float(durations["vergelijken"])
    return figures


def format_console(figures: Dict[str, float]) -> str:
    """One line for the benchmark table."""
    line = (
        f"Staff console:                   question p50 {figures['console_question_p50_ms']:.0f} ms,"
        f" p95 {figures['console_question_p95_ms']:.0f} ms ({figures['console_questions']:.0f}, target < {TARGET_QUESTION_MS} ms);"
        f" list of {figures['console_list_size']:.0f} {figures['console_list_seconds']:.1f} s (target < {TARGET_LIST_SECONDS} s)"
    )
    if "console_retrain_seconds" in figures:
        line += (
            f"; retrain {figures['console_retrain_seconds']:.0f} s (training {figures['console_train_seconds']:.0f} s"
            f" + before/after {figures['console_compare_seconds']:.0f} s)"
        )
    return line


def main() -> None:
    """Start real servers and a console, measure, print."""
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure_console(DEFAULT_MODEL, Path(tmp))
    print(json.dumps(figures, indent=2))
    print(format_console(figures))


if __name__ == "__main__":
    main()
