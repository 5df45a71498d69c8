"""Fair turns: a bystander's latency and Rasa's peak memory while one connection floods and one REST sender bursts.

    python -m vraagbaak.bench.fairness      # on its own; `make bench` runs it on servers of its own

The servers run with the production limits (unlike the latency servers, whose simulated users are machines).
For the whole measured run, every second, a socket.io connection sends 600 frames at once and a REST sender 20
concurrent messages; with `fresh=True` (the default) each round is a new connection and a new sender, so every
round passes a full bucket (the harder case: one connection that stays is held to one message a second).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Dict

from vraagbaak.bench.hostile_clients import flood_socket, new_client, open_socket, rest_burst
from vraagbaak.bench.robustness import TARGET_PEAK_MB, TARGET_RATIO, normal_user
from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.paths import MODELS_DIR
from vraagbaak.evaluation.offline import percentile
from vraagbaak.ops.processes import RunningServers, running_servers
from vraagbaak.ops.processes import process_rss_mb as rss_mb

FRAMES = 600
REST_BURST = 20
ROUND_SECONDS = 1.0


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


def main() -> None:
    """Start real servers, measure, print."""
    parser = argparse.ArgumentParser(prog="python -m vraagbaak.bench.fairness", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--same-client", action="store_true", help="one connection and one sender throughout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_servers(
        MODELS_DIR / "vraagbaak.tar.gz", Path(tmp)
    ) as servers:
        figures = measure_fairness(servers, args.requests, fresh=not args.same_client)
    print(json.dumps(figures, indent=2))
    print(format_fairness(figures))


if __name__ == "__main__":
    main()
