"""Fair turns: a bystander's latency and Rasa's peak memory while one connection floods and one REST sender bursts.

    python -m vraagbaak.bench.fairness      # on its own; `make bench` runs it on servers of its own

The servers run with the production limits (unlike the latency servers, whose simulated users are machines).
For the whole measured run, every second, a socket.io connection sends 600 frames at once and a REST sender 20
concurrent messages; with `fresh=True` (the default) each round is a new connection and a new sender, so every
round passes a full bucket (the harder case: one connection that stays is held to one message a second).

The platform line: a bystander over REST while 8 Telegram chats' replies hang for 30 s at a fake Bot API on
loopback (new chats whenever the bot gives up on them, so 8 sends hang throughout), against the quiet p95.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import secrets
import statistics
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List

import requests

from vraagbaak.bench.hostile_clients import flood_socket, new_client, open_socket, rest_burst
from vraagbaak.bench.robustness import TARGET_PEAK_MB, TARGET_RATIO, normal_user
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.settings import DEFAULT_MODEL
from vraagbaak.evaluation.offline import percentile
from vraagbaak.ops import channel_credentials
from vraagbaak.ops.processes import RunningServers, running_servers
from vraagbaak.ops.processes import process_rss_mb as rss_mb

FRAMES = 600
REST_BURST = 20
ROUND_SECONDS = 1.0
HANGING_SENDS = 8
HANG_SECONDS = 30.0


async def _socket_rounds(
    url: str, text: str, stop: threading.Event, counts: Dict[str, float], fresh: bool
) -> None:
    async with new_client() as client:
        socket, session = None, ""
        while not stop.is_set():
            if socket is None or fresh:
                if socket is not None:
                    counts["socket_replies"] += len(socket.bot_texts())
                    await socket.close()
                socket = await open_socket(client, url)
                session = await socket.session()
            await flood_socket(socket, session, FRAMES, text)
            counts["frames"] += FRAMES
            await asyncio.sleep(ROUND_SECONDS)
        if socket is not None:
            counts["socket_replies"] += len(socket.bot_texts())
            await socket.close()


async def _rest_rounds(
    url: str, text: str, stop: threading.Event, counts: Dict[str, float], fresh: bool
) -> None:
    async with new_client() as client:
        sender = f"burst-{uuid.uuid4().hex[:8]}"
        while not stop.is_set():
            if fresh:
                sender = f"burst-{uuid.uuid4().hex[:8]}"
            replies = await rest_burst(client, url, sender, [text] * REST_BURST)
            counts["rest_messages"] += REST_BURST
            counts["rest_answered"] += sum(1 for r in replies if r.topic)
            counts["rest_429"] += sum(1 for r in replies if r.status == 429)
            await asyncio.sleep(ROUND_SECONDS)


def _attack(url: str, text: str, stop: threading.Event, counts: Dict[str, float], fresh: bool) -> None:
    async def both() -> None:
        await asyncio.gather(
            _socket_rounds(url, text, stop, counts, fresh), _rest_rounds(url, text, stop, counts, fresh)
        )

    asyncio.run(both())


def measure_fairness(servers: RunningServers, count: int = 200, fresh: bool = True) -> Dict[str, float]:
    """The bystander's quiet p95, its p95 under the floods, their ratio, and Rasa's peak memory meanwhile."""
    url = f"{servers.rasa_url}/webhooks/rest/webhook"
    questions = [t.official_question for t in knowledge_base().topics if t.section == "Q&A"]
    normal_user(url, questions, len(questions))  # warm-up
    quiet = normal_user(url, questions, count)
    stop = threading.Event()
    counts: Dict[str, float] = dict.fromkeys(
        ("frames", "socket_replies", "rest_messages", "rest_answered", "rest_429"), 0
    )
    peak = [rss_mb(servers.rasa.pid)]

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(servers.rasa.pid))
            time.sleep(0.05)

    threads = [
        threading.Thread(
            target=_attack, args=(servers.rasa_url, questions[0], stop, counts, fresh), daemon=True
        ),
        threading.Thread(target=sample, daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.2)  # the first round is under way
        loaded = normal_user(url, questions, count)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=70)
    quiet_p95, loaded_p95 = percentile(quiet, 0.95), percentile(loaded, 0.95)
    return {
        "fair_quiet_p95_ms": quiet_p95,
        "fair_flooded_p95_ms": loaded_p95,
        "fair_flooded_p50_ms": statistics.median(loaded),
        "fair_ratio": loaded_p95 / quiet_p95,
        "fair_peak_rss_mb": peak[0],
        "fair_fresh_each_round": float(fresh),
        **{f"fair_{name}": value for name, value in counts.items()},
    }


def measure_fairness_on_new_servers(model: Path, workdir: Path, count: int = 200) -> Dict[str, float]:
    """Start servers with the production limits and measure (make bench's latency servers raise them)."""
    workdir.mkdir(parents=True, exist_ok=True)
    with running_servers(model, workdir) as servers:
        return measure_fairness(servers, count)


def format_fairness(figures: Dict[str, float]) -> str:
    """One line for the benchmark table."""
    kind = "new connection and sender" if figures["fair_fresh_each_round"] else "one connection, one sender"
    return (
        f"Fair turns (floods, {kind} each s): p95 {figures['fair_flooded_p95_ms']:.1f} ms vs quiet"
        f" {figures['fair_quiet_p95_ms']:.1f} ms = {figures['fair_ratio']:.2f}x (target <= {TARGET_RATIO}),"
        f" Rasa peak {figures['fair_peak_rss_mb']:.0f} MB (target < {TARGET_PEAK_MB});"
        f" {figures['fair_frames']:.0f} socket.io frames ({FRAMES} at once), {figures['fair_rest_messages']:.0f}"
        f" REST messages ({REST_BURST} at once, {figures['fair_rest_answered']:.0f} answered,"
        f" {figures['fair_rest_429']:.0f} refused with 429)"
    )


class HangingBotApi:
    """A Telegram Bot API on loopback whose sendMessage answers only after HANG_SECONDS (getMe at once)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.sends = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rsplit("/", 1)[-1]
                result: Any = True
                if method == "getMe":
                    result = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "BenchBot"}
                elif method == "sendMessage":
                    api.sends += 1
                    if api.stop.wait(HANG_SECONDS):
                        return
                    result = {"message_id": 1, "date": 1700000000, "chat": {"id": 1, "type": "private"}}
                raw = json.dumps({"ok": True, "result": result}).encode("utf-8")
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass  # the bot gave up first (its platform timeout)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HangingBotApi:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()


def _hanging_chats(servers: RunningServers, secret: str, text: str, stop: threading.Event) -> None:
    """Keep HANGING_SENDS Telegram chats waiting for their reply: a new round when the bot gives up on one."""
    url = f"{servers.rasa_url}/webhooks/telegram/webhook"
    ids = itertools.count(1)

    def chat(chat_id: int) -> None:
        user = {"id": chat_id, "is_bot": False, "first_name": "Bench"}
        message = {
            "message_id": next(ids),
            "from": user,
            "chat": {"id": chat_id, "type": "private"},
            "date": 1700000000,
            "text": text,
        }
        update = {"update_id": next(ids), "message": message}
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        try:
            requests.post(url, json=update, headers=headers, timeout=HANG_SECONDS * 3)
        except requests.RequestException:
            pass  # the figure is the bystander's; a lost webhook call only makes the load lighter

    chat_ids = itertools.count(900_000_001)
    while not stop.is_set():
        threads = [threading.Thread(target=chat, args=(next(chat_ids),)) for _ in range(HANGING_SENDS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def measure_hanging_platform(model: Path, workdir: Path, count: int = 200) -> Dict[str, float]:
    """A REST bystander's p95 while HANGING_SENDS platform sends hang for HANG_SECONDS, and the quiet p95."""
    workdir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(24)
    with HangingBotApi() as api:
        env = {
            "TELEGRAM_TOKEN": "123456:bench-token",
            "TELEGRAM_BOT_NAME": "BenchBot",
            "TELEGRAM_WEBHOOK_URL": "https://vraagbaak.example.org/webhooks/telegram/webhook",
            "TELEGRAM_SECRET_TOKEN": secret,
            "TELEGRAM_API_URL": api.url,
        }
        path = workdir / "credentials.yml"
        if channel_credentials.main([str(path)], env=env) != 0:
            raise RuntimeError("kanaalinstellingen voor de benchmark niet geschreven")
        with running_servers(model, workdir, credentials=path, extra_env=env) as servers:
            url = f"{servers.rasa_url}/webhooks/rest/webhook"
            questions = [t.official_question for t in knowledge_base().topics if t.section == "Q&A"]
            normal_user(url, questions, len(questions))  # warm-up
            quiet = normal_user(url, questions, count)
            stop = threading.Event()
            load = threading.Thread(
                target=_hanging_chats, args=(servers, secret, questions[0], stop), daemon=True
            )
            load.start()
            deadline = time.monotonic() + 30
            while api.sends < HANGING_SENDS and time.monotonic() < deadline:
                time.sleep(0.05)  # every chat's reply is hanging before the bystander starts
            try:
                loaded: List[float] = normal_user(url, questions, count)
            finally:
                stop.set()
                sends = api.sends
                api.stop.set()  # the fake answers the hanging calls now; the load thread ends
                load.join(timeout=HANG_SECONDS * 4)
    quiet_p95, loaded_p95 = percentile(quiet, 0.95), percentile(loaded, 0.95)
    return {
        "hang_quiet_p95_ms": quiet_p95,
        "hang_loaded_p95_ms": loaded_p95,
        "hang_ratio": loaded_p95 / quiet_p95,
        "hang_sends": float(sends),
    }


def format_hanging_platform(figures: Dict[str, float]) -> str:
    """One line for the benchmark table."""
    return (
        f"Slow platform ({HANGING_SENDS} Telegram sends hanging {HANG_SECONDS:.0f} s): REST bystander p95"
        f" {figures['hang_loaded_p95_ms']:.1f} ms vs quiet {figures['hang_quiet_p95_ms']:.1f} ms ="
        f" {figures['hang_ratio']:.2f}x (target <= {TARGET_RATIO}); {figures['hang_sends']:.0f} sends hung"
    )


def main() -> None:
    """Start real servers, measure, print."""
    parser = argparse.ArgumentParser(prog="python -m vraagbaak.bench.fairness", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--same-client", action="store_true", help="one connection and one sender throughout")
    parser.add_argument("--platform-only", action="store_true", help="only the hanging-platform line")
    args = parser.parse_args()
    if args.platform_only:
        with tempfile.TemporaryDirectory() as tmp:
            hanging = measure_hanging_platform(DEFAULT_MODEL, Path(tmp), args.requests)
        print(json.dumps(hanging, indent=2))
        print(format_hanging_platform(hanging))
        return
    with tempfile.TemporaryDirectory() as tmp, running_servers(DEFAULT_MODEL, Path(tmp)) as servers:
        figures = measure_fairness(servers, args.requests, fresh=not args.same_client)
    print(json.dumps(figures, indent=2))
    print(format_fairness(figures))


if __name__ == "__main__":
    main()
