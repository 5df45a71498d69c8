"""Robustness figures: a normal user's latency and Rasa's peak memory while another client floods 100 KB messages.

    python -m vraagbaak.bench.robustness      # on its own; `make bench` runs it in the same server run
"""
from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List, Sequence

import requests

from vraagbaak.core.knowledge_base import knowledge_base
from vraagbaak.core.settings import DEFAULT_MODEL
from vraagbaak.evaluation.offline import percentile
from vraagbaak.ops.processes import LOAD_TOOL_ENV, RunningServers, running_servers
from vraagbaak.ops.processes import process_rss_mb as rss_mb

OVERSIZED = "a" * (100 * 1024)
TARGET_RATIO = 1.5
TARGET_PEAK_MB = 1536


def normal_user(url: str, questions: Sequence[str], count: int) -> List[float]:
    """Round trips in ms for one user asking questions in conversations of ten."""
    timings, sender = [], ""
    for i in range(count):
        if i % 10 == 0:
            sender = f"bench-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        reply = requests.post(
            url, json={"sender": sender, "message": questions[i % len(questions)]}, timeout=60
        )
        timings.append((time.perf_counter() - started) * 1000)
        if reply.status_code != 200 or not reply.json():
            raise RuntimeError(f"geen antwoord (status {reply.status_code})")
    return timings


def measure_robustness(servers: RunningServers, count: int = 200) -> Dict[str, float]:
    """Quiet p95, p95 while 100 KB messages arrive in a loop, their ratio, and Rasa's peak memory meanwhile."""
    url = f"{servers.rasa_url}/webhooks/rest/webhook"
    questions = [t.official_question for t in knowledge_base().topics if t.section == "Q&A"]
    normal_user(url, questions, len(questions))  # warm-up
    quiet = normal_user(url, questions, count)
    stop = threading.Event()
    flood_count = [0]
    peak = [rss_mb(servers.rasa.pid)]

    def flood() -> None:
        while not stop.is_set():
            requests.post(url, json={"sender": "flood", "message": OVERSIZED}, timeout=60)
            flood_count[0] += 1

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb(servers.rasa.pid))
            time.sleep(0.05)

    threads = [threading.Thread(target=flood, daemon=True), threading.Thread(target=sample, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        loaded = normal_user(url, questions, count)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=70)
    quiet_p95, loaded_p95 = percentile(quiet, 0.95), percentile(loaded, 0.95)
    return {
        "quiet_p95_ms": quiet_p95,
        "flooded_p95_ms": loaded_p95,
        "flooded_p50_ms": statistics.median(loaded),
        "flood_ratio": loaded_p95 / quiet_p95,
        "flood_messages": flood_count[0],
        "flood_peak_rss_mb": peak[0],
    }


def format_robustness(figures: Dict[str, float]) -> str:
    """One line for the benchmark table."""
    return (
        f"Robustness (100 KB flood):       p95 {figures['flooded_p95_ms']:.1f} ms vs quiet"
        f" {figures['quiet_p95_ms']:.1f} ms = {figures['flood_ratio']:.2f}x (target < {TARGET_RATIO}),"
        f" Rasa peak {figures['flood_peak_rss_mb']:.0f} MB (target < {TARGET_PEAK_MB}),"
        f" {figures['flood_messages']:.0f} oversized messages"
    )


def main() -> None:
    """Start real servers, measure, print."""
    with tempfile.TemporaryDirectory() as tmp, running_servers(
        DEFAULT_MODEL, Path(tmp), extra_env=LOAD_TOOL_ENV
    ) as servers:
        figures = measure_robustness(servers)
    print(json.dumps(figures, indent=2))
    print(format_robustness(figures))


if __name__ == "__main__":
    main()
